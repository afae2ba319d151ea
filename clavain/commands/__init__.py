"""Subcommand modules, on top of every part (beside ``clavain.cli``). Each defines ``register(subparsers)`` and handlers ``fn(args, ctx) -> int | None``.

Handlers raise ``clavain.core.errors`` exceptions and never exit; ``clavain.cli.main`` maps them to exit codes.
Command modules import heavy dependencies (pydantic, yaml, jinja2, markdown-it) inside handlers only, so
that light commands (``infer-bead``, ``enforce-gate``, ``hook``) start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, Mapping, Optional


class Context:
    """Everything a handler may touch of the outside world; tests build their own.

    A plain class rather than a dataclass: importing ``dataclasses`` costs milliseconds on every start."""

    def __init__(self, cwd: Path, env: Mapping[str, str], stdin: IO[str], stdout: IO[str], stderr: IO[str]) -> None:
        self.cwd = Path(cwd)
        self.env = env
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self._project: Optional[Path] = None

    @classmethod
    def from_process(cls) -> "Context":
        return cls(cwd=Path.cwd(), env=dict(os.environ), stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)

    @property
    def project(self) -> Path:
        """The project folder (see ``clavain.paths.find_project``); ``CLAVAIN_PROJECT_DIR`` overrides it.
        On first use, state that version 0.1 kept directly in ``.clavain/`` moves to ``.clavain/execute-plan/``
        (``clavain.core.layout``), and stderr says so."""
        if self._project is None:
            from clavain.core.layout import migrate_legacy_state, migration_note
            from clavain.core.paths import find_project

            forced = self.env.get("CLAVAIN_PROJECT_DIR")
            self._project = Path(forced).resolve() if forced else find_project(self.cwd)
            note = migration_note(*migrate_legacy_state(str(self._project)))
            if note:
                self.err(note)
        return self._project

    def resolve(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.cwd / candidate

    def out(self, text: str = "") -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(text if text.endswith("\n") else text + "\n")
