"""Where a write lands: a protected place, the project, or somewhere harmless.

Places with one writer each, protected by the PreToolUse hook from everyone else, run or no run:

- this plugin's state, ``.clavain/execute-plan/`` (the runs, the run index, the store; and ``.clavain/``
  itself, whose removal takes it along): only ``clavain-cli`` writes it. Anything else under ``.clavain/`` is
  the project's (Clavain keeps ``learnings/``, ``checkpoint.json`` ... there);
- Claude Code's session transcripts: ``$HOME/.claude/projects/`` (also ``$CLAUDE_CONFIG_DIR/projects/``, any
  ``.claude/projects`` path, and the payload's ``transcript_path``): only Claude Code writes them, and
  approvals read them as the user's own words;
- the hooks' witness records and the sandbox probe's remembered success
  (``${XDG_STATE_HOME:-~/.local/state}/clavain``): only the hooks write them;
- Claude Code's shell state (``.claude/shell-snapshots/``, ``.claude/session-env/``), sourced before each Bash
  command: only Claude Code writes it, and a function planted there before a run would later stand in for
  ``clavain-cli`` itself.

While a run of the project is active, more places are protected:

- the external-dispatch opt-in flag ``.claude/clodex-toggle.flag`` (any file of that name): creating it is the
  user's opt-in to external agents (with no run active, Clavain's own toggle creates it through the model);
- Claude Code's settings ``.claude/settings.json`` and ``.claude/settings.local.json`` (they can switch hooks
  and the sandbox off for the next session), this plugin's config ``.clavain/config.yaml``, and the plugin's own
  folder (``$CLAUDE_PLUGIN_ROOT``: a changed hook would pass everything).

While a run waits for the user, writes inside the project are blocked too; ``/dev/null``, the standard
streams and temporary folders stay harmless, and so does anything outside the project.

Standard library only and no ``re``: the hook checks Edit/Write paths with this on every call.
"""

from __future__ import annotations

import os

from clavain.core.layout import OWN_DIRNAME, OWN_STATE, STATE_DIRNAME

STATE = f"{OWN_STATE}/"
TRANSCRIPTS = "Claude Code's session transcripts"
WITNESS = "the hooks' witness records"
OPT_IN_FLAG_NAME = "clodex-toggle.flag"
OPT_IN_FLAG = f".claude/{OPT_IN_FLAG_NAME}"
SETTINGS = "Claude Code's settings"
CLAUDE_OWN = "Claude Code's own configuration"
SHELL_STATE = "Claude Code's shell state"
_SHELL_STATE = ("shell-snapshots", "session-env")   # sourced by Claude Code before each Bash command
_PROJECT_CONFIG = ("skills", "commands", "agents", "hooks", "output-styles")
CONFIG = f"{STATE_DIRNAME}/config.yaml"
PLUGIN = "this plugin's own files"
_SETTINGS_NAMES = ("settings.json", "settings.local.json")

_DELIMITERS = str.maketrans({ch: " " for ch in "=:'\"(),;<>|&{}[]\t\n\r"})
_VARIABLES = ("HOME", "CLAUDE_CONFIG_DIR", "TMPDIR", "XDG_STATE_HOME", "CLAUDE_PLUGIN_ROOT")
_DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero")
_TEMP = ("/tmp", "/var/tmp", "/private/tmp", "/dev/shm", "/dev/fd")


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _names_transcript_folder(parts: list[str]) -> bool:
    return any(parts[i] == ".claude" and parts[i + 1] == "projects" for i in range(len(parts) - 1))


def _names_state(parts: list[str]) -> bool:
    """``.clavain`` itself (removing it takes this plugin's state along), or anything in this plugin's own
    folder ``.clavain/execute-plan/``; a glob or variable right after ``.clavain/`` may mean it too."""
    for i, part in enumerate(parts):
        if part == STATE_DIRNAME:
            rest = [p for p in parts[i + 1:] if p not in ("", ".")]
            if not rest or rest[0] in (OWN_DIRNAME, "..") or any(c in rest[0] for c in "*?[{$`"):
                return True
    return False


