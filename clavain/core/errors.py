"""One small exception hierarchy. The core raises these; only ``cli.main`` turns them into exit codes.

Every message is written for a reader that is often a model: it says what was wrong, where
(``path:line`` when a file is involved) and which command to run next.
"""

from __future__ import annotations


class ClavainError(Exception):
    """Base class. ``next_command`` is the command that would be allowed now (or what to run to fix it)."""

    def __init__(self, message: str, *, path: object = None, line: int | None = None,
                 next_command: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.next_command = next_command

    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def render(self) -> str:
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        if self.next_command:
            text += f"\nnext: {self.next_command}"
        return text


class Refused(ClavainError):
    """A rule or a gate refuses the command. The message names the next allowed command."""


class BadInput(ClavainError):
    """Malformed plan, missing file, bad arguments: what and where."""


class EnvironmentProblem(ClavainError):
    """Missing dependency, unreadable or corrupt state, a tool that cannot run."""
