"""GSD ``PLAN.md``: ``<task type="...">`` elements with ``<name>``, ``<files>``, ``<action>``, ``<verify>``, ``<done>``.

``type`` is ``auto`` (the default) or ``checkpoint:human-verify`` / ``checkpoint:decision`` /
``checkpoint:human-action``; a checkpoint task ends its batch. Ids come from ``<name>Task N: ...</name>``,
else from the task's position (1, 2, ...). Tasks inside one GSD plan run in order (GSD waves
parallelise whole plans, not tasks). ``<verify>`` may use the ``- run:`` grammar of ``clavain.plan.verify``;
prose verification and ``<done>`` criteria become steps for the executor to check. The frontmatter's
``depends_on`` (other plans), ``wave``, ``files_modified`` and ``autonomous`` are shape-checked and kept.
"""

from __future__ import annotations

import re

from clavain.plan.headings import text_digest
from clavain.plan.source import Source, enclosing_line
from clavain.plan.verify import verify_blocks

_OPEN = re.compile(r"\s*<task\b([^>]*)>(.*)$")
_CLOSE = "</task>"
_TYPE = re.compile(r"""\btype\s*=\s*["']([^"']*)["']""")
_NAME_ID = re.compile(r"Task\s+(\d+[A-Za-z]*(?:\.\d+[A-Za-z]*)*)\s*[:.\-—–]\s*(.*)$", re.IGNORECASE | re.DOTALL)
_ELEMENTS = ("name", "files", "action", "verify", "done", "what-built")
_FRONTMATTER_LISTS = ("depends_on", "files_modified")


def find(source: Source) -> list[int]:
    return [number for number, line in source.visible(source.body_start + 1, len(source.lines))
            if "<task" in line and _OPEN.match(line)]


def tasks(source: Source, starts: list[int]) -> tuple[list[dict], list[str]]:
    _check_frontmatter(source)
    result, checkpoints = [], []
    for position, start in enumerate(starts, 1):
        end = _close_line(source, start, starts[position] if position < len(starts) else len(source.lines) + 1)
        attrs = _OPEN.match(source.line(start)).group(1)
        kind_match = _TYPE.search(attrs)
        kind = kind_match.group(1).strip() if kind_match else "auto"
        if kind != "auto" and not kind.startswith("checkpoint:"):
            raise source.error(f"unknown GSD task type {kind!r}; use auto, checkpoint:human-verify, "
                               "checkpoint:decision or checkpoint:human-action", start)
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
            "kind": kind, "section": enclosing_line(source, start), "text_sha256": text_digest(source, start, end),
        })
        if kind.startswith("checkpoint:"):
            checkpoints.append(task_id)
    return result, checkpoints


def _close_line(source: Source, start: int, limit: int) -> int:
    for number, line in source.visible(start, limit - 1):
        if _CLOSE in line:
            return number
    raise source.error("`<task>` element is never closed with `</task>` (before the next task)", start)


def _element(body: str, name: str) -> str | None:
    match = re.search(rf"<{name}>(.*?)</{name}>", body, re.DOTALL)
    return " ".join(match.group(1).split()) if match else None


def _step(text: str, line: int) -> dict:
    return {"number": None, "text": text, "line": line, "done": False}


def _check_frontmatter(source: Source) -> None:
    from clavain.plan.yamlfile import key_line

    front = source.frontmatter
    head = source.lines[1:source.body_start]
    for key in _FRONTMATTER_LISTS:
        value = front.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, (str, int)) for v in value)):
            raise source.error(f"frontmatter `{key}` must be a list of names, e.g. [01-01]", key_line(head, key, 2))
    if "wave" in front and (isinstance(front["wave"], bool) or not isinstance(front["wave"], int)):
        raise source.error("frontmatter `wave` must be a whole number", key_line(head, "wave", 2))
    if "autonomous" in front and not isinstance(front["autonomous"], bool):
        raise source.error("frontmatter `autonomous` must be true or false", key_line(head, "autonomous", 2))
