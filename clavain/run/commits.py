"""A git commit per task (``run.commit: task``), and the way back (``run rollback``).

``commit_task`` commits exactly one task's changes: the difference between its start and done snapshots
(``clavain.run.snapshot``, read from the snapshot store), applied to HEAD in an index of its own, so nothing the
user had staged or left uncommitted elsewhere goes in. When that difference does not apply to HEAD alone (the user's own uncommitted
edits in the same lines), the task's files are committed whole, and the result says so. The commit is made with
git's plumbing (``commit-tree``, ``update-ref`` with the old value, so a HEAD that moved meanwhile is never
overwritten); the repository's commit hooks do not run. The user's index then holds the committed entries
for those paths, so ``git status`` shows them as committed.

Each commit carries the run and the task's attempt in its message (``Clavain-Run:`` / ``Clavain-Task:``
lines): a ``task-done`` repeated after a kill between the commit and the journal line finds its commit at
HEAD and records that one instead of making a second.

``undo`` moves HEAD back past the run's own commits, and only those: a commit by anyone else on top of them
is named and nothing moves. Every git call is bounded in time; failures raise ``EnvironmentProblem`` naming
what git said.

These calls work in the user's repository, whose ``.git/config`` the model may have written while a batch ran:
none of them starts a program that config could name (no hooks, no fsmonitor, no signing or signature checks,
no filters: blobs are written with ``--no-filters``). The user's own settings (their identity) still apply.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from clavain.core.errors import EnvironmentProblem

TIMEOUT = 60.0
ZERO = "0" * 40
_HARDENED = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false",
             "-c", "log.showSignature=false", "-c", "diff.external=", "-c", "core.pager=cat")
# where a caller's environment could point git at another repository, index or config
_REDIRECTS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
              "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_EXEC_PATH")


@dataclass
class Made:
    """What ``commit_task`` did: the commit (None when the task's changes were already in HEAD), whether it was
    found from an earlier try, and the files committed whole."""

    sha: Optional[str]
    found: bool = False
    whole: list[str] = field(default_factory=list)


def _git(top: Path, *args: str, index: Optional[str] = None, data: Optional[bytes] = None,
         check: bool = True, what: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTS and not k.startswith("GIT_CONFIG_")}
    env["GIT_TERMINAL_PROMPT"] = "0"
    if index:
        env["GIT_INDEX_FILE"] = index
    try:
        proc = subprocess.run(["git", *_HARDENED, "-C", str(top), *args], input=data, capture_output=True,
                              timeout=TIMEOUT, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        raise EnvironmentProblem(f"git could not run ({what or args[0]}): {exc}",
                                 next_command="check that git works in the project, then repeat the command") \
            from None
    if check and proc.returncode != 0:
        said = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise EnvironmentProblem(f"git {args[0]} failed ({what or 'git'}): {said[-1] if said else 'no message'}",
                                 next_command="fix what git reports, then repeat the command")
    return proc


def _out(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.decode("utf-8", "surrogateescape").strip()


def head(top: Path) -> Optional[str]:
    """HEAD's commit, or None on a branch without commits yet."""
    proc = _git(top, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    return _out(proc) or None if proc.returncode == 0 else None


def marker(run_id: str, task_id: str, attempt: int) -> str:
    return f"Clavain-Run: {run_id}\nClavain-Task: {task_id} attempt {attempt}"


def message(run_id: str, task_id: str, title: str, attempt: int) -> str:
    return f"task {task_id}: {' '.join(title.split())}\n\n{marker(run_id, task_id, attempt)}\n"


def _literal(paths: Sequence[str]) -> list[str]:
    return [f":(top,literal){p}" for p in paths]


def _entries(listed: bytes, paths: Sequence[str]) -> bytes:
    """``update-index --index-info`` lines setting ``paths`` as ``ls-tree -z`` lists them (removing the others)."""
    lines, present = [], set()
    for record in listed.split(b"\0"):
        if record:
            meta, _, name = record.partition(b"\t")
            mode, _kind, sha = meta.split(b" ")
            present.add(name)
            lines.append(b"%s %s\t%s" % (mode, sha, name))
    for path in paths:
        raw = path.encode("utf-8", "surrogateescape")
        if raw not in present:
            lines.append(b"0 " + ZERO.encode() + b"\t" + raw)
    return b"\0".join(lines) + b"\0"


def _set_index(top: Path, tree: str, paths: Sequence[str], index: Optional[str] = None) -> None:
    """Set ``paths`` in an index of the user's repository as its ``tree`` (a commit of theirs) holds them."""
    listed = _git(top, "ls-tree", "-r", "-z", "--full-tree", tree, "--", *_literal(paths), what="ls-tree").stdout
    _git(top, "update-index", "-z", "--index-info", index=index, data=_entries(listed, paths), what="update-index")


def _apply(project: Path, top: Path, before: str, after: str, paths: Sequence[str], index: str) -> bool:
    """Apply the task's diff (from the snapshot store) to the index: with three lines of context, else with none
    (the user's own uncommitted lines next to the task's do not stop it). False when neither applies."""
    from clavain.run.snapshot import patch

    for context, extra in ((3, []), (0, ["--unidiff-zero"])):
        diff = patch(project, before, after, paths, context)
        if diff is None:
            return False
        if _git(top, "apply", "--cached", "--whitespace=nowarn", *extra, "-", index=index, data=diff,
                check=False).returncode == 0:
            return True
    return False


def _whole(project: Path, top: Path, after: str, paths: Sequence[str], index: str) -> None:
    """Set ``paths`` in the index as the snapshot ``after`` holds them, their blobs copied into the user's
    repository (written as they are: no filters)."""
    from clavain.run.snapshot import blobs

    found = blobs(project, after, paths)
    for mode, sha, content in found.values():
        _git(top, "hash-object", "-w", "--no-filters", "--stdin", data=content, what="hash-object")
    listed = b"".join(b"%s blob %s\t%s\0" % (mode.encode(), sha.encode(), path.encode("utf-8", "surrogateescape"))
                      for path, (mode, sha, _) in found.items())
    _git(top, "update-index", "-z", "--index-info", index=index, data=_entries(listed, paths), what="update-index")


def commit_task(project: Path, top: Path, *, run_id: str, task_id: str, title: str, attempt: int, before: str,
                after: str, paths: Sequence[str]) -> Made:
    """Commit the task's ``paths`` (relative to the repository's top) as they changed from ``before`` to
    ``after`` on top of HEAD, as ``task <id>: <title>``."""
    shown = _git(top, "log", "-1", "--format=%H %T%n%B", "HEAD", check=False)   # fails on an unborn branch
    parent, parent_tree, said = None, None, ""
    if shown.returncode == 0:
        first, _, said = _out(shown).partition("\n")
        parent, parent_tree = first.split(" ")
        if marker(run_id, task_id, attempt) in said:
            return Made(parent, found=True)
    from clavain.core.paths import state_dir

    # in the plugin's own folder, as the snapshot store is: /tmp may be read-only in Claude Code's sandbox
    fd, index = tempfile.mkstemp(prefix="commit-", suffix=".index", dir=state_dir(project))
    os.close(fd)
    os.unlink(index)
    whole: list[str] = []
    try:
        _git(top, *(["read-tree", parent] if parent else ["read-tree", "--empty"]), index=index, what="read-tree")
        if not _apply(project, top, before, after, paths, index):   # not on HEAD alone: its files as they are
            whole = list(paths)
            _whole(project, top, after, paths, index)
        tree = _out(_git(top, "write-tree", index=index, what="write-tree"))
    finally:
        try:
            os.unlink(index)
        except OSError:
            pass
    if tree == parent_tree:
        return Made(None)   # HEAD already holds the task's changes (committed during the task)
    text = message(run_id, task_id, title, attempt).encode("utf-8")
    sha = _out(_git(top, "commit-tree", "--no-gpg-sign", tree, *(["-p", parent] if parent else []), data=text,
                    what=f"committing task {task_id}"))
    _git(top, "update-ref", "-m", f"task {task_id}: {title}", "HEAD", sha, parent or ZERO,
         what="moving HEAD to the task's commit")
    _set_index(top, sha, paths)
    return Made(sha, whole=whole)


def subject(top: Path, sha: str) -> str:
    proc = _git(top, "log", "-1", "--format=%h %s", sha, check=False)
    return _out(proc) or sha[:12]


def parent(top: Path, sha: str) -> Optional[str]:
    """The commit's first parent, or None for a root commit."""
    proc = _git(top, "rev-parse", "--verify", "-q", f"{sha}^", check=False)
    return _out(proc) or None if proc.returncode == 0 else None


def paths(top: Path, sha: str) -> list[str]:
    """The paths a commit changed (relative to the repository's top)."""
    out = _git(top, "diff-tree", "-r", "-z", "--no-commit-id", "--name-only", "--no-renames", "--root", sha,
               what="diff-tree").stdout
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def foreign_on_top(top: Path, ours: Sequence[str], base: Optional[str]) -> list[str]:
    """The commits between ``base`` (exclusive) and HEAD that are not ``ours``, as ``<short> <subject>``; also
    when HEAD does not descend from ``base``."""
    now = head(top)
    if now == base:
        return []
    if base is None:
        listed = _git(top, "rev-list", "--first-parent", "HEAD", check=False)
    else:
        if _git(top, "merge-base", "--is-ancestor", base, "HEAD", check=False).returncode != 0:
            return [f"HEAD ({subject(top, now) if now else 'none'}) does not descend from {base[:12]}"]
        listed = _git(top, "rev-list", "--first-parent", f"{base}..HEAD", check=False)
    return [subject(top, sha) for sha in _out(listed).split() if sha not in set(ours)]


def undo(top: Path, *, base: Optional[str], paths: Sequence[str]) -> None:
    """Move HEAD back to ``base`` (the commit before the run's first undone one) and set ``paths`` in the user's
    index as ``base`` holds them. The caller checked ``foreign_on_top`` first."""
    now = head(top)
    if now == base:
        return
    if base is None:
        raise EnvironmentProblem("the run's first commit started the branch; there is no commit to go back to",
                                 next_command="move the branch yourself (git update-ref -d HEAD), then repeat")
    _git(top, "update-ref", "-m", "rollback to the start of a task", "HEAD", base, now or ZERO,
         what="moving HEAD back")
    if paths:
        _set_index(top, base, paths)
