"""Claude Code's settings files: which ones a session applies, read the way Claude Code reads them, and a
careful edit of one. Standard library only (the hooks read the sandbox settings through this).

The files of a session started in ``folder``, lowest precedence first (measured with claude 2.1.197; the
order is the one its settings documentation gives):

    user      $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json
    project   <folder>/.claude/settings.json
    local     <folder>/.claude/settings.local.json
    managed   managed-settings.json in /etc/claude-code (macOS: /Library/Application Support/ClaudeCode),
              then the *.json files of managed-settings.d beside it, in name order

A value in a later file wins key by key (objects merge), lists add up. ``--settings`` on Claude Code's
command line sits between local and managed; no file shows it. Claude Code reads the project files only
from the folder the session starts in (not from a parent folder), and ignores a whole file that is not
valid JSON or holds a value of the wrong type, so ``read_layers`` skips such a file too.

The reading half takes and gives paths as text and parses with ``clavain.core.chain.loads``: the SessionStart
hook reads the settings through it, without ``pathlib`` or the ``json`` package (either, with the ``re`` it
loads, costs most of a bare interpreter start). The editing half (``setup sandbox``) loads those where it needs
them.
"""

from __future__ import annotations

import os

from clavain.core.chain import loads

TYPE_CHECKING = False   # not ``typing``'s: the hooks import this module without it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

USER, PROJECT, LOCAL, MANAGED = "user", "project", "local", "managed"
LOCAL_NAME = ".claude/settings.local.json"
MANAGED_DIRS = {"darwin": "/Library/Application Support/ClaudeCode", "linux": "/etc/claude-code"}


def __getattr__(name: str):
    """``LOCAL_FILE``: ``.claude/settings.local.json`` as a ``Path``, made when asked for (not on the hooks' path)."""
    if name == "LOCAL_FILE":
        from pathlib import Path

        return Path(LOCAL_NAME)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# The value types Claude Code's schema requires of the sandbox keys read here; a file that breaks one is ignored.
SANDBOX_TYPES = {"enabled": bool, "failIfUnavailable": bool, "allowUnsandboxedCommands": bool,
                 "excludedCommands": list, "filesystem": dict, "network": dict, "bwrapPath": str, "socatPath": str}


def home_dir(env: Mapping[str, str]) -> str:
    """The home folder, as text: ``$HOME``, else the user's."""
    return env.get("HOME") or os.path.expanduser("~")


def home(env: Mapping[str, str]) -> Path:
    """``home_dir`` as a ``Path``."""
    from pathlib import Path

    return Path(home_dir(env))


def config_dir(env: Mapping[str, str]) -> str:
    """Claude Code's own folder: ``$CLAUDE_CONFIG_DIR``, else ``~/.claude``."""
    return env.get("CLAUDE_CONFIG_DIR") or os.path.join(home_dir(env), ".claude")


def settings_files(folder, env: Mapping[str, str], system: str, managed_dir=None) -> list[tuple[str, str]]:
    """``(scope, path)`` of every settings file a session started in ``folder`` would apply, lowest first
    (``folder`` and ``managed_dir`` as text or ``Path``; the paths as text)."""
    folder = os.fspath(folder)
    files = [(USER, os.path.join(config_dir(env), "settings.json")),
             (PROJECT, os.path.join(folder, ".claude", "settings.json")), (LOCAL, os.path.join(folder, LOCAL_NAME))]
    managed = os.fspath(managed_dir) if managed_dir is not None else MANAGED_DIRS.get(system)
    if managed is not None:
        files.append((MANAGED, os.path.join(managed, "managed-settings.json")))
        folder_d = os.path.join(managed, "managed-settings.d")
        try:
            extra = sorted(name for name in os.listdir(folder_d) if name.endswith(".json") and not name.startswith("."))
        except OSError:
            extra = []
        files += [(MANAGED, os.path.join(folder_d, name)) for name in extra]
    return files


