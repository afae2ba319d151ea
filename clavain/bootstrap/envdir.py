"""Where the environment lives and what state it is in (ready, being built, missing or broken).

The same rules as ``hooks/env.sh``, which the shell scripts use for the quick check.
"""

from __future__ import annotations

import os
import shlex
import time

LOCK_FILE = "requirements.lock"
READY = "clavain-ready"
SUPPORTED = ((3, 10), (3, 13))  # the Pythons requirements.lock has wheels for
USUALLY = "it usually takes 5-30 seconds"


def data_dir(env) -> str:
    """The per-user folder the environment is built in."""
    for key in ("CLAVAIN_PLUGIN_DATA", "CLAUDE_PLUGIN_DATA"):
        if env.get(key):
            return env[key]
    base = env.get("XDG_DATA_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "clavain")


class EnvDir:
    """The paths of one plugin folder's environment in one data folder."""

    def __init__(self, root: str, data: str) -> None:
        self.root = os.path.abspath(root)
        self.data = os.path.abspath(data)
        self.venv = os.path.join(self.data, "venv")
        self.python = os.path.join(self.venv, "bin", "python")
        self.ready_file = os.path.join(self.venv, READY)
        self.lock = os.path.join(self.data, "build.lock")
        self.log = os.path.join(self.data, "build.log")
        self.failed = os.path.join(self.data, "build-failed")
        self.requirements = os.path.join(self.root, LOCK_FILE)

    @classmethod
    def from_env(cls, root: str, env) -> "EnvDir":
        return cls(root, data_dir(env))

    def lock_id(self) -> str:
        """The first line of requirements.lock (``# lock-id <digest>``): an environment is built for one id."""
        with open(self.requirements, encoding="utf-8") as handle:
            return handle.readline().rstrip("\n")

    def build_command(self) -> str:
        """What a user runs in a terminal to (re)build this environment."""
        return f"{shlex.quote(os.path.join(self.root, 'hooks', 'clavain-env'))} build {shlex.quote(self.data)}"

    def marker(self) -> list[str]:
        try:
            with open(self.ready_file, encoding="utf-8") as handle:
                return handle.read().splitlines()
        except OSError:
            return []

    def is_ready(self) -> bool:
        """Complete and built for this plugin's lock (a half-built one has no marker; a broken one no python)."""
        lines = self.marker()
        return bool(lines) and os.access(self.python, os.X_OK) and lines[0] == self.lock_id()

    def why_not_ready(self) -> str:
        """Why the environment cannot be used, in a few words (for the build log)."""
        if not os.path.isdir(self.venv):
            return "not built yet"
        if not os.access(self.python, os.X_OK):
            return f"broken ({self.python} does not run)"
        lines = self.marker()
        if not lines:
            return "half-built (no completion marker)"
        if lines[0] != self.lock_id():
            return "built for another version of requirements.lock"
        return "ready"

    def bytecode_missing(self) -> bool:
        """The plugin's own modules have no bytecode for the environment's Python (a new plugin folder)."""
        lines = self.marker()
        tag = lines[1] if len(lines) > 1 else ""
        return not tag or not os.path.exists(os.path.join(self.root, "clavain", "__pycache__", f"cli.{tag}.pyc"))

    def last_failure(self) -> str:
        try:
            with open(self.failed, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError:
            return ""

    def building_since(self) -> float | None:
        """When the build in progress started (epoch seconds), or None when no build holds the lock."""
        import fcntl

        try:
            fd = os.open(self.lock, os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                text = os.read(fd, 200).decode("utf-8", "replace").split()
                try:
                    return float(text[1])
                except (IndexError, ValueError):
                    return time.time()
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def take_lock(self) -> int | None:
        """Hold the build lock (an open fd; closing it releases the lock), or None if another process holds it."""
        import fcntl

        os.makedirs(self.data, exist_ok=True)
        fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {time.time():.3f}\n".encode())
        return fd


def missing_dependency_line(module: str, executable: str, env) -> str:
    """What clavain-cli says when the Python it runs lacks a dependency: the real folders and the command to
    run, for the three ways a Python is chosen (CLAVAIN_PYTHON, a clone's .venv, the plugin's environment)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    where = EnvDir.from_env(root, env)
    prefix = f"clavain-cli: missing Python dependency '{module}' in {executable}"
    if env.get("CLAVAIN_PYTHON"):
        return (f"{prefix} (CLAVAIN_PYTHON); install the plugin's dependencies there: {shlex.quote(executable)} -m pip "
                f"install -r {shlex.quote(where.requirements)}, or unset CLAVAIN_PYTHON to use the plugin's own "
                "environment")
    clone_venv = os.path.join(root, ".venv")
    if os.path.abspath(executable).startswith(clone_venv + os.sep):
        return (f"{prefix}; install them into the clone's venv: {shlex.quote(os.path.join(clone_venv, 'bin', 'pip'))} "
                f"install -e {shlex.quote(root)}")
    return f"{prefix}; rebuild the plugin's environment: {where.build_command()}"
