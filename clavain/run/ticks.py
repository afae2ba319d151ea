"""Checkbox ticks in the plan for tasks recorded done (``run.tick_plan``; on by default for spec-kit).

The task's own checkbox is ticked (``- [ ] T004 ...`` -> ``- [X] T004 ...``); a task without one of its own (a
``### Task N`` heading) gets its step checkboxes ticked. Only ``[ ]`` becomes ``[x]`` (``[X]`` in a spec-kit
``tasks.md``); nothing else of the plan moves, and line endings stay as they are. The pinned digest leaves
ticks out (``clavain.core.digest.plan_digest(ticks=True)``), so a tick is never a change of the plan.

Lines are kept as offsets from the task's first line, so a rollback can take back exactly the run's ticks.
"""

from __future__ import annotations

import re
from pathlib import Path

from clavain.core.files import atomic_write

TYPE_CHECKING = False   # not ``typing``'s: task-done loads this module
if TYPE_CHECKING:
    from typing import Sequence

_OPEN = re.compile(rb"^(\s*[-*+]\s+)\[ \]")
_TICKED = re.compile(rb"^(\s*[-*+]\s+)\[[xX]\]")


def offsets(lines: Sequence[str], task) -> list[int]:
    """The unticked checkboxes of the plan ``task`` (a ``clavain.plan.model.Task``), as offsets from its line."""
    def open_box(number: int) -> bool:
        return 1 <= number <= len(lines) and _OPEN.match(lines[number - 1].encode("utf-8")) is not None

    if open_box(task.line):
        return [0]
    return [step.line - task.line for step in task.steps if not step.done and open_box(step.line)]


def _rewrite(path: Path, line: int, at: Sequence[int], pattern: re.Pattern, mark: bytes) -> bool:
    raw = path.read_bytes()
    rows = raw.splitlines(keepends=True)
    changed = False
    for offset in at:
        i = line - 1 + offset
        if 0 <= i < len(rows) and pattern.match(rows[i]):
            rows[i] = pattern.sub(lambda m: m.group(1) + mark, rows[i], count=1)
            changed = True
    if changed:
        atomic_write(path, b"".join(rows))
    return changed


def tick(path: Path, line: int, at: Sequence[int], speckit: bool) -> bool:
    """Tick the checkboxes at ``line + offset``; False when there was nothing left to tick."""
    return _rewrite(path, line, at, _OPEN, b"[X]" if speckit else b"[x]")


def untick(path: Path, line: int, at: Sequence[int]) -> bool:
    """Take back the run's ticks (a rollback)."""
    return _rewrite(path, line, at, _TICKED, b"[ ]")
