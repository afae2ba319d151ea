"""clavain-cli: the one entry point the command, the skill and the hooks drive.

Exit codes (the whole CLI and every hook follow this one table):

    0  done
    1  refused by a rule or a gate; the message names the next allowed command
    2  bad input or usage; the message says what and where (``path:line`` for files)
    3  environment problem: a missing dependency, unreadable or corrupt state, a tool that cannot run
  130  interrupted (Ctrl-C), as shells report it; a run resumes from what was recorded

Hooks block a tool call with exit 2 as Claude Code requires (stderr goes to the model); see
``clavain.guard.hooks``. Only ``main`` maps exceptions to exit codes; the core raises.
Set ``CLAVAIN_DEBUG=1`` to see a traceback for an internal error.
"""

from __future__ import annotations

import sys

from clavain.core.errors import BadInput, ClavainError, EnvironmentProblem, Refused

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3

EXIT_CODES: tuple[tuple[type, int], ...] = (
    (Refused, EXIT_REFUSED),
    (BadInput, EXIT_BAD_INPUT),
    (EnvironmentProblem, EXIT_ENVIRONMENT),
)

# Top-level command -> the module that registers it. Only that module is imported and registered when the
# command is known, so a light command does not pay for building every other parser.
COMMAND_MODULES = {
    "plan": "plan",
    "infer-bead": "gate",
    "enforce-gate": "gate",
    "advance-phase": "gate",
    "phase": "gate",
    "run": "run",
    "hook": "hook",
    "setup": "setup",
}


def unknown_command(name: str) -> str:
    """One line for a subcommand of the full Clavain plugin's clavain-cli (bin/clavain-cli hands those to the
    next clavain-cli on PATH, and says the same when there is none)."""
    provided = list(COMMAND_MODULES)
    return (f"clavain-cli: '{name}' is not a command of this plugin, which provides {', '.join(provided[:-1])} and "
            f"{provided[-1]} (clavain-cli --help), and no other clavain-cli on PATH takes it")


def build_parser(command: "str | None" = None):
    """The argument parser; with a known ``command``, only that command's module is registered."""
    import argparse
    from importlib import import_module

    from clavain import __version__

    class _Parser(argparse.ArgumentParser):
        """argparse that raises instead of exiting, so usage errors follow the exit-code table."""

        def error(self, message: str) -> None:  # type: ignore[override]
            raise BadInput(f"{self.prog}: {message}", next_command=f"{self.prog} --help")

    if command in COMMAND_MODULES:
        names = [COMMAND_MODULES[command]]
    else:
        names = list(dict.fromkeys(COMMAND_MODULES.values()))
    parser = _Parser(prog="clavain-cli", description="Execute implementation plans in batches, rules held by code.",
                     epilog="exit codes: 0 done; 1 refused by a rule or gate; 2 bad input or usage; 3 environment problem")
    parser.add_argument("--version", action="version", version=f"clavain-cli {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in names:
        import_module(f"clavain.commands.{name}").register(sub)
    return parser


def fast_args(argv: list):
    """The parsed arguments of a well-formed command of the commands a run calls most, read without building
    any parser (``clavain.commands.args``); None when argparse must read ``argv``."""
    name = COMMAND_MODULES.get(argv[0]) if argv else None
    if name not in ("gate", "run"):
        return None
    module = __import__(f"clavain.commands.{name}", fromlist=["COMMANDS"])
    for depth in (1, 2):
        command = module.COMMANDS.get(tuple(argv[:depth]))
        if command is not None:
            from clavain.commands.args import Values, parse

            values = parse(command, argv[depth:])
            if values is None:
                return None
            return Values(command=argv[0], **({"run_command": argv[1]} if depth == 2 else {}),
                          handler=command.handler, **values)
    return None


def main(argv=None, *, ctx=None) -> int:
    """Run one command. Returns the exit code; never raises and never prints a traceback (but see CLAVAIN_DEBUG)."""
    from clavain.commands import Context

    ctx = ctx or Context.from_process()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] not in COMMAND_MODULES and not argv[0].startswith("-"):
            raise BadInput(unknown_command(argv[0]))
        if argv == ["--version"]:
            from clavain import __version__

            ctx.out(f"clavain-cli {__version__}")
            return EXIT_OK
        args = fast_args(argv)
        if args is None:
            parser = build_parser(argv[0] if argv else None)
            args = parser.parse_args(argv)
            if getattr(args, "handler", None) is None:
                parser.print_help(ctx.stdout)
                return EXIT_BAD_INPUT if not argv else EXIT_OK
        result = args.handler(args, ctx)
        return EXIT_OK if result is None else int(result)
    except ClavainError as exc:
        ctx.err(exc.render())
        for cls, code in EXIT_CODES:
            if isinstance(exc, cls):
                return code
        return EXIT_ENVIRONMENT
    except ModuleNotFoundError as exc:
        from clavain.bootstrap.envdir import missing_dependency_line

        ctx.err(missing_dependency_line(str(exc.name), sys.executable, ctx.env))
        return EXIT_ENVIRONMENT
    except SystemExit as exc:  # argparse --help / --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except KeyboardInterrupt:
        ctx.err("clavain-cli: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: one line, never a traceback unless asked
        if ctx.env.get("CLAVAIN_DEBUG"):
            import traceback

            traceback.print_exc(file=ctx.stderr)
        ctx.err(f"clavain-cli: internal error: {type(exc).__name__}: {exc} (set CLAVAIN_DEBUG=1 for a traceback)")
        return EXIT_ENVIRONMENT


def entry() -> None:
    """The process's entry (``bin/clavain-cli``). A command lives a fraction of a second and frees what it no
    longer needs by reference counting; the cyclic garbage collector, which would walk every object the imports
    made again and again, stays off until it exits, and what is left is frozen first, so the interpreter's own
    collections at exit skip it too (together about a bare interpreter start on a command that renders). It ends
    with ``os._exit`` once stdout and stderr are flushed, skipping the interpreter's teardown (about 2% of a
    command): every file a command writes is closed (or replaced) before it returns, locks go with the process,
    and nothing registers work for the exit."""
    import gc
    import os

    gc.disable()
    code = main()
    gc.freeze()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a reader that went away (``| head``): what it did not take is not needed
            pass
    os._exit(code if isinstance(code, int) else 1)
