r"""The bead a plan belongs to, read from its text: frontmatter ``bead:``, then ``**Bead:**`` / ``Bead:``
lines outside code fences. ``clavain-cli infer-bead`` and the plan reader (``Plan.bead``) both read it here,
so they always agree. Standard library only, and neither ``re`` nor ``pathlib`` nor ``typing``: ``infer-bead``
runs on this alone, and each of those costs about half a bare interpreter start. PyYAML only for frontmatter
too intricate to read by line.

The few patterns are read by hand; ``tests/test_gate_infer.py`` holds each reading equal to the regular
expression that specifies it:

    a bead id                ``[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+(?:\.[0-9]+)*``
                             (my-proj-abc1, demo-abc1.2, Sylveste-2f8, iv-xk3: read whole, never truncated)
    a placeholder part       ``[Xx]{2,}|[Xx]*[?#.]+``
    a Bead line              ``\s*(?:[-*+>]\s+)?(?:\*\*Bead:\*\*|\*\*Bead\*\*:|Bead:)(.*)``
    a frontmatter key line   ``([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?``
    a quoted value           ``(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)')\s*(?:#.*)?``
"""

from __future__ import annotations

from clavain.core.errors import BadInput
from clavain.plan.lines import split_lines, structural_lines

_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_WORD = _LETTERS | _DIGITS | {"_"}
_PLACEHOLDER_WORDS = {"", "none", "null", "nil", "n/a", "na", "tbd", "todo", "-", "~", "bead-id", "bead_id"}
_BEAD_KEYWORDS = ("**Bead:**", "**Bead**:", "Bead:")


def is_bead_id(text: str) -> bool:
    """Whether ``text`` is one whole bead id: a prefix and a hash joined by hyphens, with optional ``.N``
    child numbers."""
    name, dot, children = text.partition(".")
    if dot and not all(part and set(part) <= _DIGITS for part in children.split(".")):
        return False
    parts = name.split("-")
    return (len(parts) >= 2 and name[:1] in _LETTERS and all(part and set(part) <= _WORD for part in parts))


def _is_placeholder_part(part: str) -> bool:
    rest = part.lstrip("Xx")
    if not rest:
        return len(part) >= 2
    return not rest.strip("?#.")


def is_placeholder(value: str) -> bool:
    """``none``, ``<bead_id>``, ``Clavain-XXXX`` and the like: text where an id was meant to go."""
    text = value.strip().strip("`'\"").strip()
    if text.lower() in _PLACEHOLDER_WORDS or text.startswith("<") or text.startswith("{") or text.startswith("$"):
        return True
    return any(_is_placeholder_part(part) for part in text.split("-")[1:])


def bead_id_of(value: str) -> str | None:
    """The bead id a ``Bead:`` value names (its first word, backticks and quotes removed), or None."""
    words = value.replace("`", " ").replace('"', " ").replace("'", " ").replace(",", " ").split()
    if not words:
        return None
    word = words[0].rstrip(".;:)")
    if is_placeholder(word) or not is_bead_id(word):
        return None
    return word


def bead_line_value(line: str) -> str | None:
    """What follows ``**Bead:**`` / ``**Bead**:`` / ``Bead:`` on a line (also indented, or as a list item or
    quote), or None when the line is no Bead line."""
    text = line.lstrip()
    candidates = [text]
    if text[:1] in ("-", "*", "+", ">") and text[1:2].isspace():
        candidates.insert(0, text[1:].lstrip())
    for candidate in candidates:
        for keyword in _BEAD_KEYWORDS:
            if candidate.startswith(keyword):
                return candidate[len(keyword):]
    return None


def frontmatter_key(line: str) -> tuple[str, str | None] | None:
    """``(key, value)`` of a top-level ``key: value`` line (value None for a bare ``key:``), or None."""
    if line[:1] not in _LETTERS and line[:1] != "_":
        return None
    end = 1
    while end < len(line) and (line[end].isalnum() or line[end] in "_.-"):
        end += 1
    rest = line[end:].lstrip()
    if rest[:1] != ":":
        return None
    after = rest[1:]
    if not after:
        return line[:end], None
    if not after[0].isspace():
        return None
    return line[:end], after.lstrip()


def _quoted_tail_ok(tail: str) -> bool:
    tail = tail.lstrip()
    return not tail or tail[0] == "#"


def quoted_value(value: str) -> str | None:
    """The text inside a quoted YAML scalar (``"..."``, escapes kept as written, or ``'...'`` with ``''``
    kept), followed by nothing but an optional comment; None when ``value`` is not one."""
    quote = value[:1]
    if quote == '"':
        index = 1
        while index < len(value) and value[index] != '"':
            if value[index] == "\\":
                if index + 1 >= len(value) or value[index + 1] == "\n":
                    return None
                index += 2
            else:
                index += 1
        if index < len(value) and _quoted_tail_ok(value[index + 1:]):
            return value[1:index]
        return None
    if quote == "'":
        ends, index = [1], 1
        while index < len(value):
            if value[index] != "'":
                index += 1
            elif value[index + 1:index + 2] == "'":
                index += 2
            else:
                break
            ends.append(index)
        for end in reversed(ends):   # the longest reading first, as a backtracking regular expression tries
            if value[end:end + 1] == "'" and _quoted_tail_ok(value[end + 1:]):
                return value[1:end]
    return None


