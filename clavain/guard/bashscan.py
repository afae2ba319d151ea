"""What a Bash command line would run and write, read the way the PreToolUse hook needs it.

Standard library only (the hook imports this). It is a conservative reading of shell syntax, not a shell:
``scan(command)`` splits the line into simple commands (at ``; && || | & ( )`` and newlines, and inside
``$(...)``, backticks, ``bash -c '...'`` and ``eval``), strips wrappers (``sudo``, ``env``, ``timeout``,
``npx`` ...), follows ``cd`` within the line, and reports:

- ``runs``: the programs the line runs (basenames; a script given to ``bash``/``sh``/``source`` counts);
- ``hook_call``: whether it runs a ``clavain-cli hook ...`` subcommand (or the hook entry another way);
- ``writes_protected`` / ``protected``: the first word that writes a protected place (``clavain.guard.places``:
  the state folder ``.clavain/``, Claude Code's session transcripts) and which place, or ``""``;
- ``writes_project``: the first simple command seen writing inside the project (a redirection, ``tee``,
  ``sed -i``, ``cp``/``mv``/``rm``/``touch`` ..., a git command that changes the work tree or history,
  inline program text that writes), or ``""``. A script run by name (``python x.py``) is not seen.

Reading (``cat``, ``ls``, ``grep``, ``cp .clavain/x /tmp``) is not a write. What each program writes is
``clavain.guard.bashwrites``.
"""

from __future__ import annotations

import os
import re
import shlex

from clavain.guard.bashwrites import INTERPRETER, operands, program_writes, protected_word, targets
from clavain.guard.places import Places

HOOK_EVENTS = ("user-prompt-submit", "pre-tool-use", "post-tool-use", "session-start", "stop")
SCAN_CHARS = 16 * 1024   # longer lines are not read (see ``scan``)

_SUBSTITUTION = re.compile(r"\$\(([^()]*)\)|`([^`]*)`")
_BACKQUOTE = re.compile(r"(?<!\\)((?:\\\\)*)`")   # a backquote not escaped by a backslash
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PUNCT = "();<>|&\n"

# wrappers: name -> number of value-taking leading arguments they consume besides options
_WRAPPERS = {"sudo": 0, "doas": 0, "env": 0, "nohup": 0, "time": 0, "nice": 0, "ionice": 0, "command": 0,
             "builtin": 0, "exec": 0, "stdbuf": 0, "xargs": 0, "timeout": 1, "npx": 0, "bunx": 0, "pnpx": 0,
             "uvx": 0, "pipx": 0, "caffeinate": 0, "chronic": 0, "unbuffer": 0, "setsid": 0}
