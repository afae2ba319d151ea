"""A plan's text as lines, with what is structure and what is not.

``Source`` splits the text into lines (numbered from 1 as an editor shows them), reads the YAML
frontmatter, and marks which lines are *not structure*: fenced code blocks (read by
``clavain.plan.lines.fence_mask``, shared with the gate's fast path: ```` ``` ```` / ``~~~``, any
indentation) and multi-line HTML comments. Real plans embed example plans in fences, so nothing inside one
is a heading, a task or a ``<verify>`` block.

Forgiving, never silent: invalid frontmatter is ignored; a mis-nested fence whose CommonMark reading would
hide a task is read as the author nested it; an unclosed fence or comment that hides no task runs to the
end of the file; each with a ``path:line`` warning in ``Source.warnings``. An unclosed fence or comment
that hides a task is an error: that task would be lost.
"""

from __future__ import annotations

import bisect
import re

from clavain.core.errors import BadInput
from clavain.plan.lines import fence_marker, fence_mask, is_task_line

MAX_LINE_CHARS = 100_000

_CONSTRAINTS = re.compile(r"(?:global\s+)?constraints:?$", re.IGNORECASE)
MUST_HAVES = re.compile(r"must[- ]?haves?:?$", re.IGNORECASE)
_MUST_HAVES_HEADING = re.compile(r"must[- ]?haves?", re.IGNORECASE)
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")


class Heading:
    """A markdown heading: ``line`` (1-based), ``level`` (1 for ``#``), ``text``. Immutable, and equal to another
    of the same fields (plain classes, not dataclasses: the reader runs on every ``run start``)."""

    __slots__ = ("line", "level", "text")

    def __init__(self, line: int, level: int, text: str) -> None:
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "text", text)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"a Heading is immutable: cannot set {name!r}")

    def _key(self) -> tuple:
        return self.line, self.level, self.text

    def __eq__(self, other) -> bool:
        return self._key() == other._key() if type(other) is Heading else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Heading(line={self.line!r}, level={self.level!r}, text={self.text!r})"


class Source:
    """A plan's text as the reader reads it (see the module's docstring); ``load_source`` makes one."""

    def __init__(self, path: str, text: str, lines: list[str], hidden: list[bool], body_start: int) -> None:
        self.path = path
        self.text = text
        self.lines = lines                          # lines[0] is line 1; no line endings
        self.hidden = hidden                        # True: inside a fence or comment (not structure)
        self.body_start = body_start                # 0-based index of the first line after the frontmatter
        self.frontmatter: dict = {}
        self.headings: list[Heading] = []
        self.ends: dict[int, int] = {}              # heading line -> last line of its section
        self.parents: dict[int, Heading] = {}       # heading line -> enclosing heading
        self.heading_lines: list[int] = []
        self.rows: list[tuple[int, str]] = []       # (number, text) of structural lines
        self.row_numbers: list[int] = []
        self.warnings: list[str] = []               # "path:line: text", in the order found

    def warn(self, line: int, text: str) -> None:
        self.warnings.append(f"{self.path}:{line}: {text}")

    def line(self, number: int) -> str:
        return self.lines[number - 1]

    def visible(self, start: int, stop: int) -> list[tuple[int, str]]:
        """(1-based line number, text) of the structural lines with 1-based numbers in [start, stop]."""
        low = bisect.bisect_left(self.row_numbers, start)
        return self.rows[low:bisect.bisect_right(self.row_numbers, stop, low)]

    def error(self, message: str, line: int | None, next_command: str | None = None) -> BadInput:
        return BadInput(message, path=self.path, line=line,
                        next_command=next_command or f"clavain-cli plan validate {self.path}")


def is_must_haves(heading: Heading) -> bool:
    """The heading opens a Must-Haves section (``clavain.plan.musthaves`` reads it)."""
    return _MUST_HAVES_HEADING.fullmatch(heading.text.strip().rstrip(":")) is not None


def split_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: only ``\\n`` (with an optional ``\\r`` before it) ends a line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def load_source(text: str, path: str) -> Source:
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = split_lines(text)
    source = Source(path=path, text=text, lines=lines, hidden=[False] * len(lines), body_start=0)
    if not text.strip():
        raise source.error("the plan is empty", 1, "write tasks into the plan (e.g. `## Task 1: title`), then "
                                                   f"clavain-cli plan validate {path}")
    if max(map(len, lines)) > MAX_LINE_CHARS:
        number = next(n for n, line in enumerate(lines, 1) if len(line) > MAX_LINE_CHARS)
        raise source.error(f"line is {len(lines[number - 1]):,} characters long; a plan's lines must be under "
                           f"{MAX_LINE_CHARS:,} (is this really a markdown plan?)", number)
    if "\x00" in text:
        raise source.error("the file holds NUL bytes: it is binary, not a markdown plan",
                           text.count("\n", 0, text.index("\x00")) + 1)
    _read_frontmatter(source)
    _mark_hidden(source)
    source.rows = [(n, line) for n, (line, hidden) in enumerate(zip(lines, source.hidden), 1) if not hidden]
    source.row_numbers = [n for n, _ in source.rows]
    source.headings = _headings(source)
    source.heading_lines = [h.line for h in source.headings]
    _nest(source)
    return source


