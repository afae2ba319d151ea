"""Must-Haves: what must be true when the plan is done, from markdown or GSD frontmatter.

Markdown: a ``## Must-Haves`` section with the labels ``**Truths:**``, ``**Artifacts:**`` and
``**Key Links:**`` (or ``###`` headings of those names), each followed by bullets. Bullets before any
label are truths. A label may carry words and a note in parentheses (``**Artifacts** (files with specific
exports):``, ``**Observable Truths:**``); the bullets under a bold label naming none of the three go to the
checklist, with a warning.

- Truth: any text.
- Artifact: ``- `PATH` [— description] [provides TEXT] [exports `a`, `b`] [contains `text`] [(at least N lines)]``.
  The path comes first, in backticks. ``exports`` names symbols the file must define; ``contains`` is
  text the file must hold; ``at least N lines`` / ``N+ lines`` sets ``min_lines``; any other text after
  the path is what it ``provides``.
- Key link, one of:

  - ``- `FROM` imports `NAME` from `TO` [and calls `CALL`]``: ``via`` is "imports NAME"; ``pattern`` (a
    regular expression searched in FROM) matches ``CALL`` when given, else ``NAME``;
  - ``- `FROM` -> `TO` [via TEXT] [pattern `REGEX`]`` (also ``→``, ``to``, ``calls``, ``uses``).

A bullet that fits none of these (``Go and Bats tests cover …``, a key link written as a sentence) cannot be
checked by machine: it goes to the ``checklist`` that the batch and final reports put in front of the user,
with a ``path:line`` warning. It never passes silently.

GSD frontmatter: ``must_haves: {truths: [...], artifacts: [{path, provides, exports, contains,
min_lines}], key_links: [{from, to, via, pattern}]}``. Keys GSD adds (``modified_lines``) are left out with a
warning; an entry that is not of that shape joins the checklist, with a warning.
"""

from __future__ import annotations

import re

from clavain.plan.source import Heading, Source, is_must_haves, section_end

_LABEL = re.compile(r"\s*\*\*([^*]+)\*\*\s*(?:\([^()]*\))?\s*:?\s*$")   # **Artifacts:**, **Artifacts** (...):
_HEADING_LABEL = re.compile(r"(truths|artifacts|key[ -]?links)\s*(?:\([^()]*\))?\s*:?$", re.IGNORECASE)
_LABEL_WORD = re.compile(r"\b(truths?|artifacts?|key[ -]?links?)\b", re.IGNORECASE)
_HEADING_LINE = re.compile(r" {0,3}#{1,6}(?:\s+(.*))?$")
_BULLET = re.compile(r"( {0,3})[-*+]\s+(.*)$")
_LEADING_PATHS = re.compile(r"((?:`[^`]+`\s*(?:[,;]\s*(?:and\s+)?|and\s+|&\s*)?)+)(.*)$")
_EXPORTS = re.compile(r"\bexports?\s+((?:`[^`]+`(?:\s*,\s*|\s+and\s+|,?\s*)?)+)", re.IGNORECASE)
_CONTAINS = re.compile(r"\bcontains\s+`([^`]+)`", re.IGNORECASE)
_MIN_LINES = re.compile(r"\(?\s*(?:at\s+least|min(?:imum)?)\s+(\d+)\s+lines\s*\)?|\(?\s*(\d+)\+\s*lines\s*\)?",
                        re.IGNORECASE)
_PROVIDES = re.compile(r"\bprovides\s+(.*)$", re.IGNORECASE)
_IMPORTS = re.compile(r"`([^`]+)`\s+imports\s+`([^`]+)`\s+from\s+`([^`]+)`(?:\s*,?\s*and\s+calls\s+`([^`]+)`)?\s*\.?$",
                      re.IGNORECASE)
_ARROW = re.compile(r"`([^`]+)`\s*(?:->|→|\bto\b|\bcalls\b|\buses\b)\s*`([^`]+)`(.*)$", re.IGNORECASE)
_VIA = re.compile(r"\bvia\s+(.*?)\s*(?=\bpattern\b|$)", re.IGNORECASE)
_PATTERN = re.compile(r"\bpattern\s+`([^`]+)`", re.IGNORECASE)

ARTIFACT_GRAMMAR = "- `path` [— what it provides] [exports `a`, `b`] [contains `text`] [(at least N lines)]"
KEY_LINK_GRAMMAR = "- `from` imports `name` from `to` [and calls `call`]  or  - `from` -> `to` [via text] [pattern `regex`]"


_ARTIFACT_KEYS = {"path", "provides", "exports", "contains", "min_lines"}
_KEY_LINK_KEYS = {"from", "to", "via", "pattern"}


def empty() -> dict:
    return {"truths": [], "artifacts": [], "key_links": [], "checklist": []}


def from_markdown(source: Source) -> dict:
    result = empty()
    for heading in source.headings:
        if is_must_haves(heading):
            _read_section(source, heading, result)
    return result


