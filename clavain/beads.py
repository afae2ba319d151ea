"""Beads: reading bead ids from plans, and talking to `bd` when it is on PATH by its documented contract:

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
import re
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


# -- bead ids in plans -------------------------------------------------------------------------------

# A bead id is a prefix and a hash joined by hyphens, with optional ``.N`` child numbers:
# my-proj-abc1, demo-abc1.2, Sylveste-2f8, iv-xk3. Read whole, never truncated.
BEAD_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+(?:\.[0-9]+)*")
_PLACEHOLDER_WORDS = {"", "none", "null", "nil", "n/a", "na", "tbd", "todo", "-", "~", "bead-id", "bead_id"}
_PLACEHOLDER_PART = re.compile(r"[Xx]{2,}|[Xx]*[?#.]+")
_BEAD_LINE = re.compile(r"^\s*(?:[-*+>]\s+)?(?:\*\*Bead:\*\*|\*\*Bead\*\*:|Bead:)(.*)$")
_FM_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?$")
_FM_QUOTED = re.compile(r"""^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)')\s*(?:#.*)?$""")


def is_placeholder(value: str) -> bool:
    """``none``, ``<bead_id>``, ``Clavain-XXXX`` and the like: text where an id was meant to go."""
    text = value.strip().strip("`'\"").strip()
    if text.lower() in _PLACEHOLDER_WORDS or text.startswith("<") or text.startswith("{") or text.startswith("$"):
        return True
    return any(_PLACEHOLDER_PART.fullmatch(part) for part in text.split("-")[1:])


def bead_id_of(value: str) -> Optional[str]:
    """The bead id a ``Bead:`` value names (its first word, backticks and quotes removed), or None."""
    words = value.replace("`", " ").replace('"', " ").replace("'", " ").replace(",", " ").split()
    if not words:
        return None
    word = words[0].rstrip(".;:)")
    if is_placeholder(word) or not BEAD_ID.fullmatch(word):
        return None
    return word


def _frontmatter(lines: list[str]) -> Optional[list[str]]:
    if not lines or lines[0].rstrip("\r\n") != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") in ("---", "..."):
            return lines[1:index]
    return None


def _simple_frontmatter_value(block: list[str], key: str) -> tuple[bool, Optional[str]]:
    """(True, value) when the block is simple enough to read ``key`` without a YAML library:
    top-level ``key: value`` lines, indented continuation lines, comments; one-line scalars.
    (False, None) when PyYAML must decide."""
    found: list[str] = []
    for raw in block:
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#") or line.startswith(" "):
            continue
        match = _FM_KEY.match(line)
        if not match:
            return False, None
        value = (match.group(2) or "").strip()
        if value[:1] in ("&", "*", "!", "%", "@", "`", "?"):
            return False, None
        if value[:1] in ("'", '"'):
            quoted = _FM_QUOTED.match(value)
            if not quoted:
                return False, None
            value = quoted.group(1) if quoted.group(1) is not None else quoted.group(2).replace("''", "'")
            if "\\" in value:
                return False, None
        elif value[:1] in ("[", "{"):
            if any(q in value for q in "'\"#") or value.count(value[0]) != value.count("]" if value[0] == "[" else "}") \
                    or not value.endswith(("]", "}")):
                return False, None
        else:
            value = value.split(" #")[0].strip()
            if value[:1] in ("|", ">"):
                if match.group(1) == key:
                    return False, None
                value = None
        if match.group(1) == key:
            if not value:
                return False, None  # `bead:` alone may open a nested block: PyYAML decides
            found.append(value)
    if len(found) > 1:
        return False, None
    value = found[0] if found else None
    if value in ("", "~", "null", "Null", "NULL"):
        value = None
    return True, value


def bead_ids_in(text: str, path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Bead ids a plan names, in order: frontmatter ``bead:``, then ``**Bead:**`` / ``Bead:`` lines
    outside code fences. Returns ([(id, "path:line")], warnings)."""
    from clavain.phaseline import split_lines, structural_lines

    lines = split_lines(text)
    found: list[tuple[str, str]] = []
    warnings: list[str] = []
    block = _frontmatter(lines)
    if block is not None:
        simple, value = _simple_frontmatter_value(block, "bead")
        if not simple:
            value, problem = _yaml_frontmatter_value(block, "bead")
            if problem:
                warnings.append(f"{path}:1: frontmatter not read for `bead:` ({problem})")
        if value is not None:
            line = next((i + 2 for i, raw in enumerate(block)
                         if (m := _FM_KEY.match(raw.rstrip("\r\n"))) and m.group(1) == "bead"), 1)
            bead = bead_id_of(value)
            if bead:
                found.append((bead, f"{path}:{line}"))
            elif not is_placeholder(value):
                warnings.append(f"{path}:{line}: frontmatter bead {value!r} is not a bead id; ignored")
    for index, line in structural_lines(lines):
        match = _BEAD_LINE.match(line.rstrip("\r\n"))
        if match:
            bead = bead_id_of(match.group(1))
            if bead:
                found.append((bead, f"{path}:{index + 1}"))
    return found, warnings


def _yaml_frontmatter_value(block: list[str], key: str) -> tuple[Optional[str], Optional[str]]:
    import yaml

    try:
        data = yaml.safe_load("".join(block))
    except yaml.YAMLError as exc:
        return None, f"not valid YAML: {getattr(exc, 'problem', exc)}"
    if not isinstance(data, dict) or data.get(key) is None:
        return None, None
    value = data[key]
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value), None
    return None, f"`{key}:` is a {type(value).__name__}, not a bead id"
