"""Helpers for the install and environment tests: a fresh clone of this working tree, and a stand-in for a
ready environment (a venv whose python runs the test interpreter, which has every dependency)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

GIT = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def fresh_clone(dest: Path) -> Path:
    """What `git clone` of this tree would give once the work in progress is committed: the tracked and
    not-ignored files (no .venv, node_modules, __pycache__), as a git repository with one commit."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    dest.mkdir(parents=True)
    for name in filter(None, names):
        source = ROOT / name
        if not source.is_file() or source.is_symlink():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        target.chmod(source.stat().st_mode & 0o777)
    env = {**os.environ, **GIT}
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "clone"]):
        subprocess.run(argv, cwd=dest, env=env, check=True)
    return dest


def fake_ready_env(plugin: Path, data: Path, *, lock_line: str | None = None, python: bool = True) -> Path:
    """A data folder whose environment looks complete: bin/python runs this test interpreter, the marker
    names the plugin's lock (or ``lock_line``), and the plugin has bytecode for its tag."""
    venv = data / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    if python:
        script = venv / "bin" / "python"
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        script.chmod(0o755)
    first = lock_line or (plugin / "requirements.lock").read_text().split("\n", 1)[0]
    tag = sys.implementation.cache_tag
    (venv / "clavain-ready").write_text(f"{first}\n{tag}\nbuilt by a test\n")
    (plugin / "clavain" / "__pycache__").mkdir(exist_ok=True)
    (plugin / "clavain" / "__pycache__" / f"cli.{tag}.pyc").write_bytes(b"")
    return venv
