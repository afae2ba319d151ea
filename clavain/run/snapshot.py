"""Snapshots of the project, made with git's own index machinery, and what changed between two of them.

``take(project)`` records every tracked and untracked file of the work tree that the project's ignore rules do
not exclude, and writes the tree: one tree id names the whole work tree as it stands. It works in a git store of
its own, ``.clavain/execute-plan/snapshots.git`` (its own index and objects, the project's files as its work
tree), so the user's index, objects, branches and history are never touched, and the project's git config is
never read: a ``core.fsmonitor``, a clean filter or an external diff that the project's ``.git/config`` names
never runs when the plugin looks at the project (the model could have put one there while a batch ran). The
project's ``.gitignore`` files and ``.git/info/exclude`` still say what is ignored. ``.git/`` is never in a tree,
and this plugin's own state is left out.

``changed(project, before, after)`` lists the paths whose content or mode differs between two snapshots. A plan
file whose only changes are its ``**Phase:**`` line and checkbox ticks does not count (``plan``).

Outside a git repository (or without git) there are no snapshots: ``take`` returns None, and callers say so.
Every git call is bounded in time; a failing one means "no snapshot", never an exception.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from clavain.core.paths import owned_paths, state_dir

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Optional, Sequence

TIMEOUT = 60.0
STORE = "snapshots.git"
# no system or user config, no hooks, no fsmonitor: only the store's own settings apply
_HARDENED = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.untrackedCache=false",
             "-c", "diff.external=", "-c", "core.pager=cat")


def _env(extra: Optional[dict] = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0", **(extra or {}))
    return env


def _git(cwd: Path, *args: str, env: Optional[dict] = None) -> Optional[bytes]:
    try:
        proc = subprocess.run(["git", *_HARDENED, *args], cwd=cwd, capture_output=True, timeout=TIMEOUT,
                              env=env or _env(), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def repo(project: Path) -> "Optional[tuple[Path, Path, Optional[str]]]":
    """``(work tree top, the repository's git folder, the commit HEAD points at or None before the first commit)``
    when ``project`` is inside a git work tree, else None: one git process for what a run command asks of the
    repository (``task-start`` records HEAD and takes a snapshot)."""
    try:
        proc = subprocess.run(["git", *_HARDENED, "rev-parse", "--is-inside-work-tree", "--show-toplevel",
                               "--absolute-git-dir", "HEAD"], cwd=project, capture_output=True, timeout=TIMEOUT,
                              env=_env(), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 3 or lines[0] != "true":
        return None
    head = lines[3] if proc.returncode == 0 and len(lines) == 4 and lines[3] != "HEAD" else None
    return Path(lines[1]), Path(lines[2]), head


def _repo(project: Path) -> "Optional[tuple[Path, Path]]":
    """``(work tree top, the repository's git folder)`` when ``project`` is inside a git work tree."""
    found = repo(project)
    return found[:2] if found else None


def top(project: Path) -> Optional[Path]:
    """The repository's top folder, or None."""
    found = _repo(Path(project))
    return found[0] if found else None


def _store(project: Path) -> Optional[Path]:
    """The snapshot store of ``project`` (created when missing), or None when it cannot be."""
    store = state_dir(project) / STORE
    if (store / "HEAD").is_file():
        return store
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if _git(store.parent, "init", "--bare", "--quiet", str(store)) is None:
        return None
    return store


def _store_env(project: Path, work_tree: Path, git_dir: Path, store: Path, index: str) -> dict:
    exclude = git_dir / "info" / "exclude"
    extra = {"GIT_DIR": str(store), "GIT_WORK_TREE": str(work_tree), "GIT_INDEX_FILE": index}
    env = _env(extra)
    if exclude.is_file():
        env["GIT_CONFIG_COUNT"] = "1"
        env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_VALUE_0"] = "core.excludesFile", str(exclude)
    return env


def take(project: Path, found: "Optional[tuple[Path, Path]]" = None) -> Optional[str]:
    """A tree id naming the project's files as they stand now, or None outside git (``found``: the work tree's top
    and git folder, when the caller has them from ``repo``)."""
    project = Path(project)
    found = found or _repo(project)
    store = _store(project) if found else None
    if found is None or store is None:
        return None
    work_tree, git_dir = found
    index = _copy_of_index(store)   # its stat cache spares reading unchanged files again
    if index is None:
        return None
    try:
        env = _store_env(project, work_tree, git_dir, store, index)
        own = [path.relative_to(work_tree).as_posix() for path, _ in owned_paths(project)
               if _inside(path, work_tree)] + [(state_dir(project) / STORE).relative_to(work_tree).as_posix()]
        exclude = [f":(exclude,top){p}" for p in own]
        if _git(work_tree, "add", "-A", "--ignore-errors", "--", ":/", *exclude, env=env) is None:
            return None
        tree = _git(work_tree, "write-tree", env=env)
        if tree:
            try:
                os.replace(index, store / "index")
            except OSError:
                pass
        return tree.decode("ascii").strip() if tree else None
    finally:
        try:
            os.unlink(index)
        except OSError:
            pass


def _copy_of_index(store: Path) -> Optional[str]:
    """A temporary copy of the store's index, beside it (as ``tempfile.mkstemp`` and ``shutil.copyfile`` would make
    it, without importing them for it: every run command takes a snapshot); the name of a file yet to be made when
    there is no index to copy (the first snapshot: git starts a new index); None when the store cannot be written."""
    try:
        with open(store / "index", "rb") as handle:
            data: Optional[bytes] = handle.read()
    except OSError:
        data = None
    for _ in range(3):
        path = str(store / f"index-{os.urandom(6).hex()}.tmp")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError:
            return None
        try:
            with os.fdopen(fd, "wb") as handle:
                if data is not None:
                    handle.write(data)
                    return path
        except OSError:
            pass
        os.unlink(path)
        return path
    return None


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def _in_store(project: Path, *args: str) -> Optional[bytes]:
    store = state_dir(project) / STORE
    if not (store / "HEAD").is_file():
        return None
    return _git(Path(project), *args, env=_env({"GIT_DIR": str(store)}))


def changed(project: Path, before: Optional[str], after: Optional[str], *, plan: Optional[str] = None) -> \
        Optional[list[str]]:
    """Paths (relative to the repository's top) that differ between two snapshots, sorted; None when either is
    missing. ``plan``: the plan's path relative to the repository's top; its Phase line and ticks do not count."""
    if not before or not after:
        return None
    if before == after:
        return []
    out = _in_store(Path(project), "diff-tree", "-r", "-z", "--no-renames", "--name-only", before, after)
    if out is None:
        return None
    paths = sorted(p for p in out.decode("utf-8", "surrogateescape").split("\0") if p)
    if plan is not None and plan in paths and _same_plan(Path(project), before, after, plan):
        paths.remove(plan)
    return paths


def _same_plan(project: Path, before: str, after: str, plan: str) -> bool:
    """Whether the plan differs only in its Phase line and checkbox ticks."""
    from clavain.core.digest import without_phase_lines, without_ticks

    texts = []
    for tree in (before, after):
        blob = _in_store(project, "cat-file", "-p", f"{tree}:{plan}")
        if blob is None:
            return False
        texts.append(without_ticks(without_phase_lines(blob.decode("utf-8", "surrogateescape"))))
    return texts[0] == texts[1]


class Placement:
    """Where the project sits in its repository: the work tree's ``top`` (as ``repo`` gives it), and the
    project's folder from there (``prefix``, "" at the top)."""

    __slots__ = ("top", "prefix")

    def __init__(self, project: Path, top: Path) -> None:
        self.top = Path(top)
        self.prefix = self.rel(project) or ""
        if self.prefix == ".":
            self.prefix = ""

    def rel(self, path: Path) -> Optional[str]:
        """``path`` relative to the top (as snapshots name it), or None when it lies outside."""
        try:
            return Path(path).resolve().relative_to(self.top.resolve()).as_posix()
        except ValueError:
            return None


def diff_text(project: Path, before: str, after: str, paths: Sequence[str] = ()) -> str:
    """The diff between two snapshots (a stat, then the patch), for ``run diff``: no external diff, no textconv."""
    args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--stat", "--patch", before, after]
    out = _in_store(Path(project), *args, *(["--", *paths] if paths else []))
    return out.decode("utf-8", "replace") if out is not None else ""


def patch(project: Path, before: str, after: str, paths: Sequence[str], context: int = 3) -> Optional[bytes]:
    """The diff of ``paths`` between two snapshots as ``git apply`` takes it (binary included, full blob ids),
    for committing a task's changes to the user's repository; None when the store cannot give it."""
    return _in_store(Path(project), "diff-tree", "-r", "-p", f"-U{context}", "--binary", "--full-index",
                     "--no-renames", "--no-ext-diff", "--no-textconv", before, after, "--",
                     *(f":(top,literal){p}" for p in paths))


def blobs(project: Path, tree: str, paths: Sequence[str]) -> dict[str, tuple[str, str, bytes]]:
    """``{path: (mode, blob id, content)}`` of the files ``tree`` holds among ``paths`` (submodules left out)."""
    listed = _in_store(Path(project), "ls-tree", "-r", "-z", "--full-tree", tree, "--",
                       *(f":(top,literal){p}" for p in paths))
    found = {}
    for record in (listed or b"").split(b"\0"):
        if record:
            meta, _, name = record.partition(b"\t")
            mode, _kind, sha = meta.decode("ascii").split(" ")
            content = None if mode == "160000" else _in_store(Path(project), "cat-file", "blob", sha)
            if content is not None:
                found[name.decode("utf-8", "surrogateescape")] = (mode, sha, content)
    return found


def restore(project: Path, tree: str, paths: Sequence[str]) -> list[str]:
    """Put ``paths`` (relative to the repository's top) in the work tree as the snapshot ``tree`` holds them:
    written with their mode, or removed (with the folders left empty) when ``tree`` lacks them. Nothing else is
    touched; the user's index and HEAD stay as they are. Returns the paths written or removed."""
    root = top(project)
    if root is None or not paths:
        return []
    entries = blobs(project, tree, paths)
    done = []
    for path in paths:
        try:
            if _put(root, root / path, entries.get(path)):
                done.append(path)
        except OSError:   # a folder where the file was, a file that cannot be written: left as it is
            continue
    return done


def _put(root: Path, target: Path, entry: Optional[tuple[str, str, bytes]]) -> bool:
    """One path as the snapshot holds it (``entry``), or removed when it holds none; True when it was."""
    from clavain.core.files import atomic_write

    if entry is not None:
        mode, _sha, blob = entry
        if target.is_symlink() or (mode == "120000" and target.exists()):
            target.unlink()
        if mode == "120000":
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(blob.decode("utf-8", "surrogateescape"), target)
        else:
            atomic_write(target, blob)
            bits = os.stat(target).st_mode & 0o777    # as git checks out: exec bits follow the read bits
            os.chmod(target, bits | (bits & 0o444) >> 2 if mode == "100755" else bits & ~0o111)
        return True
    if target.is_symlink() or target.is_file():
        target.unlink()
        _prune(target.parent, root)
        return True
    return False


def _prune(folder: Path, root: Path) -> None:
    """Remove the folders left empty up to (not including) the repository's top."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
