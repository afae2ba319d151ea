"""The user's decisions in a run: approve a checkpoint, revise tasks, retry or skip after a halt, abort,
replan, allow external dispatch, resume a paused run. Each needs the user's own reply, written after the moment
that asked for it and naming the decision (``clavain.run.evidence``, ``clavain.run.replies``); nothing here
decides on its own. Before each, the project is compared with its snapshot at the checkpoint: changes made
while the run waited are shown to the user once, and only their next reply goes on. Also ``must-haves`` and
``finish``, and the model's ``pause``.
"""

from __future__ import annotations

from pathlib import Path

from clavain.core.errors import BadInput, Refused
from clavain.run.engine import Outcome, Session, has_must_haves, session, task_record, task_states
from clavain.run.rules import (CLI, FINISHED, check_allowed, check_finish, check_halted_on, find_task, next_command,
                               refuse)

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
    s.record("changes_seen", {"paths": paths, "snapshot": now, "before": waited_from(st)})
    from clavain.run.report import write_changes_report

    report = s.folder.rel(write_changes_report(s.folder, s.state))
    listed = ", ".join(paths[:12]) + (f" and {len(paths) - 12} more" if len(paths) > 12 else "")
    raise refuse(s.state, f"the project changed while the run waited for the user: {listed} (report: {report}). "
                          f"Show the user these changes; their next reply decides, and accepts the changes")


def waited_from(st) -> Optional[str]:
    """The project as it stood when the run came to wait (before any change made while it waited)."""
    return (st.changes_seen or {}).get("before") or st.checkpoint_snapshot


def _plan_in_repo(s: Session) -> Optional[str]:
    """The plan's path from the repository's top (how snapshots name it), or None."""
    from clavain.run import snapshot

    top = s.top()
    return snapshot.Placement(s.project, top).rel(s.plan_path()) if top else None


def _report_rel(s: Session, name: str) -> str:
    return s.folder.rel(s.folder.dir / name)


def approve(project: Path, run_id: Optional[str], env: Mapping[str, str], note: Optional[str] = None) -> Outcome:
    from clavain.run.report import checkpoint_report, render_brief

    with session(project, run_id, env) as s:
        st = s.state
        if st.state != "awaiting_approval":
            raise refuse(st, f"there is no checkpoint to approve: the run is {st.state.replace('_', ' ')}")
        k = st.batch
        _changes_while_waiting(s)
        ev = _user_word(s, st.checkpoint_epoch or 0.0, f"approving batch {k}",
                        f"the batch {k} report ({_report_rel(s, checkpoint_report(st))})", "approve")
        effects = approval_effects(st)
        s.record("approved", {"action": "approve", "note": note, "evidence": ev, "level": s.level(), **effects})
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
    from clavain.run.report import new_batch_report, render_brief, write_batch_report

    with session(project, run_id, env) as s:
        st = s.state
        try:
            digest = plan_digest(s.plan_text(), ticks=st.pin_ticks)
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
        kept = _keep_finished(st, tasks, plan)
        first_open = next((t.batch for t in tasks if t.status not in FINISHED), None)
        current = first_open or len(batches)
        # the batch just before the first open task holds finished work the user has not approved yet
        closed = first_open - 1 if first_open is not None else len(batches)
        unapproved = set(st.batches[st.batch - 1]) if st.halt.from_state == "awaiting_approval" else set()
        waiting = closed >= 1 and not unapproved.isdisjoint(batches[closed - 1].tasks)
        if waiting:
            current = closed
        kept_plan = s.folder.plan_record(plan)
        s.record("replanned", {"action": "replan", "evidence": ev, "level": s.level(), "plan_sha256": digest,
                               "plan_json_sha256": kept_plan.digest,
                               "has_must_haves": has_must_haves(plan), "checklist": plan.must_haves.checklist,
                               "batches": [b.tasks for b in batches], "groups": [b.groups for b in batches],
                               "tasks": [task_record(t) for t in tasks], "batch": current,
                               "approved_batches": list(range(1, current)),
                               "state": "awaiting_approval" if waiting else "running",
                               **({"report": new_batch_report(s.folder, current)} if waiting else {})})
        s.folder.keep_plan(kept_plan)
        text = (f"plan re-read: {len(tasks)} tasks in {len(batches)} batches; kept {len(kept)} finished "
                f"task(s) whose text did not change{': ' + ', '.join(kept) if kept else ''}\n\n")
        data = {"kept": kept, "evidence": ev}
        if waiting:
            data["report"] = s.folder.rel(write_batch_report(s.folder, s.state))
            text += (f"batch {current} is back at its checkpoint: the user's reply confirmed the changed plan, "
                     f"not the batch. Show the user {data['report']} and wait for their reply")
        else:
            text += render_brief(s.folder, s.state, plan)
        return Outcome(s.state, text, data)


