"""What a Bash command line would run and write, read the way the PreToolUse hook needs it.

Standard library only (the hook imports this). It is a conservative reading of shell syntax, not a shell:
``scan(command)`` splits the line into simple commands (at ``; && || | & ( )`` and newlines, and inside
``$(...)``, backticks, ``bash -c '...'`` and ``eval``), strips wrappers (``sudo``, ``env``, ``timeout``,
``npx`` ...), and reports three things:

- ``runs``: the programs the line runs (basenames; a script given to ``bash``/``sh``/``source`` counts);
- ``hook_call``: whether it runs a ``clavain-cli hook ...`` subcommand (or the hook entry another way);
- ``writes_state``: the first word that writes into the state folder ``.clavain/``, or ``""``.

Reading the state folder (``cat``, ``ls``, ``grep``, ``cp .clavain/x /tmp``) is not a write.
"""

from __future__ import annotations

import re
import shlex

STATE_DIRNAME = ".clavain"
HOOK_EVENTS = ("user-prompt-submit", "pre-tool-use", "session-start")

_NAMES_STATE = re.compile(r"(?:^|[/=:'\"\s])\.clavain(?:/|$|['\"\s])")
_SUBSTITUTION = re.compile(r"\$\(([^()]*)\)|`([^`]*)`")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PUNCT = "();<>|&\n"

# wrappers: name -> number of value-taking leading arguments they consume besides options
_WRAPPERS = {"sudo": 0, "doas": 0, "env": 0, "nohup": 0, "time": 0, "nice": 0, "ionice": 0, "command": 0,
             "builtin": 0, "exec": 0, "stdbuf": 0, "xargs": 0, "timeout": 1, "npx": 0, "bunx": 0, "pnpx": 0,
             "uvx": 0, "pipx": 0, "caffeinate": 0, "chronic": 0, "unbuffer": 0, "setsid": 0}
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "fish"}
_SOURCES = {"source", "."}
_INTERPRETER = re.compile(r"^(python[0-9.]*|pypy[0-9.]*|node|nodejs|deno|bun|perl|ruby|php|lua|Rscript|osascript|"
                          r"sqlite3|awk|gawk|mawk|nawk|tclsh|pwsh|powershell)$")
# programs that change whatever path they are given
_WRITE_ANY = {"mv", "rm", "rmdir", "unlink", "shred", "touch", "truncate", "chmod", "chown", "chgrp", "mkdir",
              "ln", "mkfifo", "mknod", "setfacl", "chattr", "tee", "tar", "unzip", "patch", "curl", "wget", "ed",
              "ex", "vi", "vim", "nvim", "nano", "emacs", "sponge", "split", "csplit", "mktemp"}
# programs that write only their destination (the last operand, or -t DIR)
_WRITE_DEST = {"cp", "install", "scp", "rsync"}
# git subcommands that change files in the work tree
_GIT_WRITES = {"checkout", "restore", "reset", "clean", "stash", "rm", "mv", "apply", "am", "switch", "pull",
               "merge", "rebase", "cherry-pick", "revert", "read-tree", "checkout-index"}
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


class Scan:
    """The result of ``scan``: see the module docstring."""

    __slots__ = ("runs", "hook_call", "writes_state")

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.hook_call = False
        self.writes_state = ""


def names_state(word: str) -> bool:
    """True when ``word`` names a path inside (or the folder) ``.clavain``."""
    return STATE_DIRNAME in word and bool(_NAMES_STATE.search(word))


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=_PUNCT)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: the shell refuses it too; read it word by word
        return line.replace("\n", " ; ").split()


def _split(tokens: list[str]) -> list[tuple[list[str], list[str]]]:
    """Simple commands as (words, redirection targets)."""
    commands: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    targets: list[str] = []
    expect_target = False
    for tok in tokens:
        if tok and all(ch in _PUNCT for ch in tok):
            if any(ch in tok for ch in ";|()\n") or tok in ("&", "&&"):
                if words or targets:
                    commands.append((words, targets))
                words, targets = [], []
            expect_target = ">" in tok
            continue
        if expect_target:
            expect_target = False
            if not tok.isdigit() and tok != "-":
                targets.append(tok)
            continue
        words.append(tok)
    if words or targets:
        commands.append((words, targets))
    return commands


def _basename(word: str) -> str:
    return word.rstrip("/").rsplit("/", 1)[-1]


def _unwrap(words: list[str]) -> list[str]:
    """Drop leading assignments and wrapper programs (with their options) until the real program."""
    i = 0
    while i < len(words):
        word = words[i]
        if _ASSIGNMENT.match(word):
            i += 1
            continue
        name = _basename(word)
        if name not in _WRAPPERS:
            break
        i += 1
        while i < len(words) and (words[i].startswith("-") or _ASSIGNMENT.match(words[i])):
            i += 1 + (words[i] in ("-n", "-u", "-s", "-k", "-p", "-c", "-C", "-I"))
        i += _WRAPPERS[name]
    return words[i:]


