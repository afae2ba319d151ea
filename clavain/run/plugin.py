"""The plugin's own files, fingerprinted: a run pins them at start and every later command checks them.

A hook or module changed in place during a run could let everything pass, so the run records the plugin's
version, one digest over its hook, entry and package sources, and one over the bytecode this interpreter would
load instead of a source (``__pycache__/*.<tag>.pyc``: a ``.pyc`` whose header matches its source is what Python
runs). ``check`` compares: a different source digest under the same version is a change ("the plugin's files
changed during the run"); a new version, installed between sessions, is an update and is not tampering. Bytecode
that differs from what was pinned is compiled again from its source and compared: Python writing the bytecode of
a module it imported for the first time is not a change; bytecode that is not its source's is.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from clavain.core.digest import sha256_hex

ROOT = Path(__file__).resolve().parents[2]          # the plugin folder: bin/, hooks/, clavain/
_PATTERNS = ("bin/clavain-cli", "hooks/*", "clavain/*.py", "clavain/*/*.py", "clavain/run/templates/*")


def files(root: Path = ROOT) -> list[Path]:
    found = {p for pattern in _PATTERNS for p in root.glob(pattern) if p.is_file()}
    return sorted(found)


def bytecode(root: Path = ROOT) -> list[Path]:
    """The bytecode files this interpreter would load for the package's modules."""
    tag = sys.implementation.cache_tag
    return sorted(p for pattern in (f"clavain/__pycache__/*.{tag}.pyc", f"clavain/*/__pycache__/*.{tag}.pyc")
                  for p in root.glob(pattern) if p.is_file())


def _digest(root: Path, paths: list[Path]) -> tuple[str, dict[str, str]]:
    each = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            data = b"<unreadable>"
        each[path.relative_to(root).as_posix()] = sha256_hex(data)
    return sha256_hex("\n".join(f"{name}\0{digest}" for name, digest in each.items()).encode()), each


def fingerprint(root: Path = ROOT) -> dict:
    """``{"version", "digest", "bytecode", "compiled"}``: the package version, a sha256 over the sources'
    names and bytes, one over the bytecode files', and each bytecode file's own digest."""
    from clavain import __version__

    digest, _ = _digest(root, files(root))
    compiled_digest, compiled = _digest(root, bytecode(root))
    return {"version": __version__, "digest": digest, "bytecode": compiled_digest, "compiled": compiled}


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
