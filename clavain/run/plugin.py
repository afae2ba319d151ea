"""The plugin's own files, fingerprinted: a run pins them at start and every later command checks them.

A hook or module changed in place during a run could let everything pass, so the run records the plugin's
version and one digest over its hook, entry and package files (``fingerprint``). A different digest under the
same version halts the run ("the plugin's files changed during the run"); a new version, installed between
sessions, is recorded as an update and is not tampering.
"""

from __future__ import annotations

from pathlib import Path

from clavain.core.digest import sha256_hex

ROOT = Path(__file__).resolve().parents[2]          # the plugin folder: bin/, hooks/, clavain/
_PATTERNS = ("bin/clavain-cli", "hooks/*", "clavain/*.py", "clavain/*/*.py", "clavain/run/templates/*")


def files(root: Path = ROOT) -> list[Path]:
    found = {p for pattern in _PATTERNS for p in root.glob(pattern) if p.is_file()}
    return sorted(found)


def fingerprint(root: Path = ROOT) -> dict:
    """``{"version": ..., "digest": ...}``: the package version and a sha256 over the files' names and bytes."""
    from clavain import __version__

    parts = []
    for path in files(root):
        try:
            data = path.read_bytes()
        except OSError:
            data = b"<unreadable>"
        parts.append(path.relative_to(root).as_posix().encode() + b"\0" + sha256_hex(data).encode())
    return {"version": __version__, "digest": sha256_hex(b"\n".join(parts))}
