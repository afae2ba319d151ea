"""Snapshots of the project, made with git's own index machinery, and what changed between two of them.

``take(project)`` copies the repository's index to a temporary one (so unchanged files are not read again),
adds every tracked and untracked file that ``.gitignore`` does not exclude, and writes the tree: one tree id
names the whole work tree as it stands. Nothing of the user's index, branch or history changes (only loose
objects are added, which git's own gc prunes). ``.git/`` is never in a tree, and this plugin's own state
(``clavain.core.paths.owned_paths``) is left out.

``changed(project, before, after)`` lists the paths whose content or mode differs between two snapshots. A
plan file whose only changes are its ``**Phase:**`` line and checkbox ticks does not count (``plan``).

Outside a git repository (or without git) there are no snapshots: ``take`` returns None, and callers say so.
Every git call is bounded in time; a failing one means "no snapshot", never an exception.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from clavain.core.paths import owned_paths

TIMEOUT = 60.0
_TICK = re.compile(r"^(\s*[-*+]\s+)\[[ xX]\]", re.MULTILINE)


def _git(project: Path, *args: str, env: Optional[dict] = None, data: Optional[bytes] = None) -> Optional[bytes]:
    try:
        proc = subprocess.run(["git", "-C", str(project), *args], input=data, capture_output=True,
                              timeout=TIMEOUT, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_dir(project: Path) -> Optional[Path]:
    """The repository's git folder when ``project`` is inside a work tree, else None."""
    out = _git(project, "rev-parse", "--is-inside-work-tree", "--absolute-git-dir")
    if out is None:
        return None
    lines = out.decode("utf-8", "replace").splitlines()
    return Path(lines[1]) if len(lines) == 2 and lines[0] == "true" else None


def take(project: Path) -> Optional[str]:
    """A tree id naming the project's files as they stand now, or None outside git."""
    project = Path(project)
    where = git_dir(project)
    if where is None:
        return None
    # the temporary index sits in the repository's own folder: the one place besides the work tree that git
    # writes anyway (objects), so it works inside Claude Code's sandbox, where /tmp may be read-only
    try:
        fd, index = tempfile.mkstemp(prefix="clavain-snapshot-", suffix=".index", dir=where)
    except OSError:
        return None
    os.close(fd)
    try:
        try:
            shutil.copyfile(where / "index", index)
        except OSError:
            os.unlink(index)  # no index yet (a repository without a commit): git starts a new one
        env = {**os.environ, "GIT_INDEX_FILE": index}
        exclude = [f":(exclude){path.relative_to(project).as_posix()}" for path, _ in owned_paths(project)]
        if _git(project, "add", "-A", "--ignore-errors", "--", ":/", *exclude, env=env) is None:
            return None
        tree = _git(project, "write-tree", env=env)
        return tree.decode("ascii").strip() if tree else None
    finally:
        try:
            os.unlink(index)
        except OSError:
            pass


def changed(project: Path, before: Optional[str], after: Optional[str], *, plan: Optional[str] = None) -> \
        Optional[list[str]]:
    """Paths (relative to the repository's top) that differ between two snapshots, sorted; None when either is
    missing. ``plan``: the plan's path relative to the repository's top; its Phase line and ticks do not count."""
    if not before or not after:
        return None
    if before == after:
        return []
    out = _git(Path(project), "diff-tree", "-r", "-z", "--no-renames", "--name-only", before, after)
    if out is None:
        return None
    paths = sorted(p for p in out.decode("utf-8", "surrogateescape").split("\0") if p)
    if plan is not None and plan in paths and _same_plan(Path(project), before, after, plan):
        paths.remove(plan)
    return paths


def _same_plan(project: Path, before: str, after: str, plan: str) -> bool:
    """Whether the plan differs only in its Phase line and checkbox ticks."""
    from clavain.core.digest import without_phase_lines

    texts = []
    for tree in (before, after):
        blob = _git(project, "cat-file", "-p", f"{tree}:{plan}")
        if blob is None:
            return False
        texts.append(_TICK.sub(r"\1[ ]", without_phase_lines(blob.decode("utf-8", "surrogateescape"))))
    return texts[0] == texts[1]


def top(project: Path) -> Optional[Path]:
    """The repository's top folder, or None."""
    out = _git(Path(project), "rev-parse", "--show-toplevel")
    return Path(out.decode("utf-8", "surrogateescape").strip()) if out else None


def diff_text(project: Path, before: str, after: str, paths: Sequence[str] = ()) -> str:
    """``git diff`` between two snapshots (a stat, then the patch), for ``run diff``."""
    args = ["diff", "--no-color", "--stat", "--patch", before, after]
    out = _git(Path(project), *args, *(["--", *paths] if paths else []))
    return out.decode("utf-8", "replace") if out is not None else ""