def _read_frontmatter(source: Source) -> None:
    lines = source.lines
    if not lines or lines[0].rstrip() != "---":
        return
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            break
    else:
        raise source.error("YAML frontmatter opened on line 1 is never closed with a `---` line", 1)
    from clavain.plan.yamlfile import load_mapping

    for i in range(index + 1):
        source.hidden[i] = True
    source.body_start = index + 1
    try:
        source.frontmatter = load_mapping("\n".join(lines[1:index]), source.path, first_line=2, what="frontmatter")
    except BadInput as exc:
        source.warn(exc.line or 1, f"{exc.message}; the frontmatter is ignored")


def _mark_hidden(source: Source) -> None:
    """Fences first (``fence_mask``, shared with the gate), then multi-line HTML comments outside them."""
    lines = source.lines
    mask = fence_mask(lines, source.body_start)
    source.hidden = hidden = mask.hidden
    for rescue in mask.rescues:
        _rescued(source, rescue)
    index, count = source.body_start, len(lines)
    while index < count:
        if not hidden[index] and "<!--" in lines[index]:
            stripped = lines[index].lstrip()
            if stripped.startswith("<!--") and "-->" not in stripped[4:]:
                index = _skip_comment(source, index)
                continue
        index += 1
    if mask.unclosed is not None:
        marker = fence_marker(lines[mask.unclosed])
        _unclosed(source, mask.unclosed, f"code fence {marker.char * marker.length} opened on this line is never closed")


def _rescued(source: Source, rescue) -> None:
    read, marker = rescue.read, fence_marker(source.lines[rescue.line])
    fence = marker.char * marker.length
    if rescue.tasks:
        task = rescue.tasks[0]
        more = f" and {len(rescue.tasks) - 1} more task line(s)" if len(rescue.tasks) > 1 else ""
        gain = f"`{source.lines[task].strip()[:60]}` on line {task + 1}{more} counts"
    else:
        gain = "no fence stays open to the end of the plan"
    closes = f"closes on line {read.strict + 1}" if read.strict is not None else "never closes"
    nested = f"the fence on line {read.nested + 1} inside it" if read.nested is not None else "a fence inside it"
    source.warn(rescue.line + 1, f"code fence {fence} opened here {closes} by the CommonMark rule, yet {nested} "
                                 f"reads as nested; read as nested so that {gain}. Lengthen this fence's marker "
                                 f"(e.g. {marker.char * (marker.length + 1)}) so every markdown reader agrees")


def _skip_comment(source: Source, start: int) -> int:
    lines, hidden = source.lines, source.hidden
    for index in range(start, len(lines)):
        if "-->" in (lines[index][lines[index].index("<!--") + 4:] if index == start else lines[index]):
            for covered in range(start, index + 1):
                hidden[covered] = True
            return index + 1
    _unclosed(source, start, "HTML comment `<!--` opened on this line is never closed with `-->`")
    return len(lines)


def _unclosed(source: Source, start: int, what: str) -> None:
    """Hide everything from ``start`` to the end, unless that hides a task: then the plan is refused."""
    lines = source.lines
    for index in range(start + 1, len(lines)):
        if is_task_line(lines[index]):
            raise source.error(f"{what}; it hides `{lines[index].strip()[:60]}` on line {index + 1}, which would "
                               "be lost", start + 1,
                               f"close it where the author meant it to end, then: clavain-cli plan validate "
                               f"{source.path}")
    for index in range(start, len(lines)):
        source.hidden[index] = True
    source.warn(start + 1, f"{what}; the rest of the plan is read as part of it (no task is in it)")


def _headings(source: Source) -> list[Heading]:
    found = []
    for number, line in source.rows:
        if "#" in line[:4]:
            match = _HEADING.match(line)
            if match:
                found.append(Heading(number, len(match.group(1)), (match.group(2) or "").strip()))
    return found


def _nest(source: Source) -> None:
    """One pass over the headings: where each section ends and which heading encloses it."""
    stack: list[Heading] = []
    for heading in source.headings:
        while stack and stack[-1].level >= heading.level:
            source.ends[stack.pop().line] = heading.line - 1
        if stack:
            source.parents[heading.line] = stack[-1]
        stack.append(heading)
    for heading in stack:
        source.ends[heading.line] = len(source.lines)


def section_end(source: Source, heading: Heading) -> int:
    """The last line (1-based) under ``heading``: before the next heading of the same or a higher level."""
    return source.ends[heading.line]


def trim_end(source: Source, start: int, end: int) -> int:
    """Move ``end`` up past blank lines and thematic breaks (``---``) that only separate sections."""
    while end > start and (not source.lines[end - 1].strip() or source.lines[end - 1].strip() in ("---", "***", "___")):
        end -= 1
    return end


def enclosing(source: Source, heading: Heading) -> str | None:
    """Text of the heading that encloses ``heading`` (a Phase / Chunk / Batch section), if any.

    The plan's title (level 1), Must-Haves and Global Constraints headings are not sections."""
    parent = source.parents.get(heading.line)
    if parent is None or parent.level == 1 or not parent.text or is_constraints(parent.text) or MUST_HAVES.match(parent.text):
        return None
    return parent.text


def is_constraints(text: str) -> bool:
    return _CONSTRAINTS.match(text.strip()) is not None


def enclosing_line(source: Source, line: int) -> str | None:
    """Text of the last heading above ``line`` (the section a task line sits in), if any."""
    index = bisect.bisect_left(source.heading_lines, line) - 1
    return (source.headings[index].text or None) if index >= 0 else None
