"""The ``**Phase:** <phase> (as of <UTC time>)`` line in a plan. Standard library only.

The line is updated in place, or inserted after the ``**Bead:**`` line, or after the title, or at the
top. Exactly one line is added or replaced and nothing else moves, so ``clavain.digest.plan_digest``
(which drops ``**Phase:**`` lines) gives the same digest before and after: recording a phase is not a
change of the plan. Lines inside code fences are never touched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator, Optional

from clavain.fsutil import atomic_write

PHASE_LINE = re.compile(r"^\*\*Phase:\*\*")          # the same lines plan_digest drops
_PHASE_VALUE = re.compile(r"^\*\*Phase:\*\*\s*`?([A-Za-z][\w-]*)")
_BEAD_LINE = re.compile(r"^\s*(?:[-*>]\s+)?\*\*Bead:\*\*")
_TITLE = re.compile(r"^#\s")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split at ``\\n`` only (the line notion of ``plan_digest``'s regex)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def body_start(lines: list[str]) -> int:
    """Index of the first line after a leading YAML frontmatter block (0 when there is none)."""
    if lines and lines[0].rstrip("\r\n") == "---":
        for index in range(1, len(lines)):
            if lines[index].rstrip("\r\n") in ("---", "..."):
                return index + 1
    return 0


def structural_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(index, line) of the lines outside code fences and outside leading YAML frontmatter."""
    fence: Optional[str] = None
    for index in range(body_start(lines), len(lines)):
        line = lines[index]
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                continue
            yield index, line
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and not line.strip().strip(fence[0]):
            fence = None


def read_phase(text: str) -> Optional[str]:
    """The phase named by the plan's first ``**Phase:**`` line, or None."""
    for _, line in structural_lines(split_lines(text)):
        match = _PHASE_VALUE.match(line)
        if match:
            return match.group(1)
    return None


def with_phase(text: str, phase: str, at: str) -> str:
    """``text`` with its Phase line set to ``phase`` as of ``at``."""
    new = f"**Phase:** {phase} (as of {at})"
    lines = split_lines(text)
    body = list(structural_lines(lines))
    for index, line in body:
        if PHASE_LINE.match(line):
            ending = line[len(line.rstrip("\r\n")):]
            lines[index] = new + ending
            return "".join(lines)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    anchor = next((i for i, line in body if _BEAD_LINE.match(line)), None)
    if anchor is None:
        anchor = next((i for i, line in body if _TITLE.match(line)), None)
    start = body_start(lines)
    position = start if anchor is None else anchor + 1
    if position == len(lines) and lines and not lines[-1].endswith("\n"):
        if start < len(lines):
            position = start  # the anchor is an unterminated last line: go before it, change nothing else
        else:
            lines[-1] += newline  # only frontmatter, unterminated: the one case that changes the digest
    lines.insert(position, new + newline)
    return "".join(lines)


def write_phase(path: Path, phase: str, at: str) -> tuple[float, str]:
    """Rewrite the plan at ``path`` with its Phase line set, atomically, keeping its file mode.

    Returns the file's modification time before the write (the time of its last change) and its text."""
    path = Path(path)
    info = path.stat()
    text = path.read_bytes().decode("utf-8")
    atomic_write(path, with_phase(text, phase, at))
    os.chmod(path, info.st_mode & 0o7777)
    return info.st_mtime, text
