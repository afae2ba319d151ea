"""Task ids as the plan numbers them: gaps in the numbering are reported, the same id twice gets unique names.

- A gap (``Task 1, 2, 4``; ``T003`` then ``T006``; ``2.1`` then ``2.3``) is a warning at the task after it:
  a task the author wrote may be hidden in a code fence or written in a shape no reader knows. Ids are
  compared by their numbers (``10a`` and ``T018a`` number as 10 and 18), at the first part in which two
  neighbours differ; a number that goes down (a plan restarting at 1 per phase) is no gap.
- The same id on several tasks (spec-kit files repeat ``T010``; plans restart ``Task 1`` per phase): the
  first keeps its id, the next ones become ``T010-2``, ``T010-3``, ... and a warning lists them. A
  dependency on such an id means every task of that id before the one that depends on it (or the first,
  when none is before it).
"""

from __future__ import annotations

import re

from clavain.plan.source import Source

_NUMBERS = re.compile(r"\d+")


def _numbers(task_id: str) -> tuple[int, ...]:
    return tuple(int(n) for n in _NUMBERS.findall(task_id))


def numbering_gaps(source: Source, tasks: list[dict]) -> None:
    previous = None
    for task in tasks:
        numbers = _numbers(task["id"])
        if previous is not None and numbers and previous[1]:
            for before, now in zip(previous[1], numbers):
                if before != now:
                    if now > before + 1:
                        source.warn(task["line"], f"task numbering jumps from {previous[0]} to {task['id']}: no task "
                                                  "numbered in between was read (is one inside a code fence, or "
                                                  "written in another shape?)")
                    break
        previous = (task["id"], numbers)


def unique_ids(source: Source, tasks: list[dict]) -> None:
    """Rename repeated ids in place (``T010-2``) and point dependencies on them at the right tasks."""
    copies: dict[str, list[dict]] = {}
    for task in tasks:
        copies.setdefault(task["id"], []).append(task)
    repeated = {base: group for base, group in copies.items() if len(group) > 1}
    if not repeated:
        return
    taken = set(copies)
    for base, group in repeated.items():
        for n, task in enumerate(group[1:], 2):
            name = f"{base}-{n}"
            while name in taken:
                name += "b"
            taken.add(name)
            task["id"] = name
        lines = ", ".join(str(task["line"]) for task in group)
        source.warn(group[1]["line"], f"task id {base} is used {len(group)} times (lines {lines}); they are read as "
                                      f"{', '.join(task['id'] for task in group)}")
    for task in tasks:
        if any(dep in repeated for dep, _, _ in task["depends"]):
            task["depends"] = [resolved for dep in task["depends"] for resolved in _resolve(dep, task, repeated)]


def _resolve(dep: tuple[str, str, int], task: dict, repeated: dict[str, list[dict]]) -> list[tuple[str, str, int]]:
    name, path, line = dep
    if name not in repeated:
        return [dep]
    before = [other["id"] for other in repeated[name] if other["line"] < task["line"] and other is not task]
    return [(other, path, line) for other in (before or [repeated[name][0]["id"]])]
