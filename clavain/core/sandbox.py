"""The protection level, and what Claude Code's Bash sandbox needs. Standard library only (hooks call it).

Two levels, one vocabulary with the README's threat model:

    sandboxed   the operating system holds the model's Bash commands (and everything they start): they
                write only inside the project and the sandbox's temp dir. Claude Code's sandbox is on in
                the settings a session started in the project applies, the model cannot run a command
                outside it, and bubblewrap works (Seatbelt on macOS).
    hooks only  best effort: the hooks read each tool call and block what they recognise.

``protection_level(folder, env)`` decides, once per session or command: it reads the settings files and,
on Linux, starts one real ``bwrap ... true`` (a few milliseconds, and the ``subprocess`` import), whose
success is then remembered while nothing it depends on changes (``clavain.core.probecache``). Inside Claude
Code's Bash tool the answer is what that session really does: a session reads its settings when it starts,
so a sandbox turned on since then does not hold it yet.

Paths are text here (``Path`` accepted wherever a path is taken): the SessionStart hook decides the level on
every session start, and ``pathlib`` with what it loads (``re``, ``fnmatch``, ``urllib``) costs most of a bare
interpreter start of its own.
"""

from __future__ import annotations

import os
import sys

from clavain.core.claudesettings import MANAGED, USER, config_dir, home_dir, read_layers

TYPE_CHECKING = False   # not ``typing``'s: the hooks import this module without it
if TYPE_CHECKING:
    from collections.abc import Mapping

SANDBOXED = "sandboxed"
HOOKS_ONLY = "hooks only"
SETUP = "clavain-cli setup sandbox"
NEW_SESSION = "then start a new Claude Code session"

# Linux package managers, by the ID / ID_LIKE words of /etc/os-release. The package names are the same.
PACKAGE_MANAGERS = (
    (("debian", "ubuntu"), "sudo apt-get install"),
    (("fedora", "rhel", "centos"), "sudo dnf install"),
    (("arch",), "sudo pacman -S"),
    (("suse", "opensuse"), "sudo zypper install"),
    (("alpine",), "sudo apk add"),
)
PACKAGES = {"bwrap": "bubblewrap", "socat": "socat"}
OS_RELEASE = "/etc/os-release"


class Protection:
    """A level with a one-line reason, and (for "hooks only") how to upgrade."""

    __slots__ = ("level", "reason", "upgrade")

    def __init__(self, level: str, reason: str, upgrade: str = "") -> None:
        self.level, self.reason, self.upgrade = level, reason, upgrade

    @property
    def sandboxed(self) -> bool:
        return self.level == SANDBOXED

    def line(self) -> str:
        """``protection: sandboxed (...)`` or ``protection: hooks only, best effort (...); to upgrade: ...``"""
        if self.sandboxed:
            return f"protection: {SANDBOXED} ({self.reason})"
        return f"protection: {HOOKS_ONLY}, best effort ({self.reason}); to upgrade: {self.upgrade}"

    def as_dict(self) -> dict:
        return {"level": self.level, "reason": self.reason, "upgrade": self.upgrade}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Protection) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"Protection({self.level!r}, {self.reason!r}, {self.upgrade!r})"


# ------------------------------------------------------------------------------------------ what it needs

def install_command(missing: list[str], os_release: str) -> str:
    """The command that installs the missing tools (``bwrap``, ``socat``) on this Linux distribution, or one
    per distribution when ``os_release`` (the text of /etc/os-release) names none we know."""
    words = set()
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            words.update(value.strip().strip("\"'").lower().replace("-", " ").split())
    packages = " ".join(PACKAGES[tool] for tool in missing)
    for ids, manager in PACKAGE_MANAGERS:
        if words & set(ids):
            return f"{manager} {packages}"
    return "; ".join(f"{ids[0].capitalize()}: {manager} {packages}" for ids, manager in PACKAGE_MANAGERS)


def _which(name: str, path: str, configured: object = None) -> str | None:
    """``name`` on ``path`` (``shutil.which`` without its imports: hooks call this), or the absolute
    ``configured`` path when it is executable."""
    if isinstance(configured, str) and os.path.isabs(configured):
        return configured if os.access(configured, os.X_OK) else None
    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder, name)
        if folder and os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


def _true(env: Mapping[str, str]) -> str:
    """``true`` by its full path (the sandbox under test sees the same files), found on PATH or the default path."""
    return _which("true", env.get("PATH", "") + os.pathsep + os.defpath) or "true"


