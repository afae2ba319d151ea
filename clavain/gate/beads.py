"""Beads: talking to `bd` when it is on PATH by its documented contract:

    bd show <id> --json                       a JSON array of issues (an object is accepted too)
    bd state <id> phase                       the current phase, or nothing
    bd set-state <id> phase=<p> --reason <r>  record a phase
    bd update <id> --append-notes <text>      add a note

Every call has a bounded timeout; a `bd` that fails, hangs or prints nonsense raises ``BeadsFailure``,
which the gate reports as a warning. After one timeout the remaining calls of the command are skipped,
so a hung `bd` costs one timeout, not one per call.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False   # not ``typing``'s: the gate's fast path runs without typing and pathlib
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Mapping, Optional, Sequence


class BeadsFailure(Exception):
    """`bd` failed, timed out or printed something outside its contract. The message says which."""


def find_bd(env: Mapping[str, str]) -> Optional[str]:
    """The path of an executable `bd` on ``env['PATH']``, or None."""
    for folder in env.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder or ".", "bd")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def parse_priority(value: object) -> Optional[int]:
    """0..4 from ``1``, ``"1"``, ``"P1"`` or ``"p1"``; None when absent or not a priority."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 4 else None
    if isinstance(value, str):
        text = value.strip().upper().removeprefix("P")
        if text.isdigit() and 0 <= int(text) <= 4:
            return int(text)
    return None


class Beads:
    """One `bd` executable, with the environment and timeout of the current command."""

    def __init__(self, executable: str, env: Mapping[str, str], timeout: float, cwd: Path) -> None:
        self.executable = executable
        self.env = dict(env)
        self.timeout = timeout
        self.cwd = cwd
        self.hung: Optional[str] = None

    @classmethod
    def find(cls, env: Mapping[str, str], timeout: float, cwd: Path) -> Optional["Beads"]:
        executable = find_bd(env)
        return cls(executable, env, timeout, cwd) if executable else None

    def _run(self, args: Sequence[str]) -> str:
        import subprocess

        shown = "bd " + " ".join(args)
        if self.hung:
            raise BeadsFailure(f"`{shown}` skipped: {self.hung}")
        try:
            proc = subprocess.Popen([self.executable, *args], cwd=self.cwd, env=self.env, text=True,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
        except OSError as exc:
            raise BeadsFailure(f"`{shown}` could not start: {exc.strerror}") from None
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            import signal

            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.communicate()
            self.hung = f"bd did not answer within {self.timeout:g}s"
            raise BeadsFailure(f"`{shown}` timed out after {self.timeout:g}s") from None
        if proc.returncode != 0:
            detail = (err.strip() or out.strip()).splitlines()
            raise BeadsFailure(f"`{shown}` exited {proc.returncode}" + (f": {detail[-1]}" if detail else ""))
        return out

    def priority(self, bead: str) -> Optional[int]:
        """The bead's priority (0..4), or None when bd knows the bead but gives no priority."""
        import json

        out = self._run(["show", bead, "--json"])
        try:
            data = json.loads(out)
        except ValueError:
            raise BeadsFailure(f"`bd show {bead} --json` printed no JSON: {out.strip()[:80]!r}") from None
        if isinstance(data, list):
            if not data:
                raise BeadsFailure(f"`bd show {bead} --json` printed an empty list (no such bead?)")
            data = data[0]
        if not isinstance(data, dict):
            raise BeadsFailure(f"`bd show {bead} --json` printed neither an object nor an array of objects")
        return parse_priority(data.get("priority"))

    def phase(self, bead: str) -> Optional[str]:
        """The phase bd holds for the bead, or None when it holds none."""
        text = self._run(["state", bead, "phase"]).strip()
        return text.split()[0] if text and len(text.split()) == 1 else None

    def set_phase(self, bead: str, phase: str, reason: str) -> None:
        self._run(["set-state", bead, f"phase={phase}", "--reason", reason])

    def append_note(self, bead: str, text: str) -> None:
        self._run(["update", bead, "--append-notes", text])
