"""The user's decisions in a run: approve a checkpoint, retry or skip after a halt, abort, replan, allow
external dispatch. Each needs the user's own words recorded after the moment that asked for them
(``clavain.evidence.find_user_prompt``); nothing here approves itself. Also ``must-haves`` and ``finish``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from clavain.core.errors import BadInput
from clavain.run.engine import Outcome, Session, has_must_haves, session, task_record, task_states
from clavain.run.rules import CLI, FINISHED, check_finish, check_halted_on, find_task, refuse


def _user_word(s: Session, since: float, action: str, show: str) -> dict:
    """The evidence that the user spoke after ``since``, as the journal records it; or a refusal."""
    from clavain.run.evidence import find_user_prompt

    since = max(since, s.state.last_evidence_epoch)
    evidence, why = find_user_prompt(s.folder.dir, since)
    if evidence is None:
        raise refuse(s.state, f"{action} needs the user's own reply, written after {show} was shown to them; "
                              f"none counts yet ({why}). Show it to the user and wait for their answer; "
                              f"never answer for them")
    return evidence.to_dict()


def _report_rel(s: Session, name: str) -> str:
    return s.folder.rel(s.folder.dir / name)


def approve(project: Path, run_id: Optional[str], env: Mapping[str, str], note: Optional[str] = None) -> Outcome:
    from clavain.run.report import render_brief, write_batch_report

    with session(project, run_id, env) as s:
        st = s.state
        if st.state != "awaiting_approval":
            raise refuse(st, f"there is no checkpoint to approve: the run is {st.state.replace('_', ' ')}")
        k = st.batch
        ev = _user_word(s, st.checkpoint_epoch or 0.0, f"approving batch {k}", _report_rel(s, f"batches/batch-{k}.md"))
        effects = approval_effects(st)
        s.record("approved", {"action": "approve", "note": note, "evidence": ev, **effects})
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
        ev = _user_word(s, s.state.halt.epoch, f"retrying task {task.id}", _report_rel(s, s.state.halt.report))
        s.record("retried", {"action": "retry", "task": task.id, "evidence": ev})
        return Outcome(s.state, f"task {task.id} will be retried (the user said: \"{_short(ev['text'])}\")",
                       {"task": task.id, "evidence": ev})


def skip(project: Path, run_id: Optional[str], task_id: str, reason: str, env: Mapping[str, str]) -> Outcome:
    with session(project, run_id, env) as s:
        task = find_task(s.state, task_id)
        check_halted_on(s.state, task, "skip")
        if not reason.strip():
            raise BadInput("--reason must say why the task is skipped",
                           next_command=f"{CLI} skip {task.id} --reason TEXT")
        ev = _user_word(s, s.state.halt.epoch, f"skipping task {task.id}", _report_rel(s, s.state.halt.report))
        s.record("skipped", {"action": "skip", "task": task.id, "reason": reason.strip(), "evidence": ev})
        return Outcome(s.state, f"task {task.id} skipped: {reason.strip()}", {"task": task.id, "evidence": ev})


def abort(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    """Abort the run after the user's word; a run whose state is lost is retired (``clavain.run.retire``)."""
    from clavain.run.folder import RunLost

    try:
        return _abort(project, run_id, env)
    except RunLost as lost:
        from clavain.run.retire import retire

        return retire(lost.folder)


def _abort(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    from clavain.run.report import write_final_report

    with session(project, run_id, env, check_plan=False) as s:
        st = s.state
        if st.state in ("finished", "aborted"):
            raise refuse(st, f"the run is already {st.state}")
        since = {"halted": st.halt.epoch if st.halt else 0.0,
                 "awaiting_approval": st.checkpoint_epoch or 0.0}.get(st.state, st.started_epoch)
        shown = _report_rel(s, st.halt.report) if st.state == "halted" and st.halt else "the run's status"
        ev = _user_word(s, since, "aborting the run", shown)
        s.record("aborted", {"action": "abort", "evidence": ev})
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
        ev = _user_word(s, st.external_requested_epoch, "allowing external dispatch", "the request")
        s.record("external_allowed", {"action": "allow-external", "evidence": ev})
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
        ev = _user_word(s, st.halt.epoch, "replanning", f"the changed plan {st.plan}")
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
        s.record("replanned", {"action": "replan", "evidence": ev, "plan_sha256": digest,
                               "has_must_haves": has_must_haves(plan), "checklist": plan.must_haves.checklist,
                               "batches": [b.tasks for b in batches], "groups": [b.groups for b in batches],
                               "tasks": [task_record(t) for t in tasks], "batch": current,
                               "approved_batches": list(range(1, current)),
                               "state": "awaiting_approval" if waiting else "running"})
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
