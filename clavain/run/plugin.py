"""The plugin's own files, fingerprinted: a run pins them at start and every later command checks them.

A hook or module changed in place during a run could let everything pass, so the run records the plugin's
version, one digest over its hook, entry and package sources, and one over the bytecode this interpreter would
load instead of a source (``__pycache__/*.<tag>.pyc``: a ``.pyc`` whose header matches its source is what Python
runs). ``check`` compares: a different source digest under the same version is a change ("the plugin's files
changed during the run"); a new version, installed between sessions, is an update and is not tampering. Bytecode
that differs from what was pinned is compiled again from its source and compared: Python writing the bytecode of
a module it imported for the first time is not a change; bytecode that is not its source's is. The templates'
compiled code (Jinja2's bytecode cache in ``templates/__pycache__``, written by the environment's build) counts as
bytecode too; it has no Python source, so any change of it during a run is one.

Every command checks the fingerprint, so it is kept in ``clavain/__pycache__/fingerprint.json`` with the stat of
every file it covers (size, mtime, ctime, inode): while none moved, it is read from there instead of reading and
hashing some two hundred files. A change always moves a file's ctime, which no user can set back; a file changed
within the last two seconds is read again, as git treats a racily clean index entry. The keeping is written where
the folder can be written (the environment's build, a command run outside Claude Code's sandbox).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from clavain.core.digest import sha256_hex

TYPE_CHECKING = False   # not ``typing``'s: every run command checks the fingerprint
if TYPE_CHECKING:
    from typing import Optional

ROOT = Path(__file__).resolve().parents[2]          # the plugin folder: bin/, hooks/, clavain/
KEPT = ("clavain", "__pycache__", "fingerprint.json")
RACY_NS = 2_000_000_000   # a file changed this recently may change again within its timestamp's resolution


def _listing(root, collect) -> dict[str, str]:
    """``{relative path: path}`` of the files ``collect`` (``_sources`` or ``_compiled``) finds in ``root``'s
    folders with ``os.scandir`` (pathlib's globs cost more than the rest of the check)."""
    root = os.fspath(root)
    found: dict[str, str] = {}

    def add(folder: str, keep) -> None:
        try:
            entries = os.scandir(os.path.join(root, folder))
        except OSError:
            return
        with entries:
            for entry in entries:
                if keep(entry.name) and entry.is_file():
                    found[f"{folder}/{entry.name}"] = entry.path

    collect(found, root, add)
    return found


def _sources(found: dict, root: str, add) -> None:
    if os.path.isfile(os.path.join(root, "bin", "clavain-cli")):
        found["bin/clavain-cli"] = os.path.join(root, "bin", "clavain-cli")
    add("hooks", lambda name: True)
    add("clavain", lambda name: name.endswith(".py"))
    for part in _subfolders(root):
        add(f"clavain/{part}", lambda name: name.endswith(".py"))
    add("clavain/run/templates", lambda name: True)


def _compiled(found: dict, root: str, add) -> None:
    suffix = f".{sys.implementation.cache_tag}.pyc"
    add("clavain/__pycache__", lambda name: name.endswith(suffix))
    for part in _subfolders(root):
        add(f"clavain/{part}/__pycache__", lambda name: name.endswith(suffix))
    add("clavain/run/templates/__pycache__", lambda name: name.endswith(".cache"))


def _subfolders(root: str) -> list[str]:
    try:
        with os.scandir(os.path.join(root, "clavain")) as entries:
            return sorted(entry.name for entry in entries if entry.is_dir())
    except OSError:
        return []


def _ordered(found: dict) -> list[tuple[str, str]]:
    """In the order of the relative paths' parts, as pathlib sorts paths."""
    return sorted(found.items(), key=lambda item: item[0].split("/"))


def files(root: Path = ROOT) -> list[Path]:
    return [Path(path) for _, path in _ordered(_listing(root, _sources))]


def bytecode(root: Path = ROOT) -> list[Path]:
    """The bytecode files this interpreter would load for the package's modules, and the templates' compiled code."""
    return [Path(path) for _, path in _ordered(_listing(root, _compiled))]


def _digest(found: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    each = {}
    for rel, path in found:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            data = b"<unreadable>"
        each[rel] = sha256_hex(data)
    return sha256_hex("\n".join(f"{name}\0{digest}" for name, digest in each.items()).encode()), each


def fingerprint(root: Path = ROOT) -> dict:
    """``{"version", "digest", "bytecode", "compiled"}``: the package version, a sha256 over the sources'
    names and bytes, one over the bytecode files', and each bytecode file's own digest (kept with the files'
    stat: see the module's docstring)."""
    from clavain import __version__

    sources, compiled_files = _ordered(_listing(root, _sources)), _ordered(_listing(root, _compiled))
    stats: "Optional[list]" = []
    for rel, path in (*sources, *compiled_files):
        try:
            info = os.stat(path)
        except OSError:
            stats = None
            break
        stats.append((rel, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
    key = sha256_hex(repr((__version__, sys.implementation.cache_tag, stats)).encode()) if stats is not None else ""
    racy = stats is None or any(time.time_ns() - mtime < RACY_NS for _, _, mtime, _, _ in stats)
    kept_at = os.path.join(os.fspath(root), *KEPT)
    if key and not racy:
        kept = _kept(kept_at, key)
        if kept is not None:
            return kept
    digest, _ = _digest(sources)
    compiled_digest, compiled = _digest(compiled_files)
    found = {"version": __version__, "digest": digest, "bytecode": compiled_digest, "compiled": compiled}
    if key and not racy:
        _keep(kept_at, key, found)
    return found


def _kept(path: str, key: str) -> "Optional[dict]":
    from clavain.core.chain import loads

    try:
        with open(path, "rb") as handle:
            kept = loads(handle.read().decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if isinstance(kept, dict) and kept.get("key") == key and isinstance(kept.get("fingerprint"), dict):
        return kept["fingerprint"]
    return None


def _keep(path: str, key: str, found: dict) -> None:
    from clavain.core.files import atomic_write
    from clavain.core.model import dumps

    try:
        atomic_write(path, dumps({"key": key, "fingerprint": found}) + "\n")
    except OSError:
        pass


def not_its_source(root: Path, name: str) -> bool:
    """Whether the bytecode file ``name`` (relative to ``root``) holds other code than its source compiles to."""
    import importlib.util
    import marshal

    pyc = root / name
    source_name = pyc.name.split(".")[0] + ".py"
    source = pyc.parent.parent / source_name
    try:
        data = pyc.read_bytes()
        code = compile(source.read_bytes(), str(source), "exec", dont_inherit=True)
        if data[:4] != importlib.util.MAGIC_NUMBER:
            return False   # this interpreter would not load it
        return marshal.loads(data[16:]) != code
    except (OSError, ValueError, EOFError, TypeError, SyntaxError):
        return True


def forged(root: Path, pinned: dict, now: dict) -> Optional[str]:
    """The first bytecode file that changed since ``pinned`` and is not its source's, or None."""
    before = pinned.get("compiled") or {}
    for name, digest in (now.get("compiled") or {}).items():
        if before.get(name) != digest and not_its_source(root, name):
            return name
    return None