def _probe(argv: list[str], env: Mapping[str, str]) -> str:
    """'' when ``argv`` runs and exits 0 within 10 s, else the first line of what went wrong."""
    import subprocess

    try:
        proc = subprocess.run(argv, env=dict(env), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if proc.returncode == 0:
        return ""
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return lines[0] if lines else f"exit code {proc.returncode}"


def _probe_remembered(argv: list[str], env: Mapping[str, str]) -> str:
    """``_probe``, unless a success of this very probe is remembered under the same facts; a new success is
    remembered (``clavain.core.probecache``)."""
    import time

    from clavain.core import probecache

    digest = probecache.key(probecache.facts(argv))
    if probecache.remembered(digest, env, time.time()):
        return ""
    failed = _probe(argv, env)
    if not failed:
        probecache.remember(digest, env, time.time())
    return failed


def runtime_problem(env: Mapping[str, str], system: str, sandbox: dict | None = None,
                    os_release=OS_RELEASE, *, remember: bool = False) -> tuple[str, str] | None:
    """``None`` when Claude Code's sandbox can run on this machine, else ``(reason, what to do)``.

    Linux: ``bwrap`` and ``socat`` on PATH (or at ``sandbox.bwrapPath`` / ``socatPath``) and one real
    ``bwrap`` start with the namespaces Claude Code asks for. macOS: one real ``sandbox-exec`` start.
    ``remember``: a bwrap start that worked is remembered, and taken instead of a new one while nothing it
    depends on has changed (``clavain.core.probecache``); the tools are looked for every time."""
    sandbox = sandbox or {}
    if system.startswith("linux"):
        found = {"bwrap": _which("bwrap", env.get("PATH", ""), sandbox.get("bwrapPath")),
                 "socat": _which("socat", env.get("PATH", ""), sandbox.get("socatPath"))}
        missing = [tool for tool, path in found.items() if path is None]
        if missing:
            try:
                with open(os_release, encoding="utf-8", errors="replace") as handle:
                    release = handle.read()
            except OSError:
                release = ""
            names = " and ".join(f"{PACKAGES[tool]} ({tool})" if tool == "bwrap" else tool for tool in missing)
            return f"{names} {'is' if len(missing) == 1 else 'are'} not installed", install_command(missing, release)
        argv = [found["bwrap"], "--new-session", "--die-with-parent", "--unshare-net", "--unshare-pid",
                "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--", _true(env)]
        failed = _probe_remembered(argv, env) if remember else _probe(argv, env)
        if failed:
            return (f"bwrap cannot start a sandbox on this machine: {failed}",
                    "let bwrap create user namespaces here (see Claude Code's sandboxing docs)")
        return None
    if system == "darwin":
        tool = _which("sandbox-exec", env.get("PATH", "") + os.pathsep + os.defpath)
        failed = _probe([tool, "-p", "(version 1)(allow default)", _true(env)], env) if tool else "sandbox-exec not found"
        return (f"Seatbelt cannot start a sandbox: {failed}", "check macOS's sandbox-exec") if failed else None
    return f"Claude Code's sandbox does not run on {system}", "use Linux, WSL2 or macOS"


# ------------------------------------------------------------------------------------------ the settings

# ``permissions.ask``, not ``permissions.deny``: Claude Code also turns every ``Edit(...)`` deny rule into a
# sandbox write denial, so a deny rule would make the run folder read-only to ``clavain-cli run`` in the
# model's sandboxed Bash (and ``.clavain/`` itself, when it is missing at session start). An ask rule holds the
# Edit and Write tools in every permission mode (bypassPermissions included; a session that cannot ask
# refuses) and leaves Bash alone. Measured with claude 2.1.197. ``deny`` is for a run state with a way in
# that is not a sandboxed Bash command.
OWNED_RULES = "ask"


def owned_rules(project) -> list[str]:
    """``Edit(...)`` rules for what this plugin owns (``clavain.core.paths.owned_paths``). The sandbox's
    ``denyWrite`` does not hold the Edit and Write tools, and a ``Write(...)`` rule does not either; an
    ``Edit(...)`` rule holds both. ``/x`` is the project's own ``x``."""
    from pathlib import Path

    from clavain.core.paths import owned_paths

    project = Path(project)
    rules = []
    for path, folder in owned_paths(project):
        rel = path.relative_to(project).as_posix()
        rules.append(f"Edit(/{rel}/**)" if folder else f"Edit(/{rel})")
    return rules


def wanted_settings(project, allow_write: list[str] = (), domains: list[str] = (),
                    owned: str = OWNED_RULES) -> dict:
    """What ``setup sandbox`` lays over the project's ``.claude/settings.local.json``."""
    sandbox: dict = {"enabled": True, "failIfUnavailable": True, "allowUnsandboxedCommands": False}
    if allow_write:
        sandbox["filesystem"] = {"allowWrite": list(allow_write)}
    if domains:
        sandbox["network"] = {"allowedDomains": list(domains)}
    return {"sandbox": sandbox, "permissions": {owned: owned_rules(project)}}


def rule_path(rule: str, project, env: Mapping[str, str]) -> str | None:
    """The path an ``Edit(...)`` permission rule names: ``//abs``, ``~/x``, ``/x`` (the project's), ``./x``
    or ``x`` (the session's folder, the project here); ``None`` for any other rule."""
    if not (rule.startswith("Edit(") and rule.endswith(")")):
        return None
    inner = rule[5:-1]
    if inner.endswith("/**"):
        inner = inner[:-3]
    if any(ch in inner for ch in "*?["):   # a pattern: Claude Code's Linux sandbox does not apply those
        return None
    if inner.startswith("/") and not inner.startswith("//"):
        inner = "./" + inner[1:]
    return entry_path(inner, env, project)


def denied_to_the_run(rules: list, project, env: Mapping[str, str]) -> list[str]:
    """The ``Edit(...)`` deny rules that, turned into sandbox write denials, keep ``clavain-cli run`` in the
    sandbox from writing what it owns."""
    from clavain.core.paths import owned_paths

    owned = [path for path, _ in owned_paths(project)]
    hits = []
    for rule in rules:
        path = rule_path(rule, project, env) if isinstance(rule, str) else None
        if path is not None and any(overlaps(path, mine) for mine in owned):
            hits.append(rule)
    return hits


# ------------------------------------------------------------------------------------------ never writable

def plugin_root(env: Mapping[str, str]) -> str | None:
    """This plugin's folder: ``CLAUDE_PLUGIN_ROOT`` (hooks), else the folder this package was loaded from
    when it is the plugin (it holds ``.claude-plugin/``)."""
    if env.get("CLAUDE_PLUGIN_ROOT"):
        return env["CLAUDE_PLUGIN_ROOT"]
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    return here if os.path.isdir(os.path.join(here, ".claude-plugin")) else None


def never_writable(env: Mapping[str, str], plugin=None) -> list[tuple[str, str]]:
    """What a sandboxed command must never be allowed to write, with what each is: Claude Code's folder (the
    session transcripts approvals read, settings, installed plugins and their data), clavain's own state
    folder, and this plugin's folder."""
    home = home_dir(env)
    state = os.path.join(env.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state"), "clavain")
    places = [(config_dir(env), "Claude Code's folder (session transcripts, settings, plugins)"),
              (os.path.join(home, ".claude"), "Claude Code's folder (session transcripts, settings, plugins)"),
              (state, "clavain's own records")]
    if env.get("CLAUDE_PLUGIN_DATA"):
        places.append((env["CLAUDE_PLUGIN_DATA"], "this plugin's data folder"))
    plugin = plugin or plugin_root(env)
    if plugin is not None:
        places.append((os.fspath(plugin), "this plugin's folder"))
    return [(os.path.normpath(path), what) for path, what in places]


def entry_path(entry: str, env: Mapping[str, str], base) -> str | None:
    """The folder an ``allowWrite`` entry opens: ``~/x``, ``//abs``, ``/abs``, or relative to ``base`` (the
    project, for project settings; relative entries of other files point nowhere useful). A glob counts
    from its fixed part."""
    text = entry.strip()
    for cut in ("*", "?", "["):
        if cut in text:
            text = text[: text.index(cut)]
    if text == "~" or text.startswith("~/"):
        path = os.path.join(home_dir(env), text[2:])
    elif text.startswith("/"):
        path = "/" + text.lstrip("/")
    elif base is not None:
        path = os.path.join(os.fspath(base), text)
    else:
        return None
    return os.path.normpath(path)


def _within(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or lies inside it (both normalised)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def overlaps(a, b) -> bool:
    """One folder is the other or holds it (text or ``Path``)."""
    a, b = os.path.normpath(os.fspath(a)), os.path.normpath(os.fspath(b))
    return _within(a, b) or _within(b, a)


def protected_overlap(path, env: Mapping[str, str], plugin=None) -> str | None:
    """What ``path`` would open to sandboxed commands that must stay closed (``None`` when nothing)."""
    for place, what in never_writable(env, plugin):
        if overlaps(path, place):
            return what
    return None


# ------------------------------------------------------------------------------------------ the level

def _show(path: str, folder: str, env: Mapping[str, str]) -> str:
    """``path`` as the user reads it: relative to the project, else to the home folder (``~/``)."""
    for base, shown in ((folder, ""), (home_dir(env), "~/")):
        base = base.rstrip("/")
        if path == base:
            return shown + "."
        if base and path.startswith(base + "/"):
            return shown + path[len(base) + 1:]
    return path


def effective_sandbox(folder, env: Mapping[str, str], system: str, managed_dir=None) -> tuple[dict, dict]:
    """The ``sandbox`` settings a session started in ``folder`` applies, and where each key came from.

    Scalars: the highest file that sets them wins. ``excludedCommands`` and ``filesystem.allowWrite`` add up
    across files, each item as ``(value, file, base for relative paths)``."""
    merged: dict = {"excludedCommands": [], "allowWrite": []}
    source: dict = {}
    for scope, path, data in read_layers(folder, env, system, managed_dir):
        sandbox = data.get("sandbox", {})
        base = folder if scope not in (USER, MANAGED) else None
        for key, value in sandbox.items():
            if key == "excludedCommands":
                merged[key] += [(item, path, base) for item in value]
            elif key == "filesystem":
                merged["allowWrite"] += [(item, path, base) for item in value.get("allowWrite", [])]
            else:
                merged[key], source[key] = value, path
    return merged, source


def protection_level(folder, env: Mapping[str, str], *, system: str | None = None, managed_dir=None,
                     plugin=None, os_release=OS_RELEASE, remember: bool = True) -> Protection:
    """The protection a Claude Code session started in ``folder`` (the project) gets: see the module's doc.

    ``env`` is the environment of the caller (a hook, the CLI, or a command inside Claude Code's Bash tool).
    ``system`` defaults to ``sys.platform``; ``managed_dir`` to the platform's managed-settings folder.
    ``remember``: take a remembered bwrap start instead of a new one (``runtime_problem``). The settings are
    read every time."""
    folder = os.fspath(folder)
    system = system or sys.platform
    sandbox, source = effective_sandbox(folder, env, system, managed_dir)
    setup = f"run `{SETUP}`, {NEW_SESSION}"
    where = {key: _show(path, folder, env) for key, path in source.items()}

    if sandbox.get("enabled") is not True:
        said = f": sandbox.enabled is false in {where['enabled']}" if "enabled" in where else ""
        return Protection(HOOKS_ONLY, f"Claude Code's Bash sandbox is off for this project{said}", setup)
    if sandbox.get("allowUnsandboxedCommands") is not False:
        return Protection(HOOKS_ONLY, "sandbox.allowUnsandboxedCommands is not false, so a command may run "
                                      "outside the sandbox", setup)
    if sandbox["excludedCommands"]:
        item, path, _ = sandbox["excludedCommands"][0]
        shown = _show(path, folder, env)
        return Protection(HOOKS_ONLY, f"sandbox.excludedCommands ({item!r} in {shown}) runs a matching command, "
                                      "and anything chained to it, outside the sandbox",
                          f"remove sandbox.excludedCommands from {shown}, {NEW_SESSION}")
    for item, path, base in sandbox["allowWrite"]:
        opened = entry_path(item, env, base)
        what = opened and protected_overlap(opened, env, plugin)
        if what:
            shown = _show(path, folder, env)
            return Protection(HOOKS_ONLY, f"sandbox.filesystem.allowWrite {item!r} in {shown} lets sandboxed "
                                          f"commands write {what}",
                              f"remove {item!r} from {shown}, {NEW_SESSION}")

    if env.get("CLAUDECODE") == "1" and not env.get("CLAUDE_PROJECT_DIR"):   # inside Claude Code's Bash tool
        if env.get("SANDBOX_RUNTIME") == "1":
            return Protection(SANDBOXED, "this command runs inside Claude Code's Bash sandbox")
        return Protection(HOOKS_ONLY, "this session's Bash commands run outside the sandbox: the sandbox "
                                      "settings are read when a session starts",
                          f"start a new Claude Code session in {folder}")
    problem = runtime_problem(env, system, sandbox, os_release, remember=remember)
    if problem:
        return Protection(HOOKS_ONLY, f"the sandbox is on in the settings, but {problem[0]}", problem[1])
    tool = "bwrap" if system.startswith("linux") else "Seatbelt"
    return Protection(SANDBOXED, f"Claude Code's Bash sandbox is on for this project and {tool} works")
