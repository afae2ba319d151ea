"""GSD ``PLAN.md``: ``<task type="...">`` elements with ``<name>``, ``<files>``, ``<action>``, ``<verify>``, ``<done>``.

``type`` is ``auto`` (the default) or ``checkpoint:human-verify`` / ``checkpoint:decision`` /
``checkpoint:human-action``. Another type is read as the nearest of those, with a warning: ``tdd`` and other
work types as ``auto``, another ``checkpoint:*`` as ``checkpoint:human-verify``. A checkpoint task is the
user's: it ends its batch, the model never starts it, and its ``ask_user`` text (``<how-to-verify>``, or
``<decision>`` with its ``<options>``, else what was built, with the ``<resume-signal>``) is what the batch
report asks the user to do. Ids come from ``<name>Task N: ...</name>``, else from the task's position (1, 2,
...). Tasks inside one GSD plan run in order (GSD waves parallelise whole plans, not tasks). ``<verify>``
may use the ``- run:`` grammar of ``clavain.plan.verify``; prose verification and ``<done>`` criteria become
steps for the executor to check; the whole element text reaches the brief as ``Task.text``. The
frontmatter's ``depends_on`` (other plans), ``wave``, ``files_modified`` and ``autonomous`` are kept; a value
of the wrong shape is reported with a warning and changes nothing here.
"""

from __future__ import annotations

import re

from clavain.plan.headings import text_digest
from clavain.plan.source import Source, enclosing_line, trim_end
from clavain.plan.verify import verify_blocks

_OPEN = re.compile(r"\s*<task\b([^>]*)>(.*)$")
_CLOSE = "</task>"
_TYPE = re.compile(r"""\btype\s*=\s*["']([^"']*)["']""")
_NAME_ID = re.compile(r"Task\s+(\d+[A-Za-z]*(?:\.\d+[A-Za-z]*)*)\s*[:.\-—–]\s*(.*)$", re.IGNORECASE | re.DOTALL)
_ELEMENTS = ("name", "files", "action", "verify", "done", "what-built")
_FRONTMATTER_LISTS = ("depends_on", "files_modified")
KINDS = ("auto", "checkpoint:human-verify", "checkpoint:decision", "checkpoint:human-action")


def find(source: Source) -> list[int]:
    if "<task" not in source.text:    # most plans: no need to look at every line
        return []
    return [number for number, line in source.visible(source.body_start + 1, len(source.lines))
            if "<task" in line and _OPEN.match(line)]


def tasks(source: Source, starts: list[int]) -> tuple[list[dict], list[str]]:
    _check_frontmatter(source)
    result, checkpoints = [], []
    unknown: dict[str, list[int]] = {}
    for position, start in enumerate(starts, 1):
        end = _close_line(source, start, starts[position] if position < len(starts) else len(source.lines) + 1)
        attrs = _OPEN.match(source.line(start)).group(1)
        kind_match = _TYPE.search(attrs)
        written = kind_match.group(1).strip() if kind_match else "auto"
        kind = nearest_kind(written)
        if kind != written:
            unknown.setdefault(written, []).append(start)
        body = "\n".join(source.lines[start - 1:end])
        parts = {name: _element(body, name) for name in _ELEMENTS}
        task_id, title = str(position), (parts["name"] or parts["what-built"] or "").strip()
        named = _NAME_ID.match(title)
        if named:
            task_id, title = named.group(1), named.group(2).strip()
        title = " ".join(title.split()) or f"{kind} task {position}"
        verify = []
        if parts["verify"] is not None and "run:" in parts["verify"]:
            verify = [entry for _, entries in verify_blocks(source, source.visible(start + 1, end - 1)) for entry in entries]
        steps = []
        if parts["verify"] and not verify:
            steps.append(_step("Verify: " + parts["verify"], start))
        if parts["done"]:
            steps.append(_step("Done when: " + parts["done"], start))
        files = [f.strip().strip("`").lstrip("-* ").strip() for f in re.split(r"[,\n]", parts["files"] or "")]
        result.append({
            "id": task_id, "title": title, "line": start, "end_line": end, "files": [f for f in files if f],
            "file_roles": {}, "steps": steps, "verify": verify, "depends": [], "parallel": False, "done": False,
            "kind": kind, "ask_user": ask_user(body, parts) if kind != "auto" else None,
            "section": enclosing_line(source, start), "text": body, "text_sha256": text_digest(source, start, end),
        })
        if kind != "auto":
            checkpoints.append(task_id)
    for written, lines in unknown.items():
        where = f" (also line{'s' if len(lines) > 2 else ''} {', '.join(map(str, lines[1:]))})" if len(lines) > 1 else ""
        source.warn(lines[0], f"GSD task type {written!r} read as {nearest_kind(written)!r}{where}; known types: "
                              + ", ".join(KINDS))
    return result, checkpoints


def nearest_kind(written: str) -> str:
    """The known task type nearest to what the plan wrote: checkpoints stay the user's, all else is work."""
    if written in KINDS:
        return written
    return "checkpoint:human-verify" if written.lower().startswith("checkpoint") else "auto"


def ask_user(body: str, parts: dict) -> str:
    """What a checkpoint task asks of the user, as the plan words it."""
    asked = []
    for name in ("how-to-verify", "decision", "options", "instructions"):
        text = _block(body, name)
        if text:
            asked.append(text)
    if not asked:
        built = _block(body, "what-built") or _block(body, "action") or parts.get("name") or "the work so far"
        asked.append(f"Check: {built}")
    signal = _block(body, "resume-signal")
    if signal:
        asked.append(f"Reply: {signal}")
    return "\n\n".join(asked)


def _close_line(source: Source, start: int, limit: int) -> int:
    for number, line in source.visible(start, limit - 1):
        if _CLOSE in line:
            return number
    end = trim_end(source, start, limit - 1)
    source.warn(start, f"`<task>` element is never closed with `</task>`; read up to line {end}, before the next task")
    return end


def _element(body: str, name: str) -> str | None:
    match = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", body, re.DOTALL)
    return " ".join(match.group(1).split()) if match else None


def _block(body: str, name: str) -> str | None:
    """An element's text with its lines kept (dedented), or None."""
    match = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", body, re.DOTALL)
    if not match:
        return None
    text = match.group(1).strip("\n")
    first, _, rest = text.partition("\n")
    if not rest:
        return first.strip() or None
    import textwrap   # its patterns are compiled on import: only for GSD elements of several lines

    return (first.strip() + "\n" + textwrap.dedent(rest)).strip() or None


def _step(text: str, line: int) -> dict:
    return {"number": None, "text": text, "line": line, "done": False}


def _check_frontmatter(source: Source) -> None:
    from clavain.plan.yamlfile import key_line

    front = source.frontmatter
    head = source.lines[1:source.body_start]
    for key in _FRONTMATTER_LISTS:
        value = front.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, (str, int)) for v in value)):
            source.warn(key_line(head, key, 2), f"frontmatter `{key}` is not a list of names (e.g. [01-01]); kept as written")
    if "wave" in front and (isinstance(front["wave"], bool) or not isinstance(front["wave"], int)):
        source.warn(key_line(head, "wave", 2), "frontmatter `wave` is not a whole number; kept as written")
    if "autonomous" in front and not isinstance(front["autonomous"], bool):
        source.warn(key_line(head, "autonomous", 2), "frontmatter `autonomous` is not true or false; kept as written")
