"""Subcommand modules, on top of every part (beside ``clavain.cli``). Each defines ``register(subparsers)`` and handlers ``fn(args, ctx) -> int | None``.

Handlers raise ``clavain.core.errors`` exceptions and never exit; ``clavain.cli.main`` maps them to exit codes.
Command modules import heavy dependencies (pydantic, yaml, jinja2, markdown-it) inside handlers only, so
that light commands (``infer-bead``, ``enforce-gate``, ``hook``) start fast.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False   # not ``typing``'s: every command starts here, and ``typing`` and ``pathlib`` are not cheap
if TYPE_CHECKING:
    from pathlib import Path
    from typing import IO, Mapping, Optional


def _tidy(path: str) -> str:
    """``path`` as ``pathlib`` writes it: no empty or ``.`` parts (``..`` kept, nothing resolved)."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    lead = "//" if path.startswith("//") and not path.startswith("///") else "/" if path.startswith("/") else ""
    return lead + "/".join(parts) if lead or parts else "."


class Context:
    """Everything a handler may touch of the outside world; tests build their own.

    A plain class rather than a dataclass: importing ``dataclasses`` costs milliseconds on every start. Paths
    are kept as text: ``cwd``, ``project`` and ``resolve`` give ``pathlib`` paths, ``cwd_dir``,
    ``project_dir`` and ``resolve_text`` the same as text, for the commands that run without pathlib."""

    def __init__(self, cwd, env: "Mapping[str, str]", stdin: "IO[str]", stdout: "IO[str]", stderr: "IO[str]") -> None:
        self.cwd_dir = _tidy(os.fspath(cwd))
        self.env = env
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self._project: "Optional[str]" = None

    @classmethod
    def from_process(cls) -> "Context":
        return cls(cwd=os.getcwd(), env=dict(os.environ), stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)

    @property
    def cwd(self) -> "Path":
        from pathlib import Path

        return Path(self.cwd_dir)

    @property
    def project_dir(self) -> str:
        """The project folder (see ``clavain.core.paths.find_project_dir``); ``CLAVAIN_PROJECT_DIR`` overrides it.
        On first use, state that version 0.1 kept directly in ``.clavain/`` moves to ``.clavain/execute-plan/``
        (``clavain.core.layout``), and stderr says so."""
        if self._project is None:
            from clavain.core.layout import migrate_legacy_state, migration_note
            from clavain.core.paths import find_project_dir

            forced = self.env.get("CLAVAIN_PROJECT_DIR")
            self._project = os.path.realpath(self.resolve_text(forced)) if forced else find_project_dir(self.cwd_dir)
            note = migration_note(*migrate_legacy_state(self._project))
            if note:
                self.err(note)
        return self._project

    @property
    def project(self) -> "Path":
        from pathlib import Path

        return Path(self.project_dir)

    def resolve_text(self, path: str) -> str:
        """``path`` as typed, made absolute against ``cwd`` (``..`` kept, as ``resolve`` keeps it)."""
        return _tidy(os.path.join(self.cwd_dir, path))

    def resolve(self, path: str) -> "Path":
        from pathlib import Path

        return Path(self.resolve_text(path))

    def out(self, text: str = "") -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(text if text.endswith("\n") else text + "\n")
