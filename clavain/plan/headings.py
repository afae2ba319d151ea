"""Tasks that are headings: superpowers / Clavain ``## Task N: title`` and plain numbered plans.

- superpowers: ``## Task N: title`` or ``### Task N: title`` (also ``####``); N as written: ``3``, ``10a``,
  ``2.1``, ``0``. ``[P]`` in the heading marks the task independent.
- numbered: ``### 1. Title`` (or ``1)``) under a heading named Changes, Implementation, Tasks or Steps;
  or ``## Step N: title`` headings.

A task runs from its heading to the next heading of the same or a higher level (or the next task).
Its ``section`` is the nearest enclosing heading of a higher level (``## Phase 1: ...``, ``## Chunk 2``).
"""

from __future__ import annotations

import bisect
import hashlib
import re

from clavain.plan.body import read_body
from clavain.plan.source import MUST_HAVES, Heading, Source, enclosing, is_constraints, section_end, trim_end

_ID = r"(\d+[A-Za-z]*(?:\.\d+[A-Za-z]*)*)"
_SEPARATOR = r"(?:\s*[:.)\-—–]\s*|\s+|$)"
_TASK = re.compile(r"Task\s+" + _ID + _SEPARATOR + r"(.*)$", re.IGNORECASE)
_NUMBERED = re.compile(r"(\d+[a-z]?(?:\.\d+[a-z]?)*)[.)]\s+(.*)$")
_STEP = re.compile(r"Step\s+" + _ID + _SEPARATOR + r"(.*)$", re.IGNORECASE)
_CONTAINER = re.compile(r"(?:\d+[.)]\s*)?(changes|implementation|tasks|steps|implementation (?:plan|steps|tasks)|"
                        r"proposed changes|work items)\b", re.IGNORECASE)
_PARALLEL_MARK = re.compile(r"\s*\[P\]\s*", re.IGNORECASE)
_BATCH = re.compile(r"Batch\s+\d+\b", re.IGNORECASE)


def superpowers_headings(source: Source) -> list[tuple[Heading, str, str]]:
    found = []
    for heading in source.headings:
        if 2 <= heading.level <= 4:
            match = _TASK.match(heading.text)
            if match:
                found.append((heading, match.group(1), match.group(2)))
    return found


def numbered_headings(source: Source) -> list[tuple[Heading, str, str]]:
    found = []
    headings = source.headings
    for position, container in enumerate(headings):
        if _CONTAINER.match(container.text):
            end = section_end(source, container)
            for heading in headings[position + 1:]:
                if heading.line > end:
                    break
                if heading.level > container.level:
                    match = _NUMBERED.match(heading.text)
                    if match:
                        found.append((heading, match.group(1), match.group(2)))
    if not found:
        for heading in source.headings:
            if heading.level in (2, 3):
                match = _STEP.match(heading.text)
                if match:
                    found.append((heading, match.group(1), match.group(2)))
    unique = {h.line: (h, i, t) for h, i, t in found}
    return [unique[line] for line in sorted(unique)]


def heading_tasks(source: Source, found: list[tuple[Heading, str, str]]) -> list[dict]:
    """Raw task dicts (model fields, ``depends`` as (id, path, line) triples) for the given task headings."""
    tasks = []
    task_lines = [h.line for h, _, _ in found]
    for position, (heading, task_id, title) in enumerate(found):
        end = section_end(source, heading)
        if position + 1 < len(found):
            end = min(end, task_lines[position + 1] - 1)
        end = trim_end(source, heading.line, end)
        body = read_body(source, heading.line + 1, end)
        marked = body.pop("parallel")
        parallel = marked or bool(_PARALLEL_MARK.search(title))
        title = _PARALLEL_MARK.sub(" ", title).strip(" \t*:.-—–") or f"Task {task_id}"
        steps = body["steps"]
        tasks.append({"id": task_id, "title": title, "line": heading.line, "end_line": end,
                      "section": enclosing(source, heading), "parallel": parallel,
                      "done": bool(steps) and all(s["done"] for s in steps),
                      "text": "\n".join(source.lines[heading.line - 1:end]),
                      "text_sha256": text_digest(source, heading.line, end), **body})
    return tasks


def batch_boundaries(source: Source, tasks: list[dict]) -> list[str]:
    """A plan's own ``## Batch N`` headings are review points: the task before each one ends a batch."""
    after = []
    for heading in source.headings:
        if _BATCH.match(heading.text):
            before = [t["id"] for t in tasks if t["line"] < heading.line]
            if before and before[-1] not in after:
                after.append(before[-1])
    return after


def group_boundaries(source: Source, tasks: list[dict]) -> list[str]:
    """The plan's own grouping headings end batches: the ids of tasks after which the headings that group the
    tasks (``## F1: ...``, ``## Phase 3: User Story 1``, ``### Tests for User Story 1``) change.

    A task's groups are the headings above it that enclose it: for a task heading, the headings it sits
    under; for a task line (spec-kit, GSD), the last heading above it and those that enclose that one. The
    plan's title (level 1), task headings, Must-Haves and Global Constraints headings group nothing."""
    task_lines = {t["line"] for t in tasks}
    chains: dict[int, tuple[int, ...]] = {}

    def chain(heading) -> tuple[int, ...]:
        if heading is None:
            return ()
        if heading.line not in chains:
            above = chain(source.parents.get(heading.line))
            groups = heading.level > 1 and heading.line not in task_lines and not _not_a_group(heading.text)
            chains[heading.line] = above + (heading.line,) if groups else above
        return chains[heading.line]

    after, previous = [], None
    for task in tasks:
        index = bisect.bisect_left(source.heading_lines, task["line"])
        if index < len(source.heading_lines) and source.heading_lines[index] == task["line"]:
            key = chain(source.parents.get(task["line"]))
        else:
            key = chain(source.headings[index - 1]) if index else ()
        if previous is not None and key != previous[1]:
            after.append(previous[0])
        previous = (task["id"], key)
    return after


def _not_a_group(text: str) -> bool:
    return not text or is_constraints(text) or MUST_HAVES.match(text.strip()) is not None


def marked_checkpoints(source: Source, tasks: list[dict], pattern: re.Pattern, hint: str) -> list[str]:
    """Ids of the tasks right before each structural line that ``pattern`` matches (``hint``: a quick pre-check)."""
    after: dict[str, None] = {}
    lines = [t["line"] for t in tasks]
    for number, line in source.rows:
        if hint in line and pattern.match(line):
            index = bisect.bisect_left(lines, number) - 1
            if index >= 0:
                after[tasks[index]["id"]] = None
    return list(after)


def text_digest(source: Source, start: int, end: int) -> str:
    return hashlib.sha256("\n".join(source.lines[start - 1:end]).encode("utf-8")).hexdigest()
