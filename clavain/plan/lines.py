"""A plan's lines as the gate's fast path reads them, and the one reading of code fences every reader shares.

Split at ``\\n`` only, with the lines inside code fences and a leading YAML frontmatter left out. Standard
library only and no ``re``: ``infer-bead`` and the Phase line read plans with this on every gate call,
without the full reader (``clavain.plan.source``), which takes its fences from ``fence_mask`` here too, so
both always agree on what is inside a fence.

Fences: a line whose text (any indentation) starts with three or more backticks or tildes opens a fence;
a backtick fence's info string holds no backtick. CommonMark closes a fence at the first line that is only
a run of the same character at least as long, and that is the reading used, with one exception.
LLM-written plans nest fences without lengthening the outer one: a ```` ```markdown ```` block holds a
```` ```bash ```` block whose bare closing line, by that rule, closes the outer block; the author's own
closing line then opens a fence that swallows what follows, ``### Task 3`` included. The nested reading
takes a line inside a fence that opens one with an info string (```` ```bash ````) as a nested fence and a
bare line as closing the innermost (``read_fence``). Where the two readings differ, and only the nested one
shows a task (a ``## Task N`` / ``## Step N`` heading, a spec-kit ``- [ ] T001`` line, a GSD ``<task>``) or
closes every fence the CommonMark rule leaves open, the nested reading is used there and ``fence_mask``
reports the fence's line, so no task is lost in silence.
"""

from __future__ import annotations

TYPE_CHECKING = False   # not ``typing``'s: importing ``typing`` costs about a bare interpreter start
if TYPE_CHECKING:
    from typing import Iterator, Optional

from clavain.core.records import record

Marker = record("Marker", "char length info", doc="""A fence marker: ``char`` "`" or "~", ``length`` how many of
them, ``info`` what follows them on the line ("" for a bare line).""")


class FenceRead(record("FenceRead", "close strict nested")):
    """Where a fence ends: ``close``, the index of the line that closes it as read (None: never closed);
    ``strict``, where the CommonMark rule closes it (None: never); ``nested``, the index of the first line inside
    it that opens a nested fence (before ``strict``)."""

    __slots__ = ()

    @property
    def misnested(self) -> bool:
        """The nesting reading and the CommonMark rule disagree about where the fence ends."""
        return self.close is not None and self.close != self.strict


def fence_marker(line: str) -> Optional[Marker]:
    """The fence marker on this line (it opens or closes a fence), or None."""
    text = line.strip()
    head = text[:3]
    if head != "```" and head != "~~~":
        return None
    char = text[0]
    rest = text.lstrip(char)
    info = rest.strip()
    if char == "`" and "`" in info:
        return None                     # ```foo``` is inline code, not a fence
    return Marker(char, len(text) - len(rest), info)


def read_fence(lines: list[str], start: int, marker: Marker) -> FenceRead:
    """Where the fence opened on ``lines[start]`` (by ``marker``) ends; see the module's docstring."""
    char, length = marker.char, marker.length
    open_lengths = [length]
    strict: Optional[int] = None
    nested: Optional[int] = None
    three = char * 3
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if three not in line or not line.lstrip().startswith(three):
            continue
        found = fence_marker(line)
        if found is None or found.char != char:
            continue
        if found.info:
            if strict is None and nested is None:
                nested = index
            open_lengths.append(found.length)
            continue
        if strict is None and found.length >= length:
            strict = index
        if found.length >= open_lengths[-1]:
            open_lengths.pop()
            if not open_lengths:
                return FenceRead(index, strict, nested)
    return FenceRead(strict, strict, nested)


Rescue = record("Rescue", "line read tasks", doc="""A fence read the nested way: ``line``, the index of its
opening line where the readings part; ``read``, that fence as ``read_fence`` reads it; ``tasks``, the indexes of the
task lines only the nested reading shows (none: it closes a fence).""")

