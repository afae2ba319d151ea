"""``<verify>`` blocks: commands a task must pass, checked by the run.

Grammar (one block per task, outside code fences)::

    <verify>
    - run: `command`            the command in backticks (``double`` backticks if it holds one)
      expect: exit N            exit code N (the default: exit 0)
      expect: exit any          any exit code (then only ``contains`` is checked)
      expect: contains "text"   the combined output contains text (exit 0 still required unless ``exit any``)
    </verify>

Forgiving, never silent: a ``# comment`` after an expectation is not part of it; ``- run: make test`` without
backticks runs ``make test``; an expectation in words (``expect: PASS``, ``expect: contains a non-zero
number``) runs the command, records its output for the user and the model to judge, and checks no exit code
unless ``expect: exit N`` says one; a line the grammar does not know, an ``expect:`` before any ``run:``, an
empty or unclosed block are left out. Each of these leaves a ``path:line`` warning on the source.
"""

from __future__ import annotations

import re

from clavain.plan.source import Source

_RUN = re.compile(r"\s*[-*]\s+run:\s*(.*)$")
_EXPECT = re.compile(r"\s*(?:[-*]\s+)?expect:\s*(.*)$")
_EXPECT_EXIT = re.compile(r"exit\s+(-?\d+|any)\s*(?:#.*)?$")
_EXPECT_CONTAINS = re.compile(r"contains\s+(?:\"(.*)\"|'(.*)')\s*(?:#.*)?$")
_COMMENT = re.compile(r"\s+#.*$")
_CODE = re.compile(r"(`+)\s?(.+?)\s?\1(?!`)")
OPEN = re.compile(r"\s*<verify>\s*$")
CLOSE = re.compile(r"\s*</verify>\s*$")

GRAMMAR = "entries are `- run: `command`` lines, each optionally followed by `expect: exit N`, " \
          "`expect: exit any` or `expect: contains \"text\"`"


def verify_blocks(source: Source, rows: list[tuple[int, str]]) -> list[tuple[int, list[dict]]]:
    """Every ``<verify>`` block among ``rows`` (structural (number, text) lines): (line, entries as dicts)."""
    blocks = []
    index = 0
    while index < len(rows):
        number, line = rows[index]
        if "<verify" not in line:
            index += 1
        elif OPEN.match(line):
            entries, index = _read_block(source, rows, index)
            blocks.append((number, entries))
        else:
            if "<verify>" in line and "</verify>" in line:
                source.warn(number, "`<verify>` and `</verify>` on one line are not read as checks (put each on a "
                                    "line of its own); the line stays in the task's text for the executor")
            index += 1
    return blocks


def _read_block(source: Source, rows, index):
    opened = rows[index][0]
    entries: list[dict] = []
    explicit_exit: set[int] = set()
    index += 1
    while index < len(rows):
        number, line = rows[index]
        if CLOSE.match(line):
            if not entries:
                source.warn(opened, "`<verify>` block without a `- run:` entry: nothing to check; " + GRAMMAR)
            return entries, index + 1
        if OPEN.match(line):
            source.warn(opened, f"`<verify>` opened on line {opened} is not closed before line {number}; the block "
                                "ends there")
            return entries, index
        index += 1
        if not line.strip():
            continue
        run = _RUN.match(line)
        if run:
            entry = _entry(source, run.group(1), number)
            if entry is not None:
                entries.append(entry)
            continue
        expect = _EXPECT.match(line)
        if expect:
            if not entries:
                source.warn(number, "`expect:` before any `- run:` entry is left out; " + GRAMMAR)
                continue
            _apply_expect(source, entries[-1], expect.group(1).strip(), number, explicit_exit)
            continue
        source.warn(number, f"line in `<verify>` block left out: {line.strip()[:80]!r}; " + GRAMMAR)
    source.warn(opened, "`<verify>` block is never closed with `</verify>`; it ends with its task")
    return entries, index


def _entry(source: Source, text: str, number: int) -> dict | None:
    code = _CODE.search(text)
    if code and code.group(2).strip():
        command = code.group(2).strip()
    else:
        command = text.strip()
        if not command:
            source.warn(number, "`run:` without a command is left out; write - run: `command`")
            return None
        source.warn(number, f"`run:` without backticks: the command run is `{command}`")
    return {"run": command, "expect_exit": 0, "expect_contains": None, "expect_prose": None, "line": number}


def _apply_expect(source: Source, entry: dict, text: str, number: int, explicit_exit: set[int]) -> None:
    exit_match = _EXPECT_EXIT.match(text)
    if exit_match:
        value = exit_match.group(1)
        entry["expect_exit"] = None if value == "any" else int(value)
        explicit_exit.add(entry["line"])
        return
    contains = _EXPECT_CONTAINS.match(text)
    if contains:
        entry["expect_contains"] = contains.group(1) if contains.group(1) is not None else contains.group(2)
        return
    prose = _COMMENT.sub("", text).strip() or text
    entry["expect_prose"] = f"{entry['expect_prose']}; {prose}" if entry["expect_prose"] else prose
    if entry["line"] not in explicit_exit:
        entry["expect_exit"] = None
    source.warn(number, f"expectation {prose[:80]!r} is not `exit N` or `contains \"text\"`: the command runs and "
                        "its output is recorded for the user and the model to judge")
