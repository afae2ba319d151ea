"""What one simple command writes, read from its program name and arguments (``clavain.guard.bashscan`` splits
the line; this module knows the programs). Standard library only.

Two readings, for two rules:

- ``protected_word(name, args, places, cd)``: the argument through which the command writes a protected
  place (``clavain.guard.places``), or ``""``. Conservative: a program that changes whatever it is given counts
  as soon as any argument names the place.
- ``targets(name, args)``: the paths the command writes (as written; ``"."`` for its working folder,
  ``""`` for a place it does not say), or ``[]`` when it writes none. Used while a run waits for the user.
"""

from __future__ import annotations

import os
import re

from clavain.guard.places import OPT_IN_FLAG

# programs that change whatever path they are given
WRITE_ANY = {"mv", "rm", "rmdir", "unlink", "shred", "touch", "truncate", "chmod", "chown", "chgrp", "mkdir",
             "ln", "mkfifo", "mknod", "setfacl", "chattr", "tee", "tar", "unzip", "patch", "curl", "wget", "ed",
             "ex", "vi", "vim", "nvim", "nano", "emacs", "sponge", "split", "csplit", "mktemp"}
# programs that write only their destination (the last operand, or -t DIR)
WRITE_DEST = {"cp", "install", "scp", "rsync"}
INTERPRETER = re.compile(r"^(python[0-9.]*|pypy[0-9.]*|node|nodejs|deno|bun|perl|ruby|php|lua|Rscript|osascript|"
                         r"sqlite3|awk|gawk|mawk|nawk|tclsh|pwsh|powershell)$")
# git subcommands that change files in the work tree
GIT_WORK_TREE = {"checkout", "restore", "reset", "clean", "stash", "rm", "mv", "apply", "am", "switch", "pull",
                 "merge", "rebase", "cherry-pick", "revert", "read-tree", "checkout-index"}
# git subcommands that change the index, refs, history or the repository's settings
_GIT_HISTORY = {"commit", "add", "tag", "push", "fetch", "branch", "notes", "update-ref", "update-index",
                "symbolic-ref", "gc", "prune", "repack", "replace", "filter-branch", "filter-repo", "init",
                "worktree", "submodule", "config", "remote", "reflog", "bisect", "lfs", "sparse-checkout"}
# the forms of those subcommands that only read
_GIT_READS = {"worktree": {"list"}, "notes": {"list", "show"},
              "submodule": {"status", "summary"}, "remote": {"show", "get-url", "-v"}, "reflog": {"show"},
              "bisect": {"log", "visualize", "view"}, "lfs": {"ls-files", "status", "env", "version"},
              "sparse-checkout": {"list"}}
_GIT_LISTS = {"branch": {"-l", "--list", "-a", "--all", "-r", "--remotes", "--show-current", "-v", "-vv",
                         "--contains", "--merged", "--no-merged"},
              "tag": {"-l", "--list", "-n", "--contains", "--merged", "--no-merged", "--points-at"}}
_GIT_VALUE_OPTIONS = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env"}
_FIND_WRITES = {"-delete", "-fprint", "-fprint0", "-fprintf", "-fls"}
_FIND_RUNS = {"-exec", "-execdir", "-ok", "-okdir"}
# signs that program text given on the command line writes files (read only while a run waits for the user)
_WRITE_SIGNS = re.compile(
    r"\bopen\s*\([^)]*,\s*(?:mode\s*=\s*)?['\"][rbt]*[wax+]|\.write\b|write_text|write_bytes|writeFile|appendFile|"
    r"\bunlink|os\.remove|rmtree|\brename|\bmkdirs?\b|makedirs|shutil|copyfile|\btruncate|symlink|\bsystem\s*\(|"
    r"subprocess|popen|spawn|\bexec[lv]?p?e?\s*\(|File\.(?:write|open|delete)|fs\.(?:write|append|unlink|rm|rename|"
    r"mkdir|copy|truncate|symlink)")
_AWK_WRITES = re.compile(r"\bprint[f]?\b[^;}()]*>|\bsystem\s*\(")
_SQL_WRITES = re.compile(r"\b(?:insert|update|delete|create|drop|alter|replace|vacuum|attach|\.import|\.restore)\b",
                         re.I)


def program_writes(name: str, text: str) -> bool:
    """Whether program text an interpreter runs from the command line shows signs of writing files."""
    if name == "sqlite3":
        return bool(_SQL_WRITES.search(text))
    if name in ("awk", "gawk", "mawk", "nawk"):
        return bool(_AWK_WRITES.search(text))
    return bool(_WRITE_SIGNS.search(text))


def operands(args: list[str]) -> list[str]:
    return [a for a in args if not a.startswith("-")]


def git_subcommand(args: list[str]) -> tuple[str, list[str], str]:
    """``(subcommand, its arguments, the folder it works in)`` past git's own options (``-C dir``, ``-c k=v``)."""
    where, i = ".", 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in _GIT_VALUE_OPTIONS:
            if args[i] == "-C" and i + 1 < len(args):
                where = os.path.join(where, args[i + 1])
            i += 2
        else:
            i += 1
    return (args[i], args[i + 1:], where) if i < len(args) else ("", [], where)


