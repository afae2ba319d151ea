"""spec-kit ``tasks.md``: ``- [ ] T001 [P] [US1] Description in path/to/file.py`` lines.

Ids as written, letter suffixes included (``T018a``, ``T003A``). ``[X]`` marks a finished task, ``[P]`` a task that may run in parallel with its ``[P]`` neighbours,
``[US1]`` (any bracketed label after the id) the user story. Files are the backticked spans of the
description and its bare words that look like paths (``src/a.py``, ``docs/``; not ``and/or``, never npm
packages such as ``@scope/name``). ``(depends on T003, T004)`` in a description is a
dependency. The task's section is the ``## Phase N: ...`` heading above it; ``**Checkpoint**`` lines
end a batch. Indented lines under a task belong to it.
"""

from __future__ import annotations

import re

from clavain.plan.body import looks_like_path
from clavain.plan.headings import marked_checkpoints, text_digest
from clavain.plan.source import Source, enclosing_line, trim_end

TASK_LINE = re.compile(r"( *)[-*]\s+\[([ xX])\]\s+(T\d+[A-Za-z]*)\b[:.]?\s*(.*)$")
_LABEL = re.compile(r"\[([^\]]{1,20})\]\s*")
_CHECKPOINT = re.compile(r"\s*(?:[-*]\s+)?\*\*Checkpoint:?\*\*", re.IGNORECASE)
_DEPENDS = re.compile(r"\(?\s*depends\s+on\s+((?:T\d+[A-Za-z]*[\s,and]*)+)\)?", re.IGNORECASE)
_DEP_ID = re.compile(r"T\d+[A-Za-z]*")
_CODE = re.compile(r"`([^`]+)`")
_PATHISH = re.compile(r"(?<![\w`])((?:\.{0,2}/)?[\w.@+-]+(?:/[\w.@+-]+)+/?)")


def find(source: Source) -> list[tuple[int, re.Match]]:
    found = []
    for number, line in source.visible(source.body_start + 1, len(source.lines)):
        if "T" in line and "[" in line:
            match = TASK_LINE.match(line)
            if match:
                found.append((number, match))
    return found


def tasks(source: Source, found: list[tuple[int, re.Match]]) -> tuple[list[dict], list[str]]:
    """Raw task dicts and the ids followed by a ``**Checkpoint**`` line."""
    result = []
    for position, (number, match) in enumerate(found):
        indent, mark, task_id, rest = match.groups()
        stop = found[position + 1][0] - 1 if position + 1 < len(found) else len(source.lines)
        end = _continuation_end(source, number, stop, len(indent))
        labels = []
        while True:
            label = _LABEL.match(rest)
            if not label:
                break
            labels.append(label.group(1))
            rest = rest[label.end():]
        text = " ".join([rest.strip()] + [source.lines[i].strip() for i in range(number, end)])
        depends = _DEPENDS.search(text)
        title = _DEPENDS.sub("", rest).strip() or task_id
        result.append({
            "id": task_id, "title": title, "line": number, "end_line": end, "files": _files(text),
            "file_roles": {}, "steps": [], "verify": [], "section": enclosing_line(source, number),
            "depends": [(d, source.path, number) for d in _DEP_ID.findall(depends.group(1))] if depends else [],
            "parallel": any(label.upper() == "P" for label in labels), "done": mark != " ",
            "text": "\n".join(source.lines[number - 1:end]), "text_sha256": text_digest(source, number, end),
        })
    return result, marked_checkpoints(source, result, _CHECKPOINT, "**")


def _continuation_end(source: Source, number: int, stop: int, indent: int) -> int:
    end = number
    for index in range(number, stop):
        line = source.lines[index]
        if not line.strip():
            continue
        if len(line) - len(line.lstrip(" ")) <= indent and not source.hidden[index]:
            break
        end = index + 1
    return trim_end(source, number, end)


def _files(text: str) -> list[str]:
    seen: list[str] = []
    spans = _CODE.findall(text)
    bare = [word for word in _PATHISH.findall(_CODE.sub(" ", text)) if _bare_path(word.rstrip(".,;:)"))]
    for candidate in spans + bare:
        candidate = candidate.strip().rstrip(".,;:)")
        if candidate not in seen and looks_like_path(candidate):
            seen.append(candidate)
    return seen


def _bare_path(word: str) -> bool:
    """A word outside backticks with a ``/``: a path when it ends in a file name or ``/`` or has two parts
    of folder (``src/a.py``, ``docs/``, ``src/models/x``), not prose such as ``and/or`` or ``TCP/IP``."""
    return word.endswith("/") or word.count("/") >= 2 or "." in word.rsplit("/", 1)[-1] or word.startswith("./")