def _keep_finished(old, tasks, plan) -> list[str]:
    """Copy each finished task whose text did not change into ``tasks``; return their ids."""
    kept = []
    for task in tasks:
        try:
            before = old.task(task.id)
        except KeyError:
            continue
        same = (task.text_sha256, _unticked(plan.task(task.id).text, before.ticked))
        if before.status in FINISHED and before.text_sha256 in same:
            kept.append(task.id)
            for name in ("status", "attempts", "head_at_start", "output", "output_sha256", "files_changed",
                         "verify", "verified", "reason", "snapshot_start", "snapshot_done", "unchanged", "commit",
                         "ticked"):
                setattr(task, name, getattr(before, name))
    return kept


def _unticked(text: str, ticked: list[int]) -> Optional[str]:
    """The digest of a task's text with the run's own ticks taken back (a ticked task's text is still its own)."""
    if not ticked:
        return None
    from clavain.core.digest import sha256_hex, without_ticks

    lines = text.split("\n")
    for offset in ticked:
        if 0 <= offset < len(lines):
            lines[offset] = without_ticks(lines[offset])
    return sha256_hex("\n".join(lines).encode("utf-8"))


def must_haves(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    """Check the plan's Must-Haves. Once every task is finished and the last batch approved, a missing one
    halts the run (rule 4): the user chooses ``revise`` or ``accept``. Before that, it only reports."""
    with session(project, run_id, env) as s:
        if s.state.state not in ("running", "awaiting_approval", "halted"):
            raise refuse(s.state, f"the run is {s.state.state}")
        report = _check_must_haves(s)
        text = _must_haves_text(report)
        if _halts_on(s.state, report):
            _halt_missing(s, report, text)
        if report.get("missing") and not at_finish(s.state):
            text += ("\nnote: tasks are still open; what is missing now may come with them. The check that counts "
                     f"runs when the last batch is approved ({CLI} must-haves, or {CLI} finish)")
        return Outcome(s.state, text, {"must_haves": report})


def at_finish(st) -> bool:
    """Every task finished and the last batch approved: what is missing now stays missing."""
    return st.state == "running" and len(st.batches) in st.approved_batches and all(
        status in FINISHED for _, status in st.statuses())


def _halts_on(st, report: dict) -> bool:
    """Items are missing at the finish, other than those the user accepted."""
    from clavain.run.musthaves import MISSING, summary

    missing = [i["what"] for i in summary(report)["items"] if i["status"] == MISSING]
    accepted = set((st.accepted or {}).get("missing", []))
    return at_finish(st) and any(m not in accepted for m in missing)


def _halt_missing(s: Session, report: dict, text: str):
    from clavain.run.musthaves import MISSING, summary

    missing = [i["what"] for i in summary(report)["items"] if i["status"] == MISSING]
    s.halt("must_haves_missing", f"Must-Haves missing: {', '.join(missing[:8])}"
                                 + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
    report_rel = s.folder.rel(s.folder.dir / s.state.halt.report)
    raise Refused(f"{text}\n\nthe run is halted: Must-Haves are missing\nhalt report: {report_rel}\nshow the user "
                  f"the report and wait for their decision: revise the tasks that fix it, or accept finishing "
                  f"without it", next_command=next_command(s.state))


def _check_must_haves(s: Session) -> dict:
    from clavain.run.declared import touches
    from clavain.run.musthaves import check_must_haves

    report = check_must_haves(s.read_plan().must_haves, s.project).to_dict()
    for kind, key in (("artifacts", "what"), ("key_links", "from")):
        for item in report[kind]:
            if item.get("ok") is False:   # the tasks that declare the file: what the user may ask to revise
                item["tasks"] = [t.id for t in s.state.tasks if any(touches(d, str(item.get(key) or ""))
                                                                      for d in t.declared)]
    s.record("must_haves", {"report": report})
    return report


def _must_haves_text(report: dict) -> str:
    from clavain.run.musthaves import summary
    from clavain.run.report import render

    return render("must_haves.md.j2", must_haves=summary(report)).strip()


def finish(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    """Write the final report. The plan's Must-Haves are checked again first; a missing one halts the run
    until the user decides (``revise`` or ``accept``)."""
    from clavain.run.report import write_final_report

    with session(project, run_id, env) as s:
        check_finish(s.state)
        if s.state.has_must_haves:
            report = _check_must_haves(s)
            if _halts_on(s.state, report):
                _halt_missing(s, report, _must_haves_text(report))
        s.record("finished", {})
        path = write_final_report(s.folder, s.state)
        return Outcome(s.state, f"run {s.state.run_id} finished; final report: {s.folder.rel(path)}",
                       {"report": s.folder.rel(path)})


def accept(project: Path, run_id: Optional[str], reason: str, env: Mapping[str, str]) -> Outcome:
    """The user finishes without the missing Must-Haves (after the halt that named them)."""
    from clavain.run.musthaves import MISSING, summary

    with session(project, run_id, env) as s:
        st = s.state
        check_allowed(st, "accept", "accept the missing Must-Haves")
        if st.halt is None or st.halt.kind != "must_haves_missing":
            raise refuse(st, f"accept answers a halt on missing Must-Haves; this run is halted because "
                             f"{st.halt.reason if st.halt else 'of something else'}")
        if not reason.strip():
            raise BadInput("--reason must say why the run may finish without them (the user's words)",
                           next_command=f"{CLI} accept --reason TEXT")
        _changes_while_waiting(s)
        ev = _user_word(s, st.halt.epoch, "finishing without the missing Must-Haves",
                        f"the halt report ({_report_rel(s, st.halt.report)})", "accept")
        missing = [i["what"] for i in summary(st.must_haves)["items"] if i["status"] == MISSING]
        s.record("accepted", {"action": "accept", "note": " ".join(reason.split()), "missing": missing,
                              "evidence": ev, "level": s.level()})
        return Outcome(s.state, f"the user accepts finishing without: {', '.join(missing)} (\"{_short(reason, 200)}\")",
                       {"accepted": missing, "evidence": ev})


def rollback(project: Path, run_id: Optional[str], task_id: str, env: Mapping[str, str]) -> Outcome:
    """After the user's reply naming it: the project goes back to where task N started (what the run changed
    since, and only that), and N and the tasks after it in the batch are open again."""
    from clavain.core.files import crash_point
    from clavain.run.rollback import Span, interrupted, take_back

    with session(project, run_id, env) as s:
        st = s.state
        task = find_task(st, task_id)
        check_allowed(st, "rollback", f"roll back task {task.id}")
        if st.halt is not None and st.halt.kind in ("plan_changed", "tampered", "plugin_changed"):
            raise refuse(st, f"the run is halted because {st.halt.reason}; that comes first")
        order = [t for t in st.tasks if t.id in {*st.reopened, *st.batches[st.batch - 1]}]
        if task not in order:
            raise refuse(st, f"task {task.id} is not in batch {st.batch}; rollback undoes tasks of the batch under "
                             f"review (for earlier work, ask the user about a new task or replan)")
        undone = [t for t in order[order.index(task):] if t.status in ("done", "failed", "running")]
        if task not in undone or not task.snapshot_start:
            raise refuse(st, f"task {task.id} is {task.status}" + ("" if task.snapshot_start else
                             ", with no record of its start (outside git, or started by an earlier version)")
                         + "; there is nothing to roll back")
        spans = [Span(t.id, t.snapshot_start, t.snapshot_done or waited_from(st), t.commit)
                 for t in undone if t.snapshot_start]
        if not interrupted(s.project, spans, waited_from(st), _plan_in_repo(s)):
            _changes_while_waiting(s)
        since = st.halt.epoch if st.state == "halted" and st.halt else st.checkpoint_epoch or 0.0
        shown = f"the halt report ({_report_rel(s, st.halt.report)})" if st.state == "halted" and st.halt else \
            f"the batch {st.batch} report"
        ev = _user_word(s, since, f"rolling back task {task.id}", shown, "rollback", (task.id,))
        back = take_back(s.project, spans, _plan_in_repo(s), next_command(st))
        _untick(s, undone)
        crash_point("rollback")
        s.record("rolled_back", {"action": "rollback", "task": task.id, "reopened": [t.id for t in undone],
                                 "restored": back.restored, "kept": back.kept, "commits": back.commits,
                                 **({"head": back.head} if back.head else {}), "evidence": ev, "level": s.level()})
        lines = [f"the project is back where task {task.id} started (the user said: \"{_short(ev['text'])}\")",
                 f"files restored: {', '.join(back.restored) or 'none'}"]
        if back.commits:
            lines.append(f"commits undone (still in git's reflog): {'; '.join(back.commits)}")
        if back.kept:
            lines.append("left alone (changed since the run's tasks made them, or could not be put back): "
                         + ", ".join(back.kept))
        lines.append(f"task(s) {', '.join(t.id for t in undone)} are open again")
        return Outcome(s.state, "\n".join(lines), {"task": task.id, "restored": back.restored, "kept": back.kept,
                                                   "commits": back.commits, "evidence": ev})


def _untick(s: Session, tasks) -> None:
    """Take back the plan ticks of the tasks rolled back."""
    from clavain.run.ticks import untick

    ticked = [t for t in tasks if t.ticked]
    if not ticked:
        return
    plan = s.read_plan()
    for t in ticked:
        untick(s.plan_path(), plan.task(t.id).line, t.ticked)
    s._plan_text = None


# ------------------------------------------------------------------------------ revise, pause, resume

def revise(project: Path, run_id: Optional[str], task_ids: list[str], note: str, env: Mapping[str, str]) -> Outcome:
    """The user asked for changes: reopen those tasks of the current batch with the user's note, return the
    run to running; the batch is checkpointed again after them. After a halt on missing Must-Haves, any finished
    task may be reopened: tasks of earlier batches are done first, and the last batch is checkpointed again."""
    from clavain.run.report import render_brief

    with session(project, run_id, env) as s:
        st = s.state
        if st.state not in ("awaiting_approval", "halted"):
            raise refuse(st, f"revise answers a batch report or a halt report; the run is {st.state.replace('_', ' ')}")
        tasks = [find_task(st, task_id) for task_id in dict.fromkeys(task_ids)]
        after_must_haves = st.state == "halted" and st.halt is not None and st.halt.kind == "must_haves_missing"
        outside = [t.id for t in tasks if t.batch != st.batch and not after_must_haves]
        if after_must_haves and any(t.status not in FINISHED for t in tasks):
            raise refuse(st, f"task(s) {', '.join(t.id for t in tasks if t.status not in FINISHED)} are not finished; "
                             f"revise reopens finished tasks")
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
        earlier = [t.id for t in tasks if t.batch != st.batch] if after_must_haves else []
        s.record("revised", {"action": "revise", "revised": list(ids), "task": ids[0], "note": note.strip(),
                             "evidence": ev, "level": s.level(), **({"earlier": earlier} if earlier else {}),
                             **({"reopen_batch": True} if after_must_haves and st.batch in st.approved_batches
                                else {})})
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
