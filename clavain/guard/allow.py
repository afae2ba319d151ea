"""The allowlist: the few Bash command lines that pass while a run waits for the user, and the one form of
``clavain-cli run ...`` whose effect on the run counts as the plugin's own.

A command line is *plain* when it is one simple command of literal words: no ``;``, ``&``, ``|``, ``$``,
backquotes, redirections, parentheses, braces, globs or comments outside quotes, and no newline; quotes and
backslash escapes are read as the shell reads them. A variable assignment before the command (``A=1 cmd``)
leaves the command's name in second place, so it never matches. The one exception is a quoted here-document
(``<<'EOF'`` ... ``EOF``) after a plain ``clavain-cli run`` command: its body is data, never run.

- ``run_command(command, plugin_root)``: ``(subcommand, words)`` when the line is a plain call of this plugin's
  own ``clavain-cli run``: the bare name ``clavain-cli`` (Claude Code puts the plugin's ``bin/`` on the model's
  PATH), or the absolute path of ``<plugin>/bin/clavain-cli``; never a relative path such as ``./clavain-cli``.
- ``read_command(command)``: a plain call of one of ``clavain.core.states.READ_COMMANDS`` (cat, ls, head,
  tail, wc, grep) with literal arguments.

Both are linear in the length of the line, never raise, and refuse what they cannot read (``MAX_CHARS``).
Standard library only, and no ``re`` or ``shlex``: the hooks run this first, on every Bash call.
"""

from __future__ import annotations

from clavain.core.states import READ_COMMANDS

MAX_CHARS = 8192
CLI_NAME = "clavain-cli"
_SPECIAL = set(";&|<>()$`{}*?[]#!\n\r")  # outside quotes, any of these makes a line not plain
_DOUBLE_QUOTED_SPECIAL = set("$`\\")      # inside double quotes: expansions are not literal


def words(line: str) -> list[str] | None:
    """The words of a plain command line, or None when it is not plain (see the module docstring)."""
    if len(line) > MAX_CHARS:
        return None
    out: list[str] = []
    word: list[str] = []
    started = False
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch in " \t":
            if started:
                out.append("".join(word))
                word, started = [], False
            i += 1
            continue
        started = True
        if ch == "'":
            end = line.find("'", i + 1)
            if end < 0:
                return None
            word.append(line[i + 1:end])
            i = end + 1
        elif ch == '"':
            i += 1
            while i < n and line[i] != '"':
                if line[i] in _DOUBLE_QUOTED_SPECIAL or line[i] in "\n\r":
                    return None
                word.append(line[i])
                i += 1
            if i >= n:
                return None
            i += 1
        elif ch == "\\":
            if i + 1 >= n or line[i + 1] in "\n\r":
                return None
            word.append(line[i + 1])
            i += 2
        elif ch in _SPECIAL:
            return None
        else:
            word.append(ch)
            i += 1
    if started:
        out.append("".join(word))
    return out


def _split_heredoc(command: str) -> tuple[str, str] | None:
    """``(first line, body)`` when ``command`` is ``LINE <<'DELIM'\\n BODY \\nDELIM``; None otherwise."""
    first, sep, rest = command.partition("\n")
    if not sep:
        return None
    head, marker, delimiter = first.rpartition("<<")
    delimiter = delimiter.strip()
    if not marker or head.endswith("<") or len(delimiter) < 3 or delimiter[0] not in "'\"" \
            or delimiter[-1] != delimiter[0]:
        return None
    name = delimiter[1:-1]
    if not name or not all(c.isalnum() or c == "_" for c in name):
        return None
    body_lines = rest.split("\n")
    while body_lines and body_lines[-1] == "":
        body_lines.pop()
    if not body_lines or body_lines[-1] != name or name in body_lines[:-1]:
        return None
    return head.rstrip(), "\n".join(body_lines[:-1])


def first_on_path(name: str, path: str) -> str:
    """The first executable file called ``name`` in the folders of ``path`` (a PATH value), or ""."""
    import os

    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return ""


def is_our_cli(word: str, plugin_root: str, path: str = "") -> bool:
    """This plugin's own ``bin/clavain-cli``: its absolute path, or the bare name when no other ``clavain-cli``
    comes first on ``path`` (Claude Code appends the plugin's ``bin/`` to the PATH of the model's Bash, so a
    ``clavain-cli`` in an earlier folder, say a project's activated ``.venv/bin``, would run instead)."""
    import os

    own = os.path.join(plugin_root, "bin", CLI_NAME) if plugin_root.startswith("/") else ""
    if word == CLI_NAME:
        found = first_on_path(CLI_NAME, path) if path else ""
        return not found or bool(own) and os.path.realpath(found) == os.path.realpath(own)
    if not word.startswith("/") or not own:
        return False
    return os.path.normpath(word) == os.path.normpath(own) or os.path.realpath(word) == os.path.realpath(own)


def run_command(command, plugin_root: str = "", path: str = "") -> tuple[str, list[str]] | None:
    """``(subcommand, all words)`` for a plain ``clavain-cli run <subcommand> ...`` of this plugin; else None."""
    try:
        if not isinstance(command, str):
            return None
        line = command.strip()
        if "\n" in line:
            split = _split_heredoc(line)
            if split is None:
                return None
            line = split[0]
        found = words(line)
        if not found or len(found) < 3 or found[1] != "run" or not is_our_cli(found[0], plugin_root, path):
            return None
        sub = found[2]
        if not sub or sub.startswith("-"):
            return None
        return sub, found
    except Exception:  # never raise: an odd line is simply not on the list
        return None


def read_command(command, path: str = "", untrusted: tuple[str, ...] = ()) -> bool:
    """A plain call of a simple reading command (``READ_COMMANDS``) with literal arguments, which runs the
    system's program of that name: the first on ``path`` must lie outside the ``untrusted`` folders (the project,
    home, temporary folders: places the model could have put a program of that name)."""
    try:
        if not isinstance(command, str):
            return False
        found = words(command.strip())
        if not found or found[0] not in READ_COMMANDS:
            return False
        if not path:
            return True
        import os

        program = first_on_path(found[0], path)
        if not program:
            return False
        real = os.path.realpath(program)
        return not any(real == root or real.startswith(root.rstrip("/") + "/")
                       for root in (os.path.realpath(u) for u in untrusted if u.startswith("/")))
    except Exception:
        return False
