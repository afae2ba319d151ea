"""Where a write lands: a protected place, the project, or somewhere harmless.

Two places have one writer each, and a PreToolUse hook blocks everyone else, run or no run:

- the run state folder ``.clavain/`` (any folder of that name): only ``clavain-cli run ...`` writes it;
- Claude Code's session transcripts: ``$HOME/.claude/projects/`` (also ``$CLAUDE_CONFIG_DIR/projects/``,
  any ``.claude/projects`` path, and the payload's ``transcript_path``): only Claude Code writes them, and
  approvals trust them as the user's own words.

While a run of the project is active, a third place is protected: the external-dispatch opt-in flag
``.claude/clodex-toggle.flag`` (any file of that name). Creating it is the user's opt-in to external agents;
with no run active, Clavain's own interserve toggle creates it through the model at the user's request.

While a run waits for the user, writes inside the project are blocked too; ``/dev/null``, the standard
streams and temporary folders stay harmless, and so does anything outside the project.

Standard library only and no ``re``: the hook checks Edit/Write paths with this on every call.
"""

from __future__ import annotations

import os

STATE_DIRNAME = ".clavain"
STATE = f"{STATE_DIRNAME}/"
TRANSCRIPTS = "Claude Code's session transcripts"
OPT_IN_FLAG_NAME = "clodex-toggle.flag"
OPT_IN_FLAG = f".claude/{OPT_IN_FLAG_NAME}"

_DELIMITERS = str.maketrans({ch: " " for ch in "=:'\"(),;<>|&{}[]\t\n\r"})
_VARIABLES = ("HOME", "CLAUDE_CONFIG_DIR", "TMPDIR")
_DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero")
_TEMP = ("/tmp", "/var/tmp", "/private/tmp", "/dev/shm", "/dev/fd")


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _names_transcript_folder(parts: list[str]) -> bool:
    return any(parts[i] == ".claude" and parts[i + 1] == "projects" for i in range(len(parts) - 1))