FenceMask = record("FenceMask", "hidden rescues unclosed", doc="""Which lines code fences hide: ``hidden`` (True:
inside a fence, or a fence line itself), ``rescues`` (where the nested reading was used) and ``unclosed`` (the
index of a fence that is never closed, which hides the rest, or None).""")


def is_task_line(line: str) -> bool:
    """A line some plan format reads as a task: ``## Task 3``, ``### Step 2``, ``- [ ] T001``, ``<task``."""
    text = line.strip()
    head = text[:1]
    if head == "#":
        rest = text.lstrip("#")
        words = rest.split(None, 2)
        return (len(text) - len(rest) >= 2 and rest[:1].isspace() and len(words) >= 2
                and words[0].lower() in ("task", "step") and words[1][:1].isdigit())
    if head in ("-", "*"):
        rest = text[1:].lstrip()
        return rest[:1] == "[" and rest[2:3] == "]" and rest[1:2] in (" ", "x", "X") and \
            rest[3:].lstrip()[:1] == "T" and rest[3:].lstrip()[1:2].isdigit()
    return head == "<" and text.startswith("<task") and (text[5:6] in ("", " ", ">", "\t"))


def _mask(lines: list[str], start: int, nested: bool) -> tuple[list[bool], bool, Optional[int]]:
    """(hidden, whether some fence reads differently nested, index of an unclosed fence)."""
    hidden = [False] * len(lines)
    for index in range(start):
        hidden[index] = True
    differs = False
    index, count = start, len(lines)
    while index < count:
        line = lines[index]
        marker = fence_marker(line) if "`" in line[:4] or "~" in line[:4] or line[:1].isspace() else None
        if marker is None:
            index += 1
            continue
        read = read_fence(lines, index, marker)
        differs = differs or read.misnested
        close = read.close if nested else read.strict
        if close is None:
            for covered in range(index, count):
                hidden[covered] = True
            return hidden, differs, index
        for covered in range(index, close + 1):
            hidden[covered] = True
        index = close + 1
    return hidden, differs, None


def fence_mask(lines: list[str], start: int = 0) -> FenceMask:
    """Which lines from ``start`` on are inside code fences (lines before ``start`` count as hidden)."""
    strict, differs, unclosed = _mask(lines, start, nested=False)
    if not differs:
        return FenceMask(strict, [], unclosed)
    nested, _, nested_unclosed = _mask(lines, start, nested=True)
    hidden, rescues = list(strict), []
    index, count = start, len(lines)
    while index < count:
        if not strict[index] and not nested[index]:
            index += 1
            continue
        end = index
        while end < count and (strict[end] or nested[end]):
            end += 1
        shown = [k for k in range(index, end) if strict[k] and not nested[k] and is_task_line(lines[k])]
        left_open = unclosed is not None and index <= unclosed < end
        if shown or (left_open and not (nested_unclosed is not None and index <= nested_unclosed < end)):
            hidden[index:end] = nested[index:end]
            rescues.append(Rescue(index, read_fence(lines, index, fence_marker(lines[index])), shown))
            if left_open:
                unclosed = nested_unclosed if nested_unclosed is not None and nested_unclosed >= index else None
        index = end
    return FenceMask(hidden, rescues, unclosed)


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
    """(index, line) of the lines outside code fences (as ``fence_mask`` reads them) and outside leading YAML
    frontmatter. Lazy: up to the first fence the two readings disagree on, the CommonMark reading is the
    answer, so a caller that stops early (the first Phase line) reads no further."""
    start = body_start(lines)
    index, count = start, len(lines)
    while index < count:
        line = lines[index]
        marker = fence_marker(line) if "`" in line[:4] or "~" in line[:4] or line[:1].isspace() else None
        if marker is None:
            yield index, line
            index += 1
            continue
        read = read_fence(lines, index, marker)
        if read.misnested:
            hidden = fence_mask(lines, start).hidden
            yield from ((i, lines[i]) for i in range(index, count) if not hidden[i])
            return
        if read.strict is None:
            return
        index = read.strict + 1