def _readable(data: object) -> bool:
    """Whether Claude Code would apply this file (as far as the keys read here go)."""
    if not isinstance(data, dict):
        return False
    sandbox = data.get("sandbox", {})
    if not isinstance(sandbox, dict):
        return False
    for key, kind in SANDBOX_TYPES.items():
        if key in sandbox and not isinstance(sandbox[key], kind):
            return False
    allow = sandbox.get("filesystem", {}).get("allowWrite", [])
    excluded = sandbox.get("excludedCommands", [])
    return isinstance(allow, list) and all(isinstance(x, str) for x in [*allow, *excluded])


def read_layers(folder, env: Mapping[str, str], system: str, managed_dir=None) -> list[tuple[str, str, dict]]:
    """``(scope, path, settings)`` of each file that exists and that Claude Code would apply, lowest first."""
    layers = []
    for scope, path in settings_files(folder, env, system, managed_dir):
        try:
            with open(path, encoding="utf-8") as handle:
                data = loads(handle.read())
        except (OSError, ValueError):
            continue
        if _readable(data):
            layers.append((scope, path, data))
    return layers


# ------------------------------------------------------------------------------------------ editing one file

def load_for_edit(path: Path, rerun: str) -> tuple[dict, str]:
    """The settings in ``path`` (``{}`` when it is missing or blank) and its text. Anything but a JSON object
    is ``BadInput`` naming ``path:line`` and ``rerun``, the command to run once it is fixed: a file the user
    wrote is never replaced by a guess."""
    import json

    from clavain.core.errors import BadInput

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, ""
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read it: {exc}", path=path,
                       next_command=f"fix or move {path} aside, then {rerun}")
    if not text.strip():
        return {}, text
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"not valid JSON: {exc.msg} (column {exc.colno}); nothing was written", path=path,
                       line=exc.lineno, next_command=f"fix {path}, then {rerun}")
    if not isinstance(data, dict):
        raise BadInput(f"holds a JSON {type(data).__name__}, not an object; nothing was written", path=path, line=1,
                       next_command=f"fix {path}, then {rerun}")
    return data, text


def _key_line(text: str, key: str) -> int:
    """The line of the first ``"key"`` in ``text`` (1 when it is not there): where a message points."""
    import json

    at = text.find(json.dumps(key))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def merge(current: dict, wanted: dict, *, path: Path, rerun: str, text: str = "",
          _where: str = "") -> tuple[dict, list[str]]:
    """``current`` with ``wanted`` laid over it, and a line per change. Objects merge key by key; a scalar in
    ``wanted`` replaces the user's value; a list adds its missing items at the end. Keys keep their order and
    keys the user set stay. A value of another kind where an object or a list is wanted is ``BadInput``."""
    import json

    merged = dict(current)
    changes: list[str] = []
    for key, value in wanted.items():
        name = f"{_where}{key}"
        have = merged.get(key)
        if isinstance(value, dict):
            if have is None:
                have = {}
            elif not isinstance(have, dict):
                raise _wrong_kind(name, "an object", have, path, text, key, rerun)
            merged[key], sub = merge(have, value, path=path, rerun=rerun, text=text, _where=f"{name}.")
            changes += sub
        elif isinstance(value, list):
            if have is None:
                have = []
            elif not isinstance(have, list):
                raise _wrong_kind(name, "a list", have, path, text, key, rerun)
            missing = [item for item in dict.fromkeys(value) if item not in have]
            merged[key] = have + missing
            changes += [f"{name} += {json.dumps(item)}" for item in missing]
        elif key not in merged or have != value or type(have) is not type(value):
            merged[key] = value
            old = f"{json.dumps(have)} -> " if key in current else ""
            changes.append(f"{name} = {old}{json.dumps(value)}")
    return merged, changes


def _wrong_kind(name: str, kind: str, have: object, path: Path, text: str, key: str, rerun: str):
    import json

    from clavain.core.errors import BadInput

    return BadInput(f"{name} is {json.dumps(have)[:40]}, where Claude Code expects {kind}; nothing was written",
                    path=path, line=_key_line(text, key), next_command=f"fix {name} in {path}, then {rerun}")


def dump(settings: dict) -> str:
    """The text written: two-space indent, as Claude Code writes its own settings, and a final newline."""
    import json

    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