def _frontmatter(lines: list[str]) -> list[str] | None:
    if not lines or lines[0].rstrip("\r\n") != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") in ("---", "..."):
            return lines[1:index]
    return None


def _simple_frontmatter_value(block: list[str], key: str) -> tuple[bool, str | None]:
    """(True, value) when the block is simple enough to read ``key`` without a YAML library:
    top-level ``key: value`` lines, indented continuation lines, comments; one-line scalars.
    (False, None) when PyYAML must decide."""
    found: list[str] = []
    for raw in block:
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#") or line.startswith(" "):
            continue
        match = frontmatter_key(line)
        if not match:
            return False, None
        value = (match[1] or "").strip()
        if value[:1] in ("&", "*", "!", "%", "@", "`", "?"):
            return False, None
        if value[:1] in ("'", '"'):
            quoted = quoted_value(value)
            if quoted is None:
                return False, None
            value = quoted if value[0] == '"' else quoted.replace("''", "'")
            if "\\" in value:
                return False, None
        elif value[:1] in ("[", "{"):
            if any(q in value for q in "'\"#") or value.count(value[0]) != value.count("]" if value[0] == "[" else "}") \
                    or not value.endswith(("]", "}")):
                return False, None
        else:
            value = value.split(" #")[0].strip()
            if value[:1] in ("|", ">"):
                if match[0] == key:
                    return False, None
                value = None
        if match[0] == key:
            if not value:
                return False, None  # `bead:` alone may open a nested block: PyYAML decides
            found.append(value)
    if len(found) > 1:
        return False, None
    value = found[0] if found else None
    if value in ("", "~", "null", "Null", "NULL"):
        value = None
    return True, value


def bead_ids_in(text: str, path) -> tuple[list[tuple[str, str]], list[str]]:
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
                         if (m := frontmatter_key(raw.rstrip("\r\n"))) and m[0] == "bead"), 1)
            bead = bead_id_of(value)
            if bead:
                found.append((bead, f"{path}:{line}"))
            elif not is_placeholder(value):
                warnings.append(f"{path}:{line}: frontmatter bead {value!r} is not a bead id; ignored")
    for index, line in structural_lines(lines) if "Bead" in text else ():
        value = bead_line_value(line.rstrip("\r\n"))
        if value is not None:
            bead = bead_id_of(value)
            if bead:
                found.append((bead, f"{path}:{index + 1}"))
    return found, warnings


def _yaml_frontmatter_value(block: list[str], key: str) -> tuple[str | None, str | None]:
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


def read_plan_text(plan_path, retry: str = "clavain-cli infer-bead <plan.md>") -> str:
    """The plan's text; BadInput naming the path and ``retry`` when it cannot be read."""
    try:
        with open(plan_path, "rb") as handle:
            return handle.read().decode("utf-8")
    except FileNotFoundError:
        raise BadInput("plan file not found", path=plan_path,
                       next_command=f"check the path, then: {retry}") from None
    except IsADirectoryError:
        raise BadInput("plan path is a folder, not a file", path=plan_path, next_command=retry) from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"plan is not UTF-8 text (byte {exc.start})", path=plan_path,
                       next_command="save the plan as UTF-8") from None
    except OSError as exc:
        raise BadInput(f"plan cannot be read: {exc.strerror}", path=plan_path,
                       next_command="check the file's permissions") from None


def infer_bead(plan_path, env, text: str | None = None) -> tuple[str, list[str]]:
    """The bead a plan belongs to ("" when none) and warnings. Looks at ``CLAVAIN_BEAD_ID``, then the
    plan's frontmatter ``bead:``, then ``**Bead:**`` / ``Bead:`` lines; several different ids warn and the
    first wins. A missing plan raises BadInput. ``text``: the plan's text when the caller has read it."""
    if text is None:
        text = read_plan_text(plan_path)
    found, warnings = bead_ids_in(text, plan_path)
    forced = env.get("CLAVAIN_BEAD_ID", "").strip()
    if forced and not is_placeholder(forced):
        if is_bead_id(forced):
            found.insert(0, (forced, "CLAVAIN_BEAD_ID"))
        else:
            warnings.append(f"CLAVAIN_BEAD_ID={forced!r} is not a bead id; ignored")
    distinct: list[str] = []
    for bead, _ in found:
        if bead not in distinct:
            distinct.append(bead)
    if len(distinct) > 1:
        named = ", ".join(f"{bead} ({where})" for bead, where in found)
        warnings.append(f"several bead ids: {named}; using {distinct[0]}")
    return (distinct[0] if distinct else ""), warnings