def _operands(args: list[str]) -> list[str]:
    return [a for a in args if not a.startswith("-")]


def _write_word(name: str, args: list[str]) -> str:
    """The argument through which this program writes into the state folder, or ``""``."""
    state_args = [a for a in args if names_state(a)]
    if not state_args:
        return ""
    if name in _WRITE_ANY:
        return state_args[0]
    if name in _WRITE_DEST:
        for i, arg in enumerate(args):
            if arg in ("-t", "--target-directory") and i + 1 < len(args) and names_state(args[i + 1]):
                return args[i + 1]
            if arg.startswith("--target-directory=") and names_state(arg):
                return arg
        operands = _operands(args)
        return operands[-1] if operands and names_state(operands[-1]) else ""
    if name in ("sed", "perl") and any(a == "--in-place" or (a.startswith("-") and not a.startswith("--")
                                                               and "i" in a) for a in args):
        return state_args[0]
    if name == "dd":
        return next((a for a in state_args if a.startswith("of=")), "")
    if name == "git":
        sub = next(iter(_operands(args)), "")
        return state_args[0] if sub in _GIT_WRITES else ""
    if name == "find" and any(a in ("-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf",
                                    "-fls") for a in args):
        return state_args[0]
    if _INTERPRETER.match(name):
        return state_args[0]
    return ""


def _inline_code(name: str, args: list[str]) -> str:
    for i, arg in enumerate(args[:-1]):
        if arg in ("-c", "-e", "--eval", "-E", "-r") or (name in _SHELLS and arg.startswith("-") and "c" in arg):
            return args[i + 1]
    return ""


def strip_heredocs(line: str) -> str:
    """The command line without here-document bodies (text fed to a program, not commands)."""
    lines = line.split("\n")
    kept: list[str] = []
    ends: list[str] = []
    for text in lines:
        if ends:
            if text.strip() == ends[0]:
                ends.pop(0)
            continue
        kept.append(text)
        ends.extend(match.group(2) for match in _HEREDOC.finditer(text))
    return "\n".join(kept)


def _scan_into(result: Scan, line: str, depth: int) -> None:
    if depth > 4:
        return
    mentions_state = names_state(line)  # a heredoc fed to an interpreter still counts
    line = strip_heredocs(line)
    for match in _SUBSTITUTION.finditer(line):
        _scan_into(result, match.group(1) or match.group(2) or "", depth + 1)
    in_state_dir = False
    for words, targets in _split(_tokens(line.replace("`", " ; "))):
        words = _unwrap(words)
        for target in targets:
            relative_in_state = in_state_dir and not target.startswith(("/", "~"))
            indirect = mentions_state and ("$" in target or "`" in target)  # D=.clavain; echo > $D/x
            if not result.writes_state and target != "/dev/null" and (
                    names_state(target) or relative_in_state or indirect):
                result.writes_state = f"> {target}"
        if not words:
            continue
        name, args = _basename(words[0]), words[1:]
        programs = [name]
        if name in ("cd", "pushd") and any(names_state(a) for a in args):
            in_state_dir = True
        if name in _SHELLS or name in _SOURCES:
            script = next(iter(_operands(args)), "")
            if script and not _inline_code(name, args):
                programs.append(_basename(script))
        result.runs.extend(programs)
        if name == "eval":
            _scan_into(result, " ".join(args), depth + 1)
        code = _inline_code(name, args)
        if code and name in _SHELLS:
            _scan_into(result, code, depth + 1)
        if _is_hook_call(programs, args, code):
            result.hook_call = True
        if not result.writes_state:
            written = _write_word(name, args)
            if not written and in_state_dir and (name in _WRITE_ANY or name in _WRITE_DEST or name in ("sed", "dd")):
                written = f"{name} (inside {STATE_DIRNAME}/)"
            if not written and _INTERPRETER.match(name) and mentions_state:
                written = f"{name} (a program that names {STATE_DIRNAME}/)"
            result.writes_state = written


def _is_hook_call(programs: list[str], args: list[str], code: str) -> bool:
    name = programs[0]
    if any(p.startswith("clavain-hook") for p in programs):
        return True
    if name == "clavain-cli":
        return _operands(args)[:1] == ["hook"]
    if _INTERPRETER.match(name):
        if "-m" in args and args[args.index("-m") + 1:args.index("-m") + 2] == ["clavain"]:
            return "hook" in args
        text = " ".join([code, *args])
        return "clavain" in text and ("hooks" in text or any(event in text for event in HOOK_EVENTS))
    return False


def scan(command: str) -> Scan:
    """Read one Bash ``command`` (see the module docstring)."""
    result = Scan()
    _scan_into(result, command, 0)
    return result
