"""Plan -> batches: the units of work between two review checkpoints.

Rules:

- tasks keep plan order; a batch holds at most ``batch_size`` tasks;
- a batch ends after every task in ``Plan.checkpoints_after`` (``<!-- checkpoint -->``, spec-kit
  ``**Checkpoint**``, GSD checkpoint tasks, manifest stage boundaries, ``## Batch N`` headings);
- inside a batch, adjacent tasks that are all marked independent (``parallel``), do not depend on
  one another and do not touch the same file form one parallel group; every other task is a group
  of its own and runs after the group before it.

Tasks the plan already checks off stay in their batches: the run decides what to skip.
"""

from __future__ import annotations

from clavain.core.errors import BadInput


def make_batches(plan, batch_size: int = 3) -> list:
    from clavain.plan.reader import collector_paused

    with collector_paused():
        return _make_batches(plan, batch_size)


def _make_batches(plan, batch_size: int) -> list:
    from clavain.plan.model import Batch

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise BadInput(f"batch size must be a whole number of at least 1, not {batch_size!r}",
                       next_command=f"clavain-cli plan show {plan.path} --batch-size 3")
    stops = set(plan.checkpoints_after)
    batches: list[list[list]] = []
    current: list[list] = []
    count = 0
    for task in plan.tasks:
        if count == batch_size:
            batches.append(current)
            current, count = [], 0
        if current and _joins(current[-1], task):
            current[-1].append(task)
        else:
            current.append([task])
        count += 1
        if task.id in stops:
            batches.append(current)
            current, count = [], 0
    if current:
        batches.append(current)
    return [Batch(index=n, tasks=[t.id for group in groups for t in group],
                  groups=[[t.id for t in group] for group in groups])
            for n, groups in enumerate(batches, 1)]


def _joins(group: list, task) -> bool:
    """May ``task`` run alongside every task of ``group``?"""
    if not task.parallel or not all(other.parallel for other in group):
        return False
    ids = {other.id for other in group}
    if ids.intersection(task.depends):
        return False
    files = set(task.files)
    return not any(files.intersection(other.files) for other in group)
