"""The ``**Phase:** <phase> (as of <UTC time>)`` line in a plan. Standard library only.

The line is updated in place, or inserted after the ``**Bead:**`` line, or after the title, or at the
top. Exactly one line is added or replaced and nothing else moves, so ``clavain.core.digest.plan_digest``
(which drops ``**Phase:**`` lines) gives the same digest before and after: recording a phase is not a
change of the plan. Lines inside code fences are never touched.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False   # not ``typing``'s: the gate's fast path runs without typing and pathlib
if TYPE_CHECKING:
    from typing import Optional

from clavain.core.digest import PHASE_PREFIX
from clavain.plan.lines import body_start, split_lines, structural_lines

_PHASE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def _is_title(line: str) -> bool:
    return line[:1] == "#" and line[1:2].isspace()


def is_bead_line(line: str) -> bool:
    """``**Bead:** ...``, also indented, or as a list item or quote."""
    text = line.lstrip()
    if text[:1] in ("-", "*", ">") and text[1:2].isspace():
        text = text[1:].lstrip()
    return text.startswith("**Bead:**")


def read_phase(text: str) -> Optional[str]:
    """The phase named by the plan's first ``**Phase:**`` line, or None."""
    for _, line in structural_lines(split_lines(text)):
        if line.startswith(PHASE_PREFIX):
            rest = line[len(PHASE_PREFIX):].lstrip().lstrip("`")
            word = rest[:len(rest) - len(rest.lstrip(_PHASE_CHARS))]
            if word[:1].isalpha():
                return word
    return None


def with_phase(text: str, phase: str, at: str) -> str:
    """``text`` with its Phase line set to ``phase`` as of ``at``."""
    new = f"**Phase:** {phase} (as of {at})"
    lines = split_lines(text)
    body = list(structural_lines(lines))
    for index, line in body:
        if line.startswith(PHASE_PREFIX):
            ending = line[len(line.rstrip("\r\n")):]
            lines[index] = new + ending
            return "".join(lines)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    anchor = next((i for i, line in body if is_bead_line(line)), None)
    if anchor is None:
        anchor = next((i for i, line in body if _is_title(line)), None)
    start = body_start(lines)
    position = start if anchor is None else anchor + 1
    if position == len(lines) and lines and not lines[-1].endswith("\n"):
        if start < len(lines):
            position = start  # the anchor is an unterminated last line: go before it, change nothing else
        else:
            lines[-1] += newline  # only frontmatter, unterminated: the one case that changes the digest
    lines.insert(position, new + newline)
    return "".join(lines)


def has_phase_line(path) -> bool:
    """Whether advance-phase writes a Phase line into this file: markdown files only."""
    return os.path.splitext(os.fspath(path))[1] in (".md", ".markdown")


def write_phase(path, phase: str, at: str) -> tuple[float, str]:
    """Rewrite the plan at ``path`` with its Phase line set, atomically, keeping its file mode.

    Returns the file's modification time before the write (the time of its last change) and its text."""
    from clavain.core.files import atomic_write

    info = os.stat(path)
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8")
    atomic_write(path, with_phase(text, phase, at))
    os.chmod(path, info.st_mode & 0o7777)
    return info.st_mtime, text
