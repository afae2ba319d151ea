"""The arguments of the commands a run calls most, declared once.

``argparse`` builds its parsers from these declarations for ``--help`` and for every usage error, and
``parse`` reads a well-formed command line without building any parser (``import argparse`` and the parsers of
a command family cost about a bare interpreter start). ``parse`` takes only what it reads exactly as argparse
would; anything else (``-h``, an abbreviated or unknown option, an option value that starts with ``-``, a
missing or extra argument, a value its type or choices refuse, options between positionals of variable count)
gives None, and argparse reads the command line instead, with its own messages. ``tests/test_cli_args.py``
holds the two readings equal.

Standard library only, and nothing imported at module level: the hot path starts here.
"""

from __future__ import annotations


class Arg:
    """One positional argument (``"plan"``) or option (``"--run"``), with argparse's meaning for each field."""

    __slots__ = ("name", "help", "dest", "nargs", "default", "metavar", "type", "choices", "required", "flag")

    def __init__(self, name: str, help: str | None = None, *, dest: str | None = None, nargs: str | None = None,
                 default=None, metavar: str | None = None, type=None, choices: tuple | None = None,
                 required: bool = False, flag: bool = False) -> None:
        self.name = name
        self.help = help
        self.dest = dest or name.lstrip("-").replace("-", "_")
        self.nargs = nargs
        self.default = False if flag else default
        self.metavar = metavar
        self.type = type
        self.choices = choices
        self.required = required
        self.flag = flag

    @property
    def positional(self) -> bool:
        return not self.name.startswith("-")

    def argparse_options(self) -> dict:
        """The keyword arguments of ``ArgumentParser.add_argument`` for this argument."""
        if self.flag:
            return {"action": "store_true", "help": self.help, **({"dest": self.dest} if not self.positional else {})}
        out: dict = {"help": self.help}
        for key in ("nargs", "metavar", "type", "choices"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.default is not None:
            out["default"] = self.default
        if not self.positional:
            out["dest"] = self.dest
            if self.required:
                out["required"] = True
        return out


class Command:
    """A subcommand: its name, its one-line help, its handler ``fn(args, ctx)`` and its arguments."""

    __slots__ = ("name", "help", "handler", "args")

    def __init__(self, name: str, handler, help: str, *args: Arg) -> None:
        self.name = name
        self.handler = handler
        self.help = help
        self.args = args

    def add_to(self, subparsers):
        """Add this command to argparse ``subparsers``; returns its parser."""
        parser = subparsers.add_parser(self.name, help=self.help)
        for arg in self.args:
            parser.add_argument(arg.name, **arg.argparse_options())
        parser.set_defaults(handler=self.handler)
        return parser


class Values:
    """What ``parse`` read, as attributes (the shape of argparse's ``Namespace``, without importing argparse)."""

    def __init__(self, **values) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Values({self.__dict__!r})"


def _value(arg: Arg, text: str):
    """``text`` converted as argparse converts it; raises ValueError when argparse would refuse it."""
    value = arg.type(text) if arg.type is not None else text
    if arg.choices is not None and value not in arg.choices:
        raise ValueError(text)
    return value


def _is_option(word: str) -> bool:
    return word.startswith("-") and word != "-"


def parse(command: Command, words: list[str]) -> dict | None:
    """The values argparse gives ``words`` (the arguments after the command's name), by ``dest``; None when
    argparse must read them (see the module's docstring)."""
    values = {arg.dest: arg.default for arg in command.args}
    options = {arg.name: arg for arg in command.args if not arg.positional}
    positional = [arg for arg in command.args if arg.positional]
    fixed = all(arg.nargs is None for arg in positional)
    given: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if not _is_option(word):
            if seen and not fixed:   # argparse reads such positionals in pieces around the options
                return None
            given.append(word)
            continue
        name, inline = (word.split("=", 1) if word.startswith("--") and "=" in word else (word, None))
        arg = options.get(name)
        if arg is None:
            return None
        seen.add(arg.dest)
        if arg.flag:
            if inline is not None:
                return None
            values[arg.dest] = True
            continue
        if inline is None:
            if i >= len(words) or _is_option(words[i]):
                return None
            inline = words[i]
            i += 1
        try:
            values[arg.dest] = _value(arg, inline)
        except Exception:
            return None
    if any(arg.required and arg.dest not in seen for arg in options.values()):
        return None
    return _positionals(positional, given, values)


def _positionals(positional: list[Arg], given: list[str], values: dict) -> dict | None:
    """Hand ``given`` to the positional arguments greedily from the left, as argparse's pattern match does."""
    start = 0
    for index, arg in enumerate(positional):
        rest = sum(1 for later in positional[index + 1:] if later.nargs in (None, "+"))
        free = len(given) - start - rest
        if arg.nargs is None or arg.nargs == "+":
            if free < 1:
                return None
        take = {None: 1, "?": min(1, max(free, 0)), "*": max(free, 0), "+": free}[arg.nargs]
        words = given[start:start + take]
        start += take
        try:
            converted = [_value(arg, word) for word in words]
        except Exception:
            return None
        if arg.nargs is None:
            values[arg.dest] = converted[0]
        elif arg.nargs == "?":
            if converted:
                values[arg.dest] = converted[0]
        elif converted or arg.default is None:
            values[arg.dest] = converted
    if start != len(given):
        return None
    return values
