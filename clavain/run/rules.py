"""The rules a run holds, as checks that raise ``Refused`` naming the next allowed command. Pure.

Which commands a state allows at all, and which reply each needs, is ``clavain.core.states``: the same table
the hooks' allowlist reads. The checks here add what the table cannot say (task order, open tasks).
"""

from __future__ import annotations


from clavain.core import states
from clavain.core.errors import BadInput, Refused
from clavain.core.paths import OWN_STATE as STATE_DIR
from clavain.run.state import RunState, TaskState

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Optional

CLI = "clavain-cli run"
FINISHED = ("done", "skipped")


def next_command(s: RunState) -> str:
    """The one command that moves this run forward now (what every output and refusal names)."""
    if s.state == "awaiting_approval":
        return (f"{CLI} approve   (only after the user has replied to the batch {s.batch} report; or, when they "
                f"asked for changes, {CLI} revise TASK... --note TEXT)")
    if s.state == "halted":
        return _halt_options(s)
    if s.state == "paused":
        return f"{CLI} resume   (only after the user has answered the question the run paused for)"
    if s.state in ("finished", "aborted"):
        return f"none: the run is {s.state} ({CLI} status --run {s.run_id} shows it)"
    for task_id in [*s.reopened, *s.batches[s.batch - 1]]:  # lazily: stop at the first open task
        task = s.task(task_id)
        if task.status == "running":
            if task.verify_count and not task.verified:
                return f"{CLI} verify {task.id}"
            return f"{CLI} task-done {task.id} --output FILE"
        if task.status == "pending" and task.ask_user is None:   # a checkpoint task is the user's
            return f"{CLI} task-start {task.id}"
    if s.batch in s.approved_batches:  # the last batch, approved
        return f"{CLI} must-haves" if s.has_must_haves and s.must_haves is None else f"{CLI} finish"
    return f"{CLI} checkpoint"


def _halt_options(s: RunState) -> str:
    halt = s.halt
    assert halt is not None
    report = f"{STATE_DIR}/runs/{s.run_id}/{halt.report}"
    if halt.kind == "plan_changed":
        return f"{CLI} replan   (only after the user has confirmed the changed plan), or {CLI} abort"
    if halt.kind in ("tampered", "plugin_changed"):
        return f"{CLI} abort   (only after the user has read {report})"
    if halt.kind == "must_haves_missing":
        return (f"{CLI} revise TASK... --note TEXT | {CLI} accept --reason TEXT | {CLI} abort   "
                f"(only after the user has decided, having read {report})")
    back = f"{CLI} rollback {halt.task} | " if halt.task and s.task(halt.task).snapshot_start else ""
    return (f"{CLI} retry {halt.task} | {CLI} skip {halt.task} --reason TEXT | {back}{CLI} abort   "
            f"(only after the user has decided, having read {report})")


def refuse(s: RunState, message: str) -> Refused:
    return Refused(message, next_command=next_command(s))


def find_task(s: RunState, task_id: str) -> TaskState:
    try:
        return s.task(task_id)
    except KeyError:
        known = ", ".join(t.id for t in s.tasks[:20]) + (" ..." if len(s.tasks) > 20 else "")
        raise BadInput(f"task {task_id!r} is not in the plan {s.plan} (tasks: {known})",
                       next_command=f"{CLI} status") from None


def why_waiting(s: RunState) -> str:
    """What the run is doing when it is not running, in a few words."""
    return {
        "running": "the run is running",
        "awaiting_approval": f"batch {s.batch} is at its checkpoint, waiting for the user's approval",
        "halted": f"the run is halted: {s.halt.reason if s.halt else ''}",
        "paused": f"the run is paused with a question for the user: {(s.pause or {}).get('reason', '')}",
        "finished": "the run is finished",
        "aborted": "the run was aborted",
    }[s.state]


def check_allowed(s: RunState, command: str, action: str) -> None:
    """The state table (``clavain.core.states.ALLOWED``): may ``command`` act in the run's state?"""
    if not states.allowed(s.state, command):
        raise refuse(s, f"cannot {action}: {why_waiting(s)}")