class Places:
    """The places one hook call knows: built from the payload and the environment Claude Code gives the hook."""

    __slots__ = ("project", "cwd", "values", "roots", "transcript_name", "temp", "opt_in_flag", "witness",
                 "plugin", "claude_home")

    def __init__(self, project: str = "", cwd: str = "", home: str = "", config_dir: str = "",
                 transcript: str = "", tmpdir: str = "", opt_in_flag: bool = False, state_home: str = "",
                 plugin_root: str = "") -> None:
        self.opt_in_flag = opt_in_flag  # whether the run-time places are protected (a run is active)
        if not state_home and home:
            state_home = os.path.join(home, ".local", "state")
        self.witness = os.path.normpath(os.path.join(state_home, "clavain")) if state_home.startswith("/") else ""
        self.plugin = os.path.normpath(plugin_root) if plugin_root.startswith("/") and opt_in_flag else ""
        self.claude_home = tuple(os.path.normpath(p) for p in (
            os.path.join(home, ".claude") if home else "", os.path.join(home, ".claude.json") if home else "",
            config_dir) if p.startswith("/"))
        self.project = os.path.normpath(project) if project else ""
        self.cwd = cwd
        self.values = {"HOME": home, "CLAUDE_CONFIG_DIR": config_dir, "TMPDIR": tmpdir,
                       "XDG_STATE_HOME": state_home if state_home.startswith("/") else "",
                       "CLAUDE_PLUGIN_ROOT": plugin_root if plugin_root.startswith("/") else ""}
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
                   tmpdir=text(env.get("TMPDIR")), opt_in_flag=opt_in_flag,
                   state_home=text(env.get("XDG_STATE_HOME")), plugin_root=text(env.get("CLAUDE_PLUGIN_ROOT")))

    # ------------------------------------------------------------ cheap checks on the raw command text

    def might_name_protected(self, text: str) -> bool:
        """False only when ``text`` cannot name a protected place (the fast path skips the Bash scan then).
        Quotes and backslashes are dropped first, so ``.cla""vain`` still counts."""
        text = text.replace("'", "").replace('"', "").replace("\\", "")
        if "clavain" in text or ".claude" in text or "CLAUDE_CONFIG_DIR" in text:
            return True
        if self.transcript_name and self.transcript_name in text:
            return True
        if self.opt_in_flag and (OPT_IN_FLAG_NAME in text or "settings" in text or "config.yaml" in text
                                 or (self.plugin and self.plugin in text)):
            return True
        if self.witness and (self.witness in text or ".local/state" in text or "XDG_STATE_HOME" in text):
            return True
        return any(root in text for root in self.roots)

    def mentioned_in(self, text: str) -> str:
        """The protected place a program text names in any spelling it could build a path from, or ``""``."""
        label = self.word(text)
        if label:
            return label
        if (".claude" in text or "CLAUDE_CONFIG_DIR" in text) and "projects" in text:
            return TRANSCRIPTS
        if (".claude" in text or "CLAUDE_CONFIG_DIR" in text) and any(name in text for name in _SHELL_STATE):
            return SHELL_STATE
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
            if self.opt_in_flag and parts[-2:] == [STATE_DIRNAME, "config.yaml"]:
                return CONFIG
            if _names_state(parts):
                return STATE
        if _names_transcript_folder(parts) or (self.transcript_name and parts[-1] == self.transcript_name):
            return TRANSCRIPTS
        if any(parts[i] == ".claude" and parts[i + 1] in _SHELL_STATE for i in range(len(parts) - 1)):
            return SHELL_STATE   # run or no run: a function planted there would stand in for clavain-cli later
        if self.opt_in_flag:
            if parts[-1] == OPT_IN_FLAG_NAME:
                return OPT_IN_FLAG
            if len(parts) >= 2 and parts[-2] == ".claude" and parts[-1] in _SETTINGS_NAMES:
                return SETTINGS
            # what Claude Code runs or reads without asking a hook: skills and commands (their !`...`), the
            # shell snapshot sourced before each Bash command, its session files and its config file
            for i, part in enumerate(parts[:-1]):
                if part == ".claude" and parts[i + 1] in _PROJECT_CONFIG:
                    return CLAUDE_OWN
            if path.startswith("/") and self.claude_home:
                normal = os.path.normpath(path)
                if any(_under(normal, root) for root in self.claude_home):
                    return CLAUDE_OWN
        if path.startswith("/"):
            normal = os.path.normpath(path)
            if any(_under(normal, root) for root in self.roots):
                return TRANSCRIPTS
            if self.witness and _under(normal, self.witness):
                return WITNESS
            if self.plugin and _under(normal, self.plugin):
                return PLUGIN
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