def _git_changes(sub: str, rest: list[str]) -> bool:
    if sub in GIT_WORK_TREE:
        return not (sub == "stash" and rest[:1] in (["list"], ["show"]))
    if sub not in _GIT_HISTORY:
        return False
    first = next(iter(operands(rest)), "")
    if sub in _GIT_READS:
        return bool(first) and first not in _GIT_READS[sub]
    if sub in _GIT_LISTS:
        return bool(operands(rest)) and not any(a in _GIT_LISTS[sub] for a in rest) or any(
            a in ("-d", "-D", "--delete", "-m", "-M", "--move", "-c", "-C", "--copy", "-f", "--force", "-a", "-s",
                  "-u", "--set-upstream-to", "--unset-upstream", "--edit-description") for a in rest)
    if sub == "config":
        return len(operands(rest)) >= 2 or first in ("set", "unset", "rename-section", "remove-section", "edit") or any(
            a in ("--unset", "--unset-all", "--add", "--replace-all", "--rename-section", "--remove-section", "--edit",
                  "-e") for a in rest)
    return True


def _dest(args: list[str]) -> list[str]:
    for i, arg in enumerate(args):
        if arg in ("-t", "--target-directory") and i + 1 < len(args):
            return [args[i + 1]]
        if arg.startswith("--target-directory="):
            return [arg.split("=", 1)[1]]
    ops = operands(args)
    return ops[-1:] if len(ops) > 1 else ([""] if ops else [])


def _in_place(name: str, args: list[str]) -> bool:
    return name in ("sed", "gsed", "perl") and any(
        a == "--in-place" or a.startswith("--in-place=") or (a.startswith("-") and not a.startswith("--") and "i" in a)
        for a in args)


def _find_targets(args: list[str]) -> list[str]:
    roots = []
    for arg in args:
        if arg.startswith("-") or arg in ("(", "!"):
            break
        roots.append(arg)
    for i, arg in enumerate(args):
        if arg in _FIND_WRITES:
            return roots or ["."]
        if arg in _FIND_RUNS and i + 1 < len(args):
            inner = [a for a in args[i + 2:] if a not in (";", "+", "\\;")]
            found = targets(os.path.basename(args[i + 1]), inner)
            if found:
                return found
    return []


def _value(args: list[str], names: tuple[str, ...]) -> str | None:
    """The value of the first of the options ``names`` (``-o X``, ``-sSo X``, ``-oX``, ``--output=X``)."""
    for i, arg in enumerate(args):
        for name in names:
            if name.startswith("--"):
                if arg == name and i + 1 < len(args):
                    return args[i + 1]
                if arg.startswith(name + "="):
                    return arg.split("=", 1)[1]
            elif arg.startswith("-") and not arg.startswith("--") and name[1] in arg[1:]:
                rest = arg[arg.index(name[1], 1) + 1:]
                return rest or (args[i + 1] if i + 1 < len(args) else None)
    return None


def _download_targets(name: str, args: list[str]) -> list[str]:
    if name == "curl":
        out = _value(args, ("-o", "--output"))
        if out is not None:
            return [] if out in ("-", "/dev/null") else [out]
        return ["."] if any(a in ("-O", "--remote-name", "--remote-name-all") for a in args) else []
    if any(a == "--spider" for a in args):
        return []
    out = _value(args, ("-O", "--output-document"))
    if out is not None:
        return [] if out in ("-", "/dev/null") else [out]
    return [_value(args, ("-P", "--directory-prefix")) or "."]


def targets(name: str, args: list[str]) -> list[str]:
    """The paths this command writes (see the module docstring)."""
    if name in WRITE_DEST:
        return _dest(args)
    if name == "git":
        sub, rest, where = git_subcommand(args)
        return [where] if _git_changes(sub, rest) else []
    if name in ("curl", "wget"):
        return _download_targets(name, args)
    if name == "tar":
        mode = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
        mode += args[0] if args and not args[0].startswith("-") else ""
        writes = any(ch in mode for ch in "cxruA") or any(
            a in ("--create", "--extract", "--get", "--append", "--update") for a in args)
        return [_value(args, ("-C", "--directory")) or "."] if writes else []
    if name == "unzip":
        listing = any(a in ("-l", "-v", "-t", "-p", "-Z", "-z") for a in args)
        return [] if listing else [_value(args, ("-d",)) or "."]
    if name == "dd":
        return [a[3:] for a in args if a.startswith("of=")]
    if name == "find":
        return _find_targets(args)
    if _in_place(name, args):
        return operands(args) or [""]
    if name in ("tee", "mktemp"):
        return operands(args) if name == "tee" else [a for a in operands(args) if "/" in a]
    if name in WRITE_ANY:
        return operands(args) or [""]
    return []


def protected_word(name: str, args: list[str], places, cd: str = "") -> str:
    """The argument through which this command writes a protected place, or ``""``."""
    named = [a for a in args if places.word(a, cd)]
    if not named:
        return ""
    if name in WRITE_ANY or INTERPRETER.match(name):
        return named[0]
    if name in WRITE_DEST:
        dest = _dest(args)
        if dest and dest[0] and places.word(dest[0], cd):
            return dest[0]
        # a copy keeps its name: copying a file named like the opt-in flag into a folder creates the flag there
        return next((a for a in named if places.word(a, cd) == OPT_IN_FLAG), "")
    if _in_place(name, args):
        return named[0]
    if name == "dd":
        return next((a for a in named if a.startswith("of=")), "")
    if name == "git":
        return named[0] if git_subcommand(args)[0] in GIT_WORK_TREE else ""
    if name == "find" and any(a in _FIND_WRITES or a in _FIND_RUNS for a in args):
        return named[0]
    return ""