class Places:
    """The places one hook call knows: built from the payload and the environment Claude Code gives the hook."""

    __slots__ = ("project", "cwd", "values", "roots", "transcript_name", "temp", "opt_in_flag")

    def __init__(self, project: str = "", cwd: str = "", home: str = "", config_dir: str = "",
                 transcript: str = "", tmpdir: str = "", opt_in_flag: bool = False) -> None:
        self.opt_in_flag = opt_in_flag  # whether the opt-in flag is protected (a run is active)
        self.project = os.path.normpath(project) if project else ""
        self.cwd = cwd
        self.values = {"HOME": home, "CLAUDE_CONFIG_DIR": config_dir, "TMPDIR": tmpdir}
        bases = [os.path.join(home, ".claude") if home else "", config_dir]
        self.roots = tuple(os.path.normpath(os.path.join(base, "projects")) for base in bases if base) + (
            (os.path.normpath(transcript),) if transcript.startswith("/") else ())
        self.transcript_name = os.path.basename(transcript) if transcript else ""
        self.temp = _TEMP + ((tmpdir.rstrip("/"),) if tmpdir.startswith("/") and len(tmpdir) > 1 else ())

    @classmethod
    def for_hook(cls, payload: dict, env, project: str = "", opt_in_flag: bool = False) -> "Places":
        def text(value) -> str:
            return value if isinstance(value, str) else ""

        return cls(project=project, cwd=text(payload.get("cwd")), home=text(env.get("HOME")),
                   config_dir=text(env.get("CLAUDE_CONFIG_DIR")), transcript=text(payload.get("transcript_path")),
                   tmpdir=text(env.get("TMPDIR")), opt_in_flag=opt_in_flag)

    # ------------------------------------------------------------ cheap checks on the raw command text

    def might_name_protected(self, text: str) -> bool:
        """False only when ``text`` cannot name a protected place (the fast path skips the Bash scan then).
        Quotes and backslashes are dropped first, so ``.cla""vain`` still counts."""
        text = text.replace("'", "").replace('"', "").replace("\\", "")
        if "clavain" in text or ".claude" in text or "CLAUDE_CONFIG_DIR" in text:
            return True
        if self.transcript_name and self.transcript_name in text:
            return True
        if self.opt_in_flag and OPT_IN_FLAG_NAME in text:
            return True
        return any(root in text for root in self.roots)

    def mentioned_in(self, text: str) -> str:
        """The protected place a program text names in any spelling it could build a path from, or ``""``."""
        label = self.word(text)
        if label:
            return label
        if (".claude" in text or "CLAUDE_CONFIG_DIR" in text) and "projects" in text:
            return TRANSCRIPTS
        return TRANSCRIPTS if self.transcript_name and self.transcript_name in text else ""

    # ------------------------------------------------------------ one word of a command line

    def expand(self, word: str) -> str:
        """``~``, ``$HOME``, ``${HOME}``, ``$CLAUDE_CONFIG_DIR`` and ``$TMPDIR`` replaced by their values when known."""
        if "$" in word:
            for name in _VARIABLES:
                value = self.values[name]
                if value:
                    word = word.replace("${" + name + "}", value).replace("$" + name, value)
        home = self.values["HOME"]
        if home and "~" in word:
            if word == "~" or word.startswith("~/"):
                word = home + word[1:]
            for lead in ("=", ":", "'", '"', " "):
                word = word.replace(lead + "~/", lead + home + "/")
        return word

    def word(self, word: str, cd: str = "") -> str:
        """The protected place that ``word`` (a shell word, or program text) names, or ``""``. Relative paths
        are read from the folder ``cd`` (what an earlier ``cd`` on the same line moved to)."""
        expanded = self.expand(word)
        for fragment in [expanded, *expanded.translate(_DELIMITERS).split()]:
            if cd and not fragment.startswith(("/", "$", "~")):
                fragment = os.path.join(self.expand(cd), fragment)
            label = self.path(fragment)
            if label:
                return label
        return ""

    def path(self, path: str) -> str:
        """The protected place that one path names, or ``""``."""
        parts = path.replace("\\", "/").split("/")
        if STATE_DIRNAME in parts:
            return STATE
        if _names_transcript_folder(parts) or (self.transcript_name and parts[-1] == self.transcript_name):
            return TRANSCRIPTS
        if self.opt_in_flag and parts[-1] == OPT_IN_FLAG_NAME:
            return OPT_IN_FLAG
        if path.startswith("/"):
            normal = os.path.normpath(path)
            if any(_under(normal, root) for root in self.roots):
                return TRANSCRIPTS
        return ""

    def tool_path(self, path: str) -> str:
        """``path`` as an Edit/Write tool gives it (absolute, or relative to the payload's cwd), symlinks followed."""
        label = self.path(path)
        if label or not path:
            return label
        full = os.path.join(self.cwd, path) if self.cwd else path
        real = os.path.realpath(full)
        if real == full:
            return ""
        label = self.path(real)
        if label or not self.roots:
            return label
        return TRANSCRIPTS if any(_under(real, os.path.realpath(root)) for root in self.roots) else ""

    def in_project(self, target: str, cd: str = "") -> bool:
        """Whether a write to ``target`` lands inside the project. What cannot be known (``$VAR/x``, a
        substitution) counts as inside; ``/dev/null``, the standard streams and temporary folders do not."""
        target = self.expand(target)
        if target.startswith(("$TMPDIR", "${TMPDIR}")):
            return False
        if "$" in target or "`" in target:
            return True
        if not target.startswith("/"):
            base = self.expand(cd) if cd else ""
            if "$" in base or "`" in base:
                return True
            target = os.path.join(base, target) if base else target
        if not target.startswith("/"):
            if not self.cwd:
                return True
            target = os.path.join(self.cwd, target)
        target = os.path.normpath(target)
        if self.project and _under(target, self.project):  # a project may itself live in a temporary folder
            return True
        return not self.project and target not in _DEVICES and not any(_under(target, temp) for temp in self.temp)
