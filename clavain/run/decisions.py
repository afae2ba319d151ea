"""The user's decisions in a run: approve a checkpoint, revise tasks, retry or skip after a halt, abort,
replan, allow external dispatch, resume a paused run. Each needs the user's own reply, written after the moment
that asked for it and naming the decision (``clavain.run.evidence``, ``clavain.run.replies``); nothing here
decides on its own. Before each, the project is compared with its snapshot at the checkpoint: changes made
while the run waited are shown to the user once, and only their next reply goes on. Also ``must-haves`` and
``finish``, and the model's ``pause``.
"""

from __future__ import annotations

from pathlib import Path

from clavain.core.errors import BadInput
from clavain.run.engine import Outcome, Session, has_must_haves, session, task_record, task_states
from clavain.run.rules import CLI, FINISHED, check_finish, check_halted_on, find_task, refuse

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Mapping, Optional


def _user_word(s: Session, since: float, action: str, show: str, decision: str,
               tasks: tuple[str, ...] = (), question: str = "") -> dict:
    """The evidence that the user took ``decision`` after ``since``, as the journal records it; or a refusal
    that says what to do (show the report, ask, wait). The user's reply must also come after changes made
    while the run waited were shown to them."""
    from clavain.run.evidence import PROMPT_RECORD, Ask, find_reply
    from clavain.run.replies import canonical
    from clavain.run.witness import record

    st = s.state
    since = max(since, st.last_evidence_epoch, (st.changes_seen or {}).get("epoch", 0.0))
    ask = Ask(decision, since, batch=st.batch, tasks=tasks, question=question)
    evidence, why = find_reply(s.folder.dir, ask, s.env, witnessed=record(s.env, s.project, st.run_id),
                               opt_in=st.approval_evidence == PROMPT_RECORD, project=s.project,
                               records_from=st.prompts_offset)
    if evidence is None:
        raise refuse(st, f"{action} needs the user's own reply to {show}, written after it was shown to them and "
                         f"saying `{canonical(decision, st.batch, tasks)}` or plainly agreeing; none counts yet "
                         f"({why}). Show the user the report and ask; never answer for them")
    return evidence.to_dict()


def _changes_while_waiting(s: Session) -> None:
    """Refuse once, with the changed paths, when the project changed since the checkpoint's snapshot; the
    user's next reply (after they see the list) accepts the changes, whoever made them."""
    from clavain.run import snapshot

    st = s.state
    if not st.checkpoint_snapshot or st.state not in ("awaiting_approval", "halted", "paused"):
        return
    now = snapshot.take(s.project)
    if now is None or now == st.checkpoint_snapshot:
        return
    paths = snapshot.changed(s.project, st.checkpoint_snapshot, now, plan=_plan_in_repo(s))
    if not paths:
        return
    s.record("changes_seen", {"paths": paths, "snapshot": now})
    from clavain.run.report import write_changes_report

    report = s.folder.rel(write_changes_report(s.folder, s.state))
    listed = ", ".join(paths[:12]) + (f" and {len(paths) - 12} more" if len(paths) > 12 else "")
    raise refuse(s.state, f"the project changed while the run waited for the user: {listed} (report: {report}). "
                          f"Show the user these changes; their next reply decides, and accepts the changes")


def _plan_in_repo(s: Session) -> Optional[str]:
    from clavain.run import snapshot

    top = snapshot.top(s.project)
    try:
        return s.plan_path().relative_to(top.resolve()).as_posix() if top else None
    except ValueError:
        return None


def _report_rel(s: Session, name: str) -> str:
    return s.folder.rel(s.folder.dir / name)


def approve(project: Path, run_id: Optional[str], env: Mapping[str, str], note: Optional[str] = None) -> Outcome:
    from clavain.run.report import render_brief, write_batch_report

    with session(project, run_id, env) as s:
        st = s.state
        if st.state != "awaiting_approval":
            raise refuse(st, f"there is no checkpoint to approve: the run is {st.state.replace('_', ' ')}")
        k = st.batch
        _changes_while_waiting(s)
        ev = _user_word(s, st.checkpoint_epoch or 0.0, f"approving batch {k}",
                        f"the batch {k} report ({_report_rel(s, f'batches/batch-{k}.md')})", "approve")
        effects = approval_effects(st)
        s.record("approved", {"action": "approve", "note": note, "evidence": ev, "level": s.level(), **effects})
        write_batch_report(s.folder, s.state, k)
        text = f"batch {k} approved by the user ({ev['source']}: \"{_short(ev['text'])}\")"
        if effects.get("passed"):
            text += (f"; batch(es) {', '.join(map(str, effects['passed']))} hold only tasks the plan checks off, "
                     "confirmed with this approval")
        if s.state.batch not in s.state.approved_batches:
            text += "\n\n" + render_brief(s.folder, s.state, s.read_plan())
        return Outcome(s.state, text, {"approved_batch": k, "evidence": ev})


