"""Must-Haves: what must be true when the plan is done, from markdown or GSD frontmatter.

Markdown: a ``## Must-Haves`` section with the labels ``**Truths:**``, ``**Artifacts:**`` and
``**Key Links:**`` (or ``###`` headings of those names), each followed by bullets. Bullets before any
label are truths.

- Truth: any text.
- Artifact: ``- `PATH` [— description] [provides TEXT] [exports `a`, `b`] [contains `text`] [(at least N lines)]``.
  The path comes first, in backticks. ``exports`` names symbols the file must define; ``contains`` is
  text the file must hold; ``at least N lines`` / ``N+ lines`` sets ``min_lines``; any other text after
  the path is what it ``provides``.
- Key link, one of:

  - ``- `FROM` imports `NAME` from `TO` [and calls `CALL`]``: ``via`` is "imports NAME"; ``pattern`` (a
    regular expression searched in FROM) matches ``CALL`` when given, else ``NAME``;
  - ``- `FROM` -> `TO` [via TEXT] [pattern `REGEX`]`` (also ``→``, ``to``, ``calls``, ``uses``).

A bullet that fits none of these is an error: a Must-Have that cannot be checked must not pass silently.

GSD frontmatter: ``must_haves: {truths: [...], artifacts: [{path, provides, exports, contains,
min_lines}], key_links: [{from, to, via, pattern}]}``.
"""

from __future__ import annotations

import re

from clavain.plan.source import Heading, Source, section_end

_LABEL = re.compile(r"\s*\*\*\s*(truths|artifacts|key[ -]?links)\s*:?\s*\*\*\s*:?\s*$", re.IGNORECASE)
_HEADING_LABEL = re.compile(r"(truths|artifacts|key[ -]?links)\s*:?$", re.IGNORECASE)
_HEADING_LINE = re.compile(r" {0,3}#{1,6}(?:\s+(.*))?$")
_BULLET = re.compile(r"( {0,3})[-*+]\s+(.*)$")
_ARTIFACT = re.compile(r"`([^`]+)`\s*(.*)$")
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


def is_must_haves(heading: Heading) -> bool:
    return re.fullmatch(r"must[- ]?haves?", heading.text.strip().rstrip(":"), re.IGNORECASE) is not None


def from_markdown(source: Source) -> dict:
    result: dict = {"truths": [], "artifacts": [], "key_links": []}
    for heading in source.headings:
        if is_must_haves(heading):
            _read_section(source, heading, result)
    return result


def _read_section(source: Source, heading: Heading, result: dict) -> None:
    kind = None          # bullets before any label are truths
    for number, line in source.visible(heading.line + 1, section_end(source, heading)):
        label = _LABEL.match(line)
        heading = _HEADING_LINE.match(line)
        if not label and heading:
            label = _HEADING_LABEL.match(heading.group(1).strip())
        if label:
            kind = _kind(label.group(1))
            continue
        if heading:
            return                      # another heading (a task placed under Must-Haves) ends the section
        bullet = _BULLET.match(line)
        if not bullet:
            continue
        text = bullet.group(2).strip()
        if kind in (None, "truths"):
            result["truths"].append(text)
        elif kind == "artifacts":
            result["artifacts"].append(_artifact(source, text, number))
        else:
            result["key_links"].append(_key_link(source, text, number))


def _kind(label: str) -> str:
    label = label.lower()
    return "truths" if label.startswith("truth") else "artifacts" if label.startswith("artifact") else "key_links"


def _artifact(source: Source, text: str, number: int) -> dict:
    match = _ARTIFACT.match(text)
    if not match:
        raise source.error(f"artifact must start with its path in backticks: {ARTIFACT_GRAMMAR}", number)
    artifact: dict = {"path": match.group(1).strip(), "line": number}
    rest = match.group(2)
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


def _key_link(source: Source, text: str, number: int) -> dict:
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
    raise source.error(f"key link not understood; write: {KEY_LINK_GRAMMAR}", number)


def from_frontmatter(source: Source) -> dict:
    """The GSD ``must_haves`` mapping, shape-checked; lines point at the ``must_haves:`` key."""
    data = source.frontmatter.get("must_haves")
    if data is None:
        return {"truths": [], "artifacts": [], "key_links": []}
    from clavain.plan.yamlfile import key_line

    line = key_line(source.lines[1:source.body_start], "must_haves", 2)
    if not isinstance(data, dict):
        raise source.error("frontmatter `must_haves` must be a mapping with truths, artifacts, key_links", line)
    unknown = set(data) - {"truths", "artifacts", "key_links"}
    if unknown:
        raise source.error(f"frontmatter `must_haves` has unknown keys {sorted(unknown)}; "
                           "allowed: truths, artifacts, key_links", line)
    result = {"truths": data.get("truths") or [], "artifacts": data.get("artifacts") or [],
              "key_links": data.get("key_links") or []}
    for key in result:
        if not isinstance(result[key], list):
            raise source.error(f"frontmatter `must_haves.{key}` must be a list", line)
    result["truths"] = [_truth(source, t, line) for t in result["truths"]]
    result["artifacts"] = [_with_line(source, a, line, "artifacts") for a in result["artifacts"]]
    result["key_links"] = [_with_line(source, k, line, "key_links") for k in result["key_links"]]
    return result


def _truth(source: Source, value, line: int) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise source.error("each `must_haves.truths` entry must be a sentence (a string)", line)
    return str(value)


def _with_line(source: Source, value, line: int, key: str) -> dict:
    if not isinstance(value, dict):
        raise source.error(f"each `must_haves.{key}` entry must be a mapping", line)
    return {**value, "line": line}
