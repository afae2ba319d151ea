"""The bead a plan belongs to, read from its text: frontmatter ``bead:``, then ``**Bead:**`` / ``Bead:``
lines outside code fences. ``clavain-cli infer-bead`` and the plan reader (``Plan.bead``) both read it here,
so they always agree. Standard library only; PyYAML only for frontmatter too intricate to read by line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from clavain.plan.lines import split_lines, structural_lines

# A bead id is a prefix and a hash joined by hyphens, with optional ``.N`` child numbers:
# my-proj-abc1, demo-abc1.2, Sylveste-2f8, iv-xk3. Read whole, never truncated.
BEAD_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+(?:\.[0-9]+)*")
_PLACEHOLDER_WORDS = {"", "none", "null", "nil", "n/a", "na", "tbd", "todo", "-", "~", "bead-id", "bead_id"}
_PLACEHOLDER_PART = re.compile(r"[Xx]{2,}|[Xx]*[?#.]+")
_BEAD_LINE = re.compile(r"^\s*(?:[-*+>]\s+)?(?:\*\*Bead:\*\*|\*\*Bead\*\*:|Bead:)(.*)$")
_FM_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?$")
_FM_QUOTED = re.compile(r"""^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)')\s*(?:#.*)?$""")


def is_placeholder(value: str) -> bool:
    """``none``, ``<bead_id>``, ``Clavain-XXXX`` and the like: text where an id was meant to go."""
    text = value.strip().strip("`'\"").strip()
    if text.lower() in _PLACEHOLDER_WORDS or text.startswith("<") or text.startswith("{") or text.startswith("$"):
        return True
    return any(_PLACEHOLDER_PART.fullmatch(part) for part in text.split("-")[1:])


def bead_id_of(value: str) -> Optional[str]:
    """The bead id a ``Bead:`` value names (its first word, backticks and quotes removed), or None."""
    words = value.replace("`", " ").replace('"', " ").replace("'", " ").replace(",", " ").split()
    if not words:
        return None
    word = words[0].rstrip(".;:)")
    if is_placeholder(word) or not BEAD_ID.fullmatch(word):
        return None
    return word


def _frontmatter(lines: list[str]) -> Optional[list[str]]:
    if not lines or lines[0].rstrip("\r\n") != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") in ("---", "..."):
            return lines[1:index]
    return None


def _simple_frontmatter_value(block: list[str], key: str) -> tuple[bool, Optional[str]]:
    """(True, value) when the block is simple enough to read ``key`` without a YAML library:
    top-level ``key: value`` lines, indented continuation lines, comments; one-line scalars.
    (False, None) when PyYAML must decide."""
    found: list[str] = []
    for raw in block:
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#") or line.startswith(" "):
            continue
        match = _FM_KEY.match(line)
        if not match:
            return False, None
        value = (match.group(2) or "").strip()
        if value[:1] in ("&", "*", "!", "%", "@", "`", "?"):
            return False, None
        if value[:1] in ("'", '"'):
            quoted = _FM_QUOTED.match(value)
            if not quoted:
                return False, None
            value = quoted.group(1) if quoted.group(1) is not None else quoted.group(2).replace("''", "'")
            if "\\" in value:
                return False, None
        elif value[:1] in ("[", "{"):
            if any(q in value for q in "'\"#") or value.count(value[0]) != value.count("]" if value[0] == "[" else "}") \
                    or not value.endswith(("]", "}")):
                return False, None
        else:
            value = value.split(" #")[0].strip()
            if value[:1] in ("|", ">"):
                if match.group(1) == key:
                    return False, None
                value = None
        if match.group(1) == key:
            if not value:
                return False, None  # `bead:` alone may open a nested block: PyYAML decides
            found.append(value)
    if len(found) > 1:
        return False, None
    value = found[0] if found else None
    if value in ("", "~", "null", "Null", "NULL"):
        value = None
    return True, value


def bead_ids_in(text: str, path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Bead ids a plan names, in order: frontmatter ``bead:``, then ``**Bead:**`` / ``Bead:`` lines
    outside code fences. Returns ([(id, "path:line")], warnings)."""
    lines = split_lines(text)
    found: list[tuple[str, str]] = []
    warnings: list[str] = []
    block = _frontmatter(lines)
    if block is not None:
        simple, value = _simple_frontmatter_value(block, "bead")
        if not simple:
            value, problem = _yaml_frontmatter_value(block, "bead")
            if problem:
                warnings.append(f"{path}:1: frontmatter not read for `bead:` ({problem})")
        if value is not None:
            line = next((i + 2 for i, raw in enumerate(block)
                         if (m := _FM_KEY.match(raw.rstrip("\r\n"))) and m.group(1) == "bead"), 1)
            bead = bead_id_of(value)
            if bead:
                found.append((bead, f"{path}:{line}"))
            elif not is_placeholder(value):
                warnings.append(f"{path}:{line}: frontmatter bead {value!r} is not a bead id; ignored")
    for index, line in structural_lines(lines) if "Bead" in text else ():
        match = _BEAD_LINE.match(line.rstrip("\r\n"))
        if match:
            bead = bead_id_of(match.group(1))
            if bead:
                found.append((bead, f"{path}:{index + 1}"))
    return found, warnings


def _yaml_frontmatter_value(block: list[str], key: str) -> tuple[Optional[str], Optional[str]]:
    import yaml

    try:
        data = yaml.safe_load("".join(block))
    except yaml.YAMLError as exc:
        return None, f"not valid YAML: {getattr(exc, 'problem', exc)}"
    if not isinstance(data, dict) or data.get(key) is None:
        return None, None
    value = data[key]
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value), None
    return None, f"`{key}:` is a {type(value).__name__}, not a bead id"