def approval_effects(st) -> dict:
    """What the user's approval of the current batch settles besides the batch: its checkpoint tasks (the
    user's, done by the user) and the batches after it that hold only tasks the plan checks off, which the
    first checkpoint confirmed (they need no checkpoint of their own)."""
    k = st.batch
    effects: dict = {}
    user_done = [t.id for t in st.batch_tasks(k) if t.ask_user is not None and t.status == "pending"]
    if user_done:
        effects["user_done"] = user_done
    passed = []
    for later in range(k + 1, len(st.batches) + 1):
        if not all(t.checked_in_plan and t.status == "skipped" for t in st.batch_tasks(later)):
            break
        passed.append(later)
    if passed:
        effects["passed"] = passed
    return effects


def _short(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def retry(project: Path, run_id: Optional[str], task_id: str, env: Mapping[str, str]) -> Outcome:
    with session(project, run_id, env) as s:
        task = find_task(s.state, task_id)
        check_halted_on(s.state, task, "retry")
        _changes_while_waiting(s)
        ev = _user_word(s, s.state.halt.epoch, f"retrying task {task.id}",
                        f"the halt report ({_report_rel(s, s.state.halt.report)})", "retry", (task.id,))
        s.record("retried", {"action": "retry", "task": task.id, "evidence": ev, "level": s.level()})
        return Outcome(s.state, f"task {task.id} will be retried (the user said: \"{_short(ev['text'])}\")",
                       {"task": task.id, "evidence": ev})


def skip(project: Path, run_id: Optional[str], task_id: str, reason: str, env: Mapping[str, str]) -> Outcome:
    with session(project, run_id, env) as s:
        task = find_task(s.state, task_id)
        check_halted_on(s.state, task, "skip")
        if not reason.strip():
            raise BadInput("--reason must say why the task is skipped",
                           next_command=f"{CLI} skip {task.id} --reason TEXT")
        _changes_while_waiting(s)
        ev = _user_word(s, s.state.halt.epoch, f"skipping task {task.id}",
                        f"the halt report ({_report_rel(s, s.state.halt.report)})", "skip", (task.id,))
        s.record("skipped", {"action": "skip", "task": task.id, "reason": reason.strip(), "evidence": ev,
                             "level": s.level()})
        return Outcome(s.state, f"task {task.id} skipped: {reason.strip()}", {"task": task.id, "evidence": ev})


def abort(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    """Abort the run after the user's word; a run whose state is lost is retired (``clavain.run.retire``)."""
    from clavain.run.folder import RunLost

    try:
        return _abort(project, run_id, env)
    except RunLost as lost:
        from clavain.run.retire import retire

        return retire(lost.folder, env)


def _abort(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    from clavain.run.report import write_final_report

    with session(project, run_id, env, check_plan=False) as s:
        st = s.state
        if st.state in ("finished", "aborted"):
            raise refuse(st, f"the run is already {st.state}")
        since = {"halted": st.halt.epoch if st.halt else 0.0, "awaiting_approval": st.checkpoint_epoch or 0.0,
                 "paused": (st.pause or {}).get("epoch", 0.0)}.get(st.state, st.started_epoch)
        shown = f"the halt report ({_report_rel(s, st.halt.report)})" if st.state == "halted" and st.halt else \
            "the run's report"
        ev = _user_word(s, since, "aborting the run", shown, "abort")
        s.record("aborted", {"action": "abort", "evidence": ev, "level": s.level()})
        path = write_final_report(s.folder, s.state)
        return Outcome(s.state, f"run {st.run_id} aborted by the user; report: {s.folder.rel(path)}",
                       {"evidence": ev, "report": s.folder.rel(path)})


def allow_external(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    with session(project, run_id, env) as s:
        st = s.state
        if st.dispatch == "external":
            return Outcome(st, "external dispatch is already allowed for this run")
        if st.external_requested_epoch is None:
            raise refuse(st, "no external dispatch was requested; the run stays local (start a run with "
                             "--dispatch external to ask the user)")
        ev = _user_word(s, st.external_requested_epoch, "allowing external dispatch", "the request",
                        "allow-external")
        s.record("external_allowed", {"action": "allow-external", "evidence": ev, "level": s.level()})
        return Outcome(s.state, "external dispatch allowed by the user", {"evidence": ev, "dispatch": "external"})


def replan(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    """Rule 6: re-read a changed plan, keeping finished tasks whose text did not change.

    Batches before the first unfinished task count as approved: the user's reply confirmed the changed plan.
    If the run was waiting at a checkpoint and the last of those batches holds tasks of the batch that was
    waiting, the run waits at that batch's checkpoint again: the reply confirmed the change, not the batch."""
    from clavain.plan.batching import make_batches
    from clavain.core.digest import plan_digest
    from clavain.run.report import render_brief, write_batch_report

    with session(project, run_id, env) as s:
        st = s.state
        try:
            digest = plan_digest(s.plan_text())
        except BadInput:
            raise BadInput(f"the plan {st.plan} cannot be read", path=st.plan,
                           next_command=f"restore the plan, then {CLI} replan") from None
        if digest == st.plan_sha256:
            raise refuse(st, f"the plan {st.plan} has not changed; there is nothing to replan")
        if st.halt is None or st.halt.kind != "plan_changed":
            raise refuse(st, f"replan re-reads a plan that changed mid-run; this run is {st.state.replace('_', ' ')}"
                             + (f" ({st.halt.kind.replace('_', ' ')})" if st.halt else ""))
        ev = _user_word(s, st.halt.epoch, "replanning", f"the halt report on the changed plan {st.plan}", "replan")
        plan = s.read_plan()
        batches = make_batches(plan, st.batch_size)
        tasks = task_states(plan, batches)
        kept = _keep_finished(st, tasks)
        first_open = next((t.batch for t in tasks if t.status not in FINISHED), None)
        current = first_open or len(batches)
        # the batch just before the first open task holds finished work the user has not approved yet
        closed = first_open - 1 if first_open is not None else len(batches)
        unapproved = set(st.batches[st.batch - 1]) if st.halt.from_state == "awaiting_approval" else set()
        waiting = closed >= 1 and not unapproved.isdisjoint(batches[closed - 1].tasks)
        if waiting:
            current = closed
        kept_text, kept_digest = s.folder.plan_record(plan)
        s.record("replanned", {"action": "replan", "evidence": ev, "level": s.level(), "plan_sha256": digest,
                               "plan_json_sha256": kept_digest,
                               "has_must_haves": has_must_haves(plan), "checklist": plan.must_haves.checklist,
                               "batches": [b.tasks for b in batches], "groups": [b.groups for b in batches],
                               "tasks": [task_record(t) for t in tasks], "batch": current,
                               "approved_batches": list(range(1, current)),
                               "state": "awaiting_approval" if waiting else "running"})
        s.folder.keep_plan(kept_text)
        text = (f"plan re-read: {len(tasks)} tasks in {len(batches)} batches; kept {len(kept)} finished "
                f"task(s) whose text did not change{': ' + ', '.join(kept) if kept else ''}\n\n")
        if waiting:
            report = write_batch_report(s.folder, s.state, current)
            text += (f"batch {current} is back at its checkpoint: the user's reply confirmed the changed plan, "
                     f"not the batch. Show the user {s.folder.rel(report)} and wait for their reply")
        else:
            text += render_brief(s.folder, s.state, plan)
        return Outcome(s.state, text, {"kept": kept, "evidence": ev})


def _keep_finished(old, tasks) -> list[str]:
    """Copy each finished task whose text did not change into ``tasks``; return their ids."""
    kept = []
    for task in tasks:
        try:
            before = old.task(task.id)
        except KeyError:
            continue
        if before.status in FINISHED and before.text_sha256 == task.text_sha256:
            kept.append(task.id)
            for name in ("status", "attempts", "head_at_start", "output", "output_sha256", "files_changed",
                         "verify", "verified", "reason"):
                setattr(task, name, getattr(before, name))
    return kept


def must_haves(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    with session(project, run_id, env) as s:
        if s.state.state not in ("running", "awaiting_approval", "halted"):
            raise refuse(s.state, f"the run is {s.state.state}")
        report = _check_must_haves(s)
        return Outcome(s.state, _must_haves_text(report), {"must_haves": report})


def _check_must_haves(s: Session) -> dict:
    from clavain.run.musthaves import check_must_haves

    report = check_must_haves(s.read_plan().must_haves, s.project).to_dict()
    s.record("must_haves", {"report": report})
    return report


def _must_haves_text(report: dict) -> str:
    from clavain.run.report import render

    return render("must_haves.md.j2", must_haves=report).strip()


def finish(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    from clavain.run.report import write_final_report

    with session(project, run_id, env) as s:
        check_finish(s.state)
        if s.state.must_haves is None and has_must_haves(s.read_plan()):
            _check_must_haves(s)
        s.record("finished", {})
        path = write_final_report(s.folder, s.state)
        return Outcome(s.state, f"run {s.state.run_id} finished; final report: {s.folder.rel(path)}",
                       {"report": s.folder.rel(path)})


# ------------------------------------------------------------------------------ revise, pause, resume

def revise(project: Path, run_id: Optional[str], task_ids: list[str], note: str, env: Mapping[str, str]) -> Outcome:
    """The user asked for changes: reopen those tasks of the current batch with the user's note, return the
    run to running; the batch is checkpointed again after them."""
    from clavain.run.report import render_brief

    with session(project, run_id, env) as s:
        st = s.state
        if st.state not in ("awaiting_approval", "halted"):
            raise refuse(st, f"revise answers a batch report or a halt report; the run is {st.state.replace('_', ' ')}")
        tasks = [find_task(st, task_id) for task_id in dict.fromkeys(task_ids)]
        outside = [t.id for t in tasks if t.batch != st.batch]
        if outside:
            raise refuse(st, f"task(s) {', '.join(outside)} are not in batch {st.batch}; revise reopens tasks of the "
                             f"batch under review (for earlier work, ask the user about a new task or replan)")
        if not note.strip():
            raise BadInput("--note must carry what the user asked to change",
                           next_command=f"{CLI} revise {' '.join(t.id for t in tasks)} --note TEXT")
        _changes_while_waiting(s)
        since = st.halt.epoch if st.state == "halted" and st.halt else st.checkpoint_epoch or 0.0
        shown = "the halt report" if st.state == "halted" else f"the batch {st.batch} report"
        ids = tuple(t.id for t in tasks)
        ev = _user_word(s, since, f"revising task(s) {', '.join(ids)}", shown, "revise", ids)
        s.record("revised", {"action": "revise", "revised": list(ids), "task": ids[0], "note": note.strip(),
                             "evidence": ev, "level": s.level()})
        text = (f"task(s) {', '.join(ids)} reopened with the user's note: \"{_short(note, 200)}\"; the batch will "
                f"be checkpointed again after them\n\n" + render_brief(s.folder, s.state, s.read_plan()))
        return Outcome(s.state, text, {"tasks": list(ids), "evidence": ev})


def pause(project: Path, run_id: Optional[str], reason: str, env: Mapping[str, str]) -> Outcome:
    """The model needs the user: record its question; the run waits (read-only) until the user answers."""
    with session(project, run_id, env) as s:
        if s.state.state != "running":
            raise refuse(s.state, f"only a running run can pause; this one is {s.state.state.replace('_', ' ')}")
        if not reason.strip():
            raise BadInput("--reason must carry the question for the user", next_command=f"{CLI} pause --reason TEXT")
        s.record("paused", {"reason": reason.strip(), **s.waiting_marks()})
        return Outcome(s.state, f"run {s.state.run_id} paused: {reason.strip()}\nask the user this question and "
                                f"stop; after their answer, {CLI} resume", {"reason": reason.strip()})


def resume(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    """Go on after the user answered the question the run paused for."""
    with session(project, run_id, env) as s:
        st = s.state
        if st.state != "paused":
            raise refuse(st, f"only a paused run resumes; this one is {st.state.replace('_', ' ')}")
        _changes_while_waiting(s)
        ev = _user_word(s, st.pause["epoch"], "resuming the run", "the question the run paused for", "resume",
                        question=st.pause["reason"])
        s.record("resumed", {"action": "resume", "note": st.pause["reason"], "evidence": ev, "level": s.level()})
        return Outcome(s.state, f"run resumed after the user's answer: \"{_short(ev['text'], 200)}\"",
                       {"evidence": ev})