def _read_section(source: Source, heading: Heading, result: dict) -> None:
    kind = None          # bullets before any label are truths
    for number, line in source.visible(heading.line + 1, section_end(source, heading)):
        bold = _LABEL.match(line)
        label = bold and _LABEL_WORD.search(bold.group(1))
        heading = _HEADING_LINE.match(line)
        if not label and heading:
            label = _HEADING_LABEL.match((heading.group(1) or "").strip())
        if label:
            kind = _kind(label.group(1))
            continue
        if bold:
            kind = "unknown"
            source.warn(number, f"Must-Haves label {bold.group(1).strip()!r} is not Truths, Artifacts or Key Links; "
                                "the items under it are on the checklist for the user")
            continue
        if heading:
            return                      # another heading (a task placed under Must-Haves) ends the section
        bullet = _BULLET.match(line)
        if not bullet:
            continue
        text = bullet.group(2).strip()
        if kind == "unknown":
            result["checklist"].append(text)
        elif kind in (None, "truths"):
            result["truths"].append(text)
        else:
            read = _artifacts(text, number) if kind == "artifacts" else _key_link(text, number)
            if read is not None:
                result[kind].extend(read if isinstance(read, list) else [read])
            else:
                result["checklist"].append(text)
                what = "artifact" if kind == "artifacts" else "key link"
                grammar = ARTIFACT_GRAMMAR if kind == "artifacts" else KEY_LINK_GRAMMAR
                source.warn(number, f"{what} cannot be checked by machine (write: {grammar}); it is on the "
                                    "checklist for the user")


def _kind(label: str) -> str:
    label = label.lower()
    return "truths" if label.startswith("truth") else "artifacts" if label.startswith("artifact") else "key_links"


def _artifacts(text: str, number: int) -> list[dict] | None:
    """The artifacts of one bullet: ``- `a.py`, `b.py`: ...`` (or ``;``, ``and``) names two files with the same
    description."""
    match = _LEADING_PATHS.match(text)
    if not match:
        return None
    paths = [path.strip() for path in re.findall(r"`([^`]+)`", match.group(1))]
    if any(not path or " " in path for path in paths):
        return None
    return [{**_artifact_clauses(match.group(2)), "path": path, "line": number} for path in paths]


def _artifact_clauses(rest: str) -> dict:
    artifact: dict = {}
    exports = _EXPORTS.search(rest)
    if exports:
        artifact["exports"] = re.findall(r"`([^`]+)`", exports.group(1))
        rest = rest[:exports.start()] + rest[exports.end():]
    contains = _CONTAINS.search(rest)
    if contains:
        artifact["contains"] = contains.group(1)
        rest = rest[:contains.start()] + rest[contains.end():]
    lines = _MIN_LINES.search(rest)
    if lines:
        artifact["min_lines"] = int(lines.group(1) or lines.group(2))
        rest = rest[:lines.start()] + rest[lines.end():]
    provides = _PROVIDES.search(rest)
    rest = (provides.group(1) if provides else rest).strip(" \t-—–:;,.")
    if rest.lower().startswith("and "):
        rest = rest[4:]
    if rest:
        artifact["provides"] = rest
    return artifact


def _key_link(text: str, number: int) -> dict | None:
    match = _IMPORTS.match(text)
    if match:
        source_file, name, target, call = match.groups()
        via = f"imports {name}" + (f" and calls {call}" if call else "")
        return {"from": source_file, "to": target, "via": via, "pattern": re.escape(call or name), "line": number}
    match = _ARROW.match(text)
    if match:
        source_file, target, rest = match.groups()
        link = {"from": source_file, "to": target, "line": number}
        pattern = _PATTERN.search(rest)
        if pattern:
            link["pattern"] = pattern.group(1)
        via = _VIA.search(rest)
        if via and via.group(1).strip(" ,;."):
            link["via"] = via.group(1).strip(" ,;.")
        return link
    return None


def from_frontmatter(source: Source) -> dict:
    """The GSD ``must_haves`` mapping; lines point at the ``must_haves:`` key. What is not of its shape is
    left out or put on the checklist, with a warning (``source.warn``)."""
    result = empty()
    data = source.frontmatter.get("must_haves")
    if data is None:
        return result
    from clavain.plan.yamlfile import key_line

    line = key_line(source.lines[1:source.body_start], "must_haves", 2)
    if not isinstance(data, dict):
        source.warn(line, "frontmatter `must_haves` is not a mapping of truths, artifacts, key_links; it is on the "
                          "checklist for the user")
        result["checklist"].append(_plain(data))
        return result
    unknown = sorted(set(map(str, data)) - {"truths", "artifacts", "key_links"})
    if unknown:
        source.warn(line, f"frontmatter `must_haves` keys {unknown} are left out (known: truths, artifacts, key_links)")
    for key in ("truths", "artifacts", "key_links"):
        entries = data.get(key) or []
        if not isinstance(entries, list):
            source.warn(line, f"frontmatter `must_haves.{key}` is not a list; it is on the checklist for the user")
            result["checklist"].append(_plain(entries))
            continue
        for entry in entries:
            if key == "truths":
                result["truths"].append(_plain(entry))
            else:
                read = _entry(source, entry, line, key)
                result[key if read is not None else "checklist"].append(read if read is not None else _plain(entry))
    return result


def _entry(source: Source, value, line: int, key: str) -> dict | None:
    """One GSD artifact or key link, reduced to the keys the model knows; None when it is not a mapping."""
    what = "artifact" if key == "artifacts" else "key link"
    if not isinstance(value, dict):
        source.warn(line, f"a `must_haves.{key}` entry is not a mapping; it is on the checklist for the user")
        return None
    known = _ARTIFACT_KEYS if key == "artifacts" else _KEY_LINK_KEYS
    extra = sorted(set(map(str, value)) - known)
    if extra:
        source.warn(line, f"`must_haves.{key}` {what} {_plain(value.get('path') or value.get('from'))!r}: keys "
                          f"{extra} are left out (known: {', '.join(sorted(known))})")
    return {**{k: v for k, v in value.items() if k in known}, "line": line}


def _plain(value) -> str:
    """A YAML value as one line of text for the checklist."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_plain(v) for v in value)
    return "" if value is None else str(value)
