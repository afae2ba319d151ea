"""Git evidence for a task: HEAD when it started, the files changed by the time it is done.

Uses the real ``git``. A project that is not a git repository (or a machine without git) simply has no
git evidence: every function returns ``None`` then, and never raises.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from clavain.core.layout import OWN_STATE

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Optional

_TIMEOUT = 30.0


def _git(project: Path, *args: str) -> Optional[str]:
    try:
        proc = subprocess.run(["git", "-C", str(project), *args], capture_output=True, text=True,
                              timeout=_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def is_repo(project: Path) -> bool:
    out = _git(project, "rev-parse", "--is-inside-work-tree")
    return out is not None and out.strip() == "true"


def head(project: Path) -> Optional[str]:
    """The commit HEAD points at, or None (no repository, or no commit yet)."""
    out = _git(project, "rev-parse", "--verify", "-q", "HEAD")
    return out.strip() or None if out is not None else None


def changed_files(project: Path, since: Optional[str]) -> Optional[list[str]]:
    """Files changed since commit ``since``: committed, staged, unstaged and untracked (not ignored).

    Paths are relative to the repository root, sorted; this plugin's own state (``.clavain/execute-plan/``) is
    left out (Clavain's files elsewhere in ``.clavain/`` are the project's like any other)."""
    if not is_repo(project):
        return None
    names: set[str] = set()
    if since:
        committed = _git(project, "diff", "--name-only", since, "HEAD")
        names.update((committed or "").splitlines())
    status = _git(project, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    for record in _porcelain_paths(status or ""):
        names.add(record)
    return sorted(n for n in names if n and not n.startswith(OWN_STATE + "/"))


def _porcelain_paths(raw: str) -> list[str]:
    """Paths from ``git status --porcelain=v1 -z`` (a rename's record is followed by its old path)."""
    out: list[str] = []
    parts = raw.split("\0")
    i = 0
    while i < len(parts):
        rec = parts[i]
        i += 1
        if len(rec) < 4:
            continue
        out.append(rec[3:])
        if rec[0] in "RC":
            i += 1  # skip the old path
    return out
