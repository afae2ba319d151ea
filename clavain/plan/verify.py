"""``<verify>`` blocks: commands a task must pass, checked by the run.

Grammar (one block per task, outside code fences)::

    <verify>
    - run: `command`            the command in backticks (``double`` backticks if it holds one)
      expect: exit N            exit code N (the default: exit 0)
      expect: exit any          any exit code (then only ``contains`` is checked)
      expect: contains "text"   the combined output contains text (exit 0 still required unless ``exit any``)
    </verify>

Anything else inside the block is an error, so a typo never turns into a check that silently passes.
"""

from __future__ import annotations

import re

from clavain.plan.source import Source

_RUN = re.compile(r"\s*[-*]\s+run:\s*(.*)$")
_EXPECT = re.compile(r"\s*(?:[-*]\s+)?expect:\s*(.*)$")
_EXPECT_EXIT = re.compile(r"exit\s+(-?\d+|any)\s*$")
_EXPECT_CONTAINS = re.compile(r"contains\s+(?:\"(.*)\"|'(.*)')\s*$")
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
        elif "<verify>" in line and "</verify>" in line:
            raise source.error("put `<verify>` and `</verify>` on lines of their own; " + GRAMMAR, number)
        else:
            index += 1
    return blocks


def _read_block(source: Source, rows, index):
    opened = rows[index][0]
    entries: list[dict] = []
    index += 1
    while index < len(rows):
        number, line = rows[index]
        index += 1
        if CLOSE.match(line):
            if not entries:
                raise source.error("`<verify>` block without a `- run:` entry; " + GRAMMAR, opened)
            return entries, index
        if not line.strip():
            continue
        run = _RUN.match(line)
        if run:
            code = _CODE.search(run.group(1))
            if not code or not code.group(2).strip():
                raise source.error("`run:` needs the command in backticks, e.g. - run: `pytest -q`", number)
            entries.append({"run": code.group(2).strip(), "expect_exit": 0, "expect_contains": None,
                            "line": number})
            continue
        expect = _EXPECT.match(line)
        if expect:
            if not entries:
                raise source.error("`expect:` before any `- run:` entry; " + GRAMMAR, number)
            _apply_expect(source, entries[-1], expect.group(1).strip(), number)
            continue
        if OPEN.match(line):
            raise source.error(f"`<verify>` opened on line {opened} is not closed before this one", number)
        raise source.error(f"unexpected line in `<verify>` block: {line.strip()[:80]!r}; " + GRAMMAR, number)
    raise source.error("`<verify>` block is never closed with `</verify>`", opened)


def _apply_expect(source: Source, entry: dict, text: str, number: int) -> None:
    exit_match = _EXPECT_EXIT.match(text)
    if exit_match:
        value = exit_match.group(1)
        entry["expect_exit"] = None if value == "any" else int(value)
        return
    contains = _EXPECT_CONTAINS.match(text)
    if contains:
        entry["expect_contains"] = contains.group(1) if contains.group(1) is not None else contains.group(2)
        return
    raise source.error(f"unknown expectation {text[:80]!r}; use `expect: exit N`, `expect: exit any` or "
                       "`expect: contains \"text\"`", number)
