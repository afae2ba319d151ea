"""A plan's lines as the gate's fast path reads them: split at ``\\n`` only, with the lines inside code
fences and a leading YAML frontmatter left out. Standard library only and no ``re``: ``infer-bead`` and the
Phase line read plans with this on every gate call, without the full reader (``clavain.plan.source``).
"""

from __future__ import annotations

from typing import Iterator, Optional


def _fence(line: str) -> Optional[str]:
    """The fence marker (three or more backticks or tildes, indented at most three spaces) or None."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or stripped[:1] not in ("`", "~"):
        return None
    marker = stripped[:len(stripped) - len(stripped.lstrip(stripped[0]))]
    return marker if len(marker) >= 3 else None


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