# the options of each wrapper that take the next word as their value ("": the others')
_VALUES = {"": ("-n", "-u", "-s", "-k", "-p", "-c", "-C", "-I"), "command": (), "builtin": (), "exec": ("-a",),
           "env": ("-u", "-C", "--unset", "--chdir"), "xargs": ("-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s"),
           "time": ("-f", "-o"), "sudo": ("-u", "-g", "-p", "-C", "-h", "-U", "-r", "-t", "-D"),
           "timeout": ("-s", "-k", "--signal", "--kill-after"), "stdbuf": ("-i", "-o", "-e"), "doas": ("-u", "-C")}
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "fish"}
# reserved words that may stand before a command's name (``if codex; then rm x; fi``, ``{ cmd; }``, ``! cmd``)
_RESERVED = {"!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "esac", "coproc"}
_SOURCES = {"source", "."}
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


class Scan:
    """The result of ``scan``: see the module docstring."""

    __slots__ = ("runs", "hook_call", "writes_protected", "protected", "writes_project", "undecided")

    def __init__(self) -> None:
        self.undecided = False      # the line is too long to read in the hook's time (``SCAN_CHARS``)
        self.runs: list[str] = []
        self.hook_call = False
        self.writes_protected = ""
        self.protected = ""
        self.writes_project = ""

    def note_protected(self, word: str, place: str) -> None:
        if place and not self.writes_protected:
            self.writes_protected, self.protected = word, place

    def note_project(self, what: str) -> None:
        if not self.writes_project:
            self.writes_project = what if len(what) <= 80 else what[:77] + "..."


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
    """Simple commands as (words, redirection targets). The word after ``<``, ``<<`` or ``<<<`` is input,
    and a file-descriptor number before a redirection (``2>``) is not an argument."""
    commands: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    redirections: list[str] = []
    expect = ""
    for tok in tokens:
        if tok and all(ch in _PUNCT for ch in tok):
            if any(ch in tok for ch in ";|()\n") or tok in ("&", "&&"):
                if words or redirections:
                    commands.append((words, redirections))
                words, redirections = [], []
            elif words and words[-1].isdigit() and len(words[-1]) == 1 and tok[0] in "<>":
                words.pop()
            expect = "target" if ">" in tok else "input" if "<" in tok else ""
            continue
        if expect:
            if expect == "target" and not tok.isdigit() and tok != "-":
                redirections.append(tok)
            expect = ""
            continue
        words.append(tok)
    if words or redirections:
        commands.append((words, redirections))
    return commands


def _basename(word: str) -> str:
    return word.rstrip("/").rsplit("/", 1)[-1]


def _unwrap(words: list[str]) -> list[str]:
    """Drop leading assignments, reserved words and wrapper programs (with their options) until the real
    program."""
    i = 0
    while i < len(words):
        word = words[i]
        if _ASSIGNMENT.match(word) or word in _RESERVED:
            i += 1
            continue
        if word == "function":   # ``function f { cmd; }``: the name, then the body's commands
            i += 2
            continue
        name = _basename(word)
        if name not in _WRAPPERS:
            break
        i += 1
        while i < len(words) and (words[i].startswith("-") or _ASSIGNMENT.match(words[i])):
            option = words[i]
            if name == "env" and option.startswith(("-S", "--split-string")):   # env -S 'prog args': one string
                joined = option in ("-S", "--split-string")
                value = (words[i + 1] if i + 1 < len(words) else "") if joined else \
                    option.split("=", 1)[-1] if option.startswith("--") else option[2:]
                words = [*words[:i], *value.split(), *words[i + 1 + joined:]]
                continue
            i += 1 + (option in _VALUES.get(name, _VALUES[""]))
        i += _WRAPPERS[name]
    return words[i:]


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


def _cd(cd: str, args: list[str]) -> str:
    dest = next(iter(operands(args)), "~")
    return dest if not cd or dest.startswith(("/", "~", "$")) else os.path.join(cd, dest)


def _program_text(name: str, args: list[str], code: str, line: str) -> str:
    """The program an interpreter runs from the command line itself (inline, a here-document, awk's or
    sqlite3's text argument), or ``""`` when it runs a script file."""
    if code:
        return code
    if name in ("sqlite3", "awk", "gawk", "mawk", "nawk"):
        return " ".join(args)
    return line if not operands(args) else ""


def _scan_into(result: Scan, line: str, depth: int, places: Places) -> None:
    if depth > 4:
        return
    mentions = places.mentioned_in(line)  # a heredoc fed to an interpreter still counts
    full, line = line, strip_heredocs(line)
    for match in _SUBSTITUTION.finditer(line):
        _scan_into(result, match.group(1) or match.group(2) or "", depth + 1, places)
    cd = ""
    for words, redirections in _split(_tokens(_BACKQUOTE.sub(r"\1 ; ", line))):
        words = _unwrap(words)
        for target in redirections:
            indirect = mentions if ("$" in target or "`" in target) else ""  # D=.clavain; echo > $D/x
            result.note_protected(f"> {target}", places.word(target, cd) or indirect)
            if places.in_project(target, cd):
                result.note_project(f"> {target}")
        if not words:
            continue
        name, args = _basename(words[0]), words[1:]
        programs = [name]
        if name in ("cd", "pushd"):
            cd = _cd(cd, args)
            continue
        if name in _SHELLS or name in _SOURCES:
            script = next(iter(operands(args)), "")
            if script and not _inline_code(name, args):
                programs.append(_basename(script))
        result.runs.extend(programs)
        if name == "eval":
            _scan_into(result, " ".join(args), depth + 1, places)
        code = _inline_code(name, args)
        if code and name in _SHELLS:
            _scan_into(result, code, depth + 1, places)
        if _is_hook_call(programs, args, code):
            result.hook_call = True
        written = targets(name, args)
        interpreted = INTERPRETER.match(name)
        if interpreted and program_writes(name, _program_text(name, args, code, full)):
            written.append("")
        if any(places.in_project(target, cd) for target in written):
            result.note_project(" ".join(words))
        word = protected_word(name, args, places, cd)
        if word:
            result.note_protected(word, places.word(word, cd))
        in_protected = places.word(cd.rstrip("/") + "/x") if cd else ""  # a write lands in the folder
        if in_protected and (written or interpreted):
            result.note_protected(f"{name} (inside {in_protected})", in_protected)
        if interpreted and mentions:
            result.note_protected(f"{name} (a program that names {mentions})", mentions)


def _is_hook_call(programs: list[str], args: list[str], code: str) -> bool:
    name = programs[0]
    if any(p.startswith("clavain-hook") for p in programs):
        return True
    if name == "clavain-cli":
        return operands(args)[:1] == ["hook"]
    if INTERPRETER.match(name):
        if "-m" in args and args[args.index("-m") + 1:args.index("-m") + 2] == ["clavain"]:
            return "hook" in args
        text = " ".join([code, *args])
        return "clavain" in text and ("hooks" in text or any(event in text for event in HOOK_EVENTS))
    return False


_ANSI_C = re.compile(r"\$'((?:[^'\\]|\\.)*)'")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|.)", re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f",
           "v": "\v"}
_ASSIGN = re.compile(r"(?:^|[\s;&|(])([A-Za-z_][A-Za-z0-9_]*)=('[^']*'|\"[^\"$`]*\"|[^\s;&|()<>$`'\"]*)")


def _unescape(match: re.Match) -> str:
    code = match.group(1)
    if code[0] in "xuU":
        return chr(int(code[1:], 16))
    if code[0] in "01234567":
        return chr(int(code, 8))
    return _SIMPLE.get(code, code)


def expanded(command: str) -> str:
    """The command line with what a shell would spell out before running it, as far as the line itself says:
    ``$'\\x63odex'`` (ANSI-C quoting) decoded, and ``$NAME`` / ``${NAME}`` replaced by a value the same line
    assigns (``c=cod; ${c}ex``). Used to find program names spelled another way; not a shell."""
    text = _ANSI_C.sub(lambda m: _ESCAPE.sub(_unescape, m.group(1)), command)
    values = {name: value.strip("'\"") for name, value in _ASSIGN.findall(text)}
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
        text = re.sub(r"\$" + name + r"(?![A-Za-z0-9_])", lambda _m, v=value: v, text)
    return text


def scan(command: str, places: Places | None = None, limit: int = SCAN_CHARS) -> Scan:
    """Read one Bash ``command`` (see the module docstring); ``places`` says what is protected and where the
    project is (by default: this plugin's state and ``.claude/projects`` paths; every relative path is the
    project's). A line longer than ``limit`` is not read at all: ``undecided`` says so, and the caller decides
    from cheap checks of the raw text (the reading is not linear in the worst case)."""
    result = Scan()
    if len(command) > limit:
        result.undecided = True
        return result
    _scan_into(result, command, 0, places or Places())
    return result
