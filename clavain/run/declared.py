"""The files a task says it changes, and which of them a task left untouched (no phantom completions).

A task declares files with ``Create:`` / ``Modify:`` / ``Test:`` / ``Delete:`` lines, a ``**Files:**`` list, GSD
``<files>`` or the paths of a spec-kit task line. Files listed with a role that does not change them
(``Read:``, ``Reference:``, ``Inspect:``, ``Keep:``, ``Possibly modify:`` ...) are not declared changes.

A declared path matches a changed path when they are the same, when the declared one is a folder holding it,
when it is a glob matching it, or when the changed path ends with it (plans name paths from the project, the
repository or a sub-project). Changed paths are relative to the repository's top, declared ones to the
project; ``prefix`` (the project's folder inside the repository) joins the two. Pure: no I/O here.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False   # not ``typing``'s: task-done loads this module
if TYPE_CHECKING:
    from typing import Iterable, Mapping

_CHANGES = re.compile(r"(create|modify|delete|remove|test|tests|touch|rewrite|update|edit|add|write|rename|move|"
                      r"change|replace|implement|extend|refactor)\b", re.IGNORECASE)


def declared_changes(files: Iterable[str], roles: Mapping[str, str]) -> list[str]:
    """The files the task says it changes: those with no role (a Files list, GSD, spec-kit) or a changing one."""
    out = []
    for path in files:
        role = (roles.get(path) or "").strip()
        if not role or _CHANGES.match(role):
            out.append(path)
    return out


def _clean(path: str) -> str:
    path = path.strip().strip("`'\"").replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/") if path.startswith("/") and not path.startswith("//") else path


def touches(declared: str, changed: str, prefix: str = "") -> bool:
    """Whether the changed path (from the repository's top) is the declared one (from the project)."""
    want = _clean(declared)
    if not want:
        return False
    for path in {changed, changed[len(prefix) + 1:] if prefix and changed.startswith(prefix + "/") else changed}:
        if path == want or path.startswith(want.rstrip("/") + "/") or path.endswith("/" + want):
            return True
        if any(ch in want for ch in "*?["):
            from fnmatch import fnmatchcase

            if fnmatchcase(path, want) or fnmatchcase(path, "*/" + want):
                return True
    return False


def untouched(declared: Iterable[str], changed: Iterable[str], prefix: str = "") -> list[str]:
    """The declared files no changed path touches, in the plan's order."""
    changed = list(changed)
    return [d for d in declared if not any(touches(d, c, prefix) for c in changed)]
