"""`clavain-cli hook <event>`: the Claude Code hooks through the CLI (same code as ``hooks/clavain-hook``).

Reads Claude Code's hook JSON on stdin; exit 0 allow, 2 block (reason on stderr), 3 fail open. See
``clavain.guard.hooks``. The PreToolUse hook blocks the model from running this command through Bash.
"""

from __future__ import annotations

# clavain.guard.hooks is standard library only: importing it here costs about 1 ms (``python -X importtime``:
# hook_cmd 1.0-1.1 ms in all, of a ~58 ms ``clavain-cli --help``), and only ``--help`` and ``hook`` build
# this parser. Taking the event names from it keeps the CLI and hooks.json's entry from drifting apart.
from clavain.guard.hooks import EVENTS


def register(sub) -> None:
    """Add ``hook`` and its three events to the top-level subparsers."""
    parser = sub.add_parser("hook", help="Claude Code hook entry points (run by Claude Code, not by hand)",
                            description="Read Claude Code's hook JSON on stdin and answer with the hook's exit code.")
    events = parser.add_subparsers(dest="event", metavar="EVENT", required=True)
    for event in EVENTS:
        child = events.add_parser(event, help=f"the {event} hook")
        child.set_defaults(handler=_run)


def _run(args, ctx) -> int:
    from clavain.guard.hooks import main

    return main([args.event], ctx.stdin, ctx.stdout, ctx.stderr, ctx.env, ctx.cwd_dir)