def require_running(s: RunState, action: str) -> None:
    """Progress commands work only while the run is running."""
    if s.state != "running":
        raise refuse(s, f"cannot {action}: {why_waiting(s)}")


def check_task_start(s: RunState, task: TaskState) -> bool:
    """Rule 1. Returns True when the task is already running (a repeated start is harmless)."""
    check_allowed(s, "task-start", f"start task {task.id}")
    if task.ask_user is not None:
        raise refuse(s, f"task {task.id} is a checkpoint for the user, not work for the model: never start it. When "
                        f"the batch's other tasks are done, {CLI} checkpoint; the batch report asks the user to do it")
    if task.status == "running":
        return True
    if task.status in FINISHED:
        raise refuse(s, f"task {task.id} is already {task.status}")
    if task.batch > s.batch:
        raise refuse(s, f"task {task.id} belongs to batch {task.batch}; batch {s.batch} is not finished "
                        f"and approved yet (tasks run in order, batch by batch)")
    group = _group_of(s, task.id)
    first_in_group = group[0]
    for other, status in s.statuses():
        if other == first_in_group:
            break
        if status not in FINISHED:
            raise refuse(s, f"task {task.id} cannot start before task {other} is done "
                            f"(tasks run in the plan's order; only tasks the plan marks independent run together)")
    return False


def _group_of(s: RunState, task_id: str) -> list[str]:
    for group in s.groups[s.batch - 1]:
        if task_id in group:
            return group
    return [task_id]


def check_task_done(s: RunState, task: TaskState) -> None:
    check_allowed(s, "task-done", f"record task {task.id} as done")
    if task.status in FINISHED:
        raise refuse(s, f"task {task.id} is already {task.status}")
    if task.status != "running":
        raise refuse(s, f"task {task.id} is {task.status}, not started; record it done only after "
                        f"{CLI} task-start {task.id}")
    if task.verify_count and not task.verified:
        one = task.verify_count == 1
        raise refuse(s, f"task {task.id} has {task.verify_count} verify entr{'y' if one else 'ies'} that "
                        f"{'has' if one else 'have'} not passed yet: {CLI} verify {task.id} runs "
                        f"{'it' if one else 'them'}")


def check_verify(s: RunState, task: TaskState) -> None:
    check_allowed(s, "verify", f"verify task {task.id}")
    if task.status != "running":
        raise refuse(s, f"task {task.id} is {task.status}; verify runs on a started task")


def check_task_fail(s: RunState, task: TaskState) -> None:
    check_allowed(s, "task-fail", f"record task {task.id} as failed")
    if task.status != "running":
        raise refuse(s, f"task {task.id} is {task.status}, not started")


def check_checkpoint(s: RunState) -> Optional[str]:
    """Returns a note when the checkpoint is already reached (a repeated checkpoint is harmless)."""
    if s.state == "awaiting_approval":
        return f"batch {s.batch} is already at its checkpoint"
    require_running(s, "close the batch")
    if s.batch in s.approved_batches:
        raise refuse(s, f"batch {s.batch} is already approved")
    open_tasks = [t.id for t in [*map(s.task, s.reopened), *s.batch_tasks()]
                  if t.status not in FINISHED and t.ask_user is None]
    if open_tasks:
        raise refuse(s, f"batch {s.batch} still has unfinished task(s): {', '.join(open_tasks)}")
    return None


def check_halted_on(s: RunState, task: TaskState, action: str) -> None:
    if s.state != "halted" or s.halt is None or s.halt.task != task.id:
        raise refuse(s, f"cannot {action} task {task.id}: "
                        + ("the run is not halted on it" if s.state != "halted" else
                           f"the run is halted on {'task ' + s.halt.task if s.halt and s.halt.task else s.halt.kind}"))


def check_finish(s: RunState) -> None:
    if s.state == "finished":
        raise refuse(s, "the run is already finished")
    check_allowed(s, "finish", "finish the run")
    open_tasks = [i for i, status in s.statuses() if status not in FINISHED]
    if open_tasks:
        raise refuse(s, f"{len(open_tasks)} task(s) are not done or skipped (first: task {open_tasks[0]})")
    if len(s.batches) not in s.approved_batches:
        raise refuse(s, f"the last batch ({len(s.batches)}) has not been approved at its checkpoint")
