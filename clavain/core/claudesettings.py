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
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from clavain.core.errors import BadInput

USER, PROJECT, LOCAL, MANAGED = "user", "project", "local", "managed"
LOCAL_FILE = Path(".claude") / "settings.local.json"
MANAGED_DIRS = {"darwin": Path("/Library/Application Support/ClaudeCode"), "linux": Path("/etc/claude-code")}

# The value types Claude Code's schema requires of the sandbox keys read here; a file that breaks one is ignored.
SANDBOX_TYPES = {"enabled": bool, "failIfUnavailable": bool, "allowUnsandboxedCommands": bool,
                 "excludedCommands": list, "filesystem": dict, "network": dict, "bwrapPath": str, "socatPath": str}


def home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def config_dir(env: Mapping[str, str]) -> Path:
    """Claude Code's own folder: ``$CLAUDE_CONFIG_DIR``, else ``~/.claude``."""
    forced = env.get("CLAUDE_CONFIG_DIR")
    return Path(forced) if forced else home(env) / ".claude"


def settings_files(folder: Path, env: Mapping[str, str], system: str,
                   managed_dir: Path | None = None) -> list[tuple[str, Path]]:
    """``(scope, path)`` of every settings file a session started in ``folder`` would apply, lowest first."""
    folder = Path(folder)
    files = [(USER, config_dir(env) / "settings.json"), (PROJECT, folder / ".claude" / "settings.json"),
             (LOCAL, folder / LOCAL_FILE)]
    managed = managed_dir if managed_dir is not None else MANAGED_DIRS.get(system)
    if managed is not None:
        files.append((MANAGED, Path(managed) / "managed-settings.json"))
        try:
            extra = sorted(p for p in (Path(managed) / "managed-settings.d").iterdir()
                           if p.suffix == ".json" and not p.name.startswith("."))
        except OSError:
            extra = []
        files += [(MANAGED, p) for p in extra]
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


def read_layers(folder: Path, env: Mapping[str, str], system: str,
                managed_dir: Path | None = None) -> list[tuple[str, Path, dict]]:
    """``(scope, path, settings)`` of each file that exists and that Claude Code would apply, lowest first."""
    layers = []
    for scope, path in settings_files(folder, env, system, managed_dir):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
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
    at = text.find(json.dumps(key))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def merge(current: dict, wanted: dict, *, path: Path, rerun: str, text: str = "",
          _where: str = "") -> tuple[dict, list[str]]:
    """``current`` with ``wanted`` laid over it, and a line per change. Objects merge key by key; a scalar in
    ``wanted`` replaces the user's value; a list adds its missing items at the end. Keys keep their order and
    keys the user set stay. A value of another kind where an object or a list is wanted is ``BadInput``."""
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


def _wrong_kind(name: str, kind: str, have: object, path: Path, text: str, key: str, rerun: str) -> BadInput:
    return BadInput(f"{name} is {json.dumps(have)[:40]}, where Claude Code expects {kind}; nothing was written",
                    path=path, line=_key_line(text, key), next_command=f"fix {name} in {path}, then {rerun}")


def dump(settings: dict) -> str:
    """The text written: two-space indent, as Claude Code writes its own settings, and a final newline."""
    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
