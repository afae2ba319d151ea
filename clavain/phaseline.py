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

PHASE_PREFIX = "**Phase:**"                        # lines starting so are the ones plan_digest drops
_PHASE_LINES = re.compile(r"^\*\*Phase:\*\*.*$\n?", re.MULTILINE)
_PHASE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def _fence(line: str) -> Optional[str]:
    """The fence marker (three or more backticks or tildes, indented at most three spaces) or None."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or stripped[:1] not in ("`", "~"):
        return None
    marker = stripped[:len(stripped) - len(stripped.lstrip(stripped[0]))]
    return marker if len(marker) >= 3 else None


def _is_title(line: str) -> bool:
    return line[:1] == "#" and line[1:2].isspace()


def is_bead_line(line: str) -> bool:
    """``**Bead:** ...``, also indented, or as a list item or quote."""
    text = line.lstrip()
    if text[:1] in ("-", "*", ">") and text[1:2].isspace():
        text = text[1:].lstrip()
    return text.startswith("**Bead:**")


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
        marker = _fence(line)
        if fence is None:
            if marker:
                fence = marker
                continue
            yield index, line
        elif marker and marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip().strip(fence[0]):
            fence = None


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


def plan_digest(text: str) -> str:
    """The same value as ``clavain.digest.plan_digest`` (a test holds them equal), without importing
    hashlib, so the gate's fast path stays fast."""
    from clavain.store import sha256_hex

    return sha256_hex(_PHASE_LINES.sub("", text).encode("utf-8"))


def write_phase(path: Path, phase: str, at: str) -> tuple[float, str]:
    """Rewrite the plan at ``path`` with its Phase line set, atomically, keeping its file mode.

    Returns the file's modification time before the write (the time of its last change) and its text."""
    from clavain.fsutil import atomic_write

    path = Path(path)
    info = path.stat()
    text = path.read_bytes().decode("utf-8")
    atomic_write(path, with_phase(text, phase, at))
    os.chmod(path, info.st_mode & 0o7777)
    return info.st_mtime, text
