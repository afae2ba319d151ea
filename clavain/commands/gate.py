"""Gate and phase subcommands, called as the execute-plan command's gate sequence calls them:

    clavain-cli infer-bead <plan>                              the bead id, or an empty line
    clavain-cli enforce-gate <bead> <target_phase> [artifact]  exit 0 pass, 1 blocked, 2 unknown phase / bad plan
    clavain-cli advance-phase <bead> <phase> [reason] [artifact]
    clavain-cli phase <bead> [artifact]                        the current phase, or an empty line
    clavain-cli phase --graph                                  the transition table

An empty bead id means no bead tracking: the gate judges the plan alone and the phase is recorded
against the plan file. Warnings go to stderr; refusals name the way out.
"""

from __future__ import annotations

from clavain.commands.args import Arg, Command


def infer_bead(args, ctx) -> None:
    from clavain.plan.bead import infer_bead as infer

    bead, warnings = infer(ctx.resolve_text(args.plan), ctx.env)
    _warn(ctx, warnings)
    ctx.out(bead)


def enforce_gate(args, ctx) -> None:
    from clavain.gate.gates import enforce_gate as enforce

    result = enforce(ctx.project_dir, args.bead, args.target_phase, _artifact(ctx, args.artifact), ctx.env)
    _warn(ctx, result.warnings)


def advance_phase(args, ctx) -> None:
    from clavain.gate.gates import advance_phase as advance

    result = advance(ctx.project_dir, args.bead, args.phase, args.reason, _artifact(ctx, args.artifact), ctx.env)
    _warn(ctx, result.warnings)
    ctx.out(f"{result.gate.subject}: {result.previous or '(none)'} -> {result.phase}")


def phase(args, ctx) -> None:
    from clavain.core.errors import BadInput
    from clavain.gate.gates import current_phase, render_graph

    if args.graph:
        if args.bead is not None:
            raise BadInput("phase --graph takes no bead", next_command="clavain-cli phase --graph")
        ctx.out(render_graph())
        return
    if args.bead is None:
        raise BadInput("phase needs a bead id (or '' and a plan file), or --graph",
                       next_command="clavain-cli phase <bead> [plan.md]")
    found, warnings = current_phase(ctx.project_dir, args.bead, _artifact(ctx, args.artifact), ctx.env)
    _warn(ctx, warnings)
    ctx.out(found)


# The commands, by the words that name them (``clavain.cli`` reads these without argparse when it can).
COMMANDS = {(c.name,): c for c in (
    Command("infer-bead", infer_bead, "print the bead id a plan belongs to (or an empty line)", Arg("plan")),
    Command("enforce-gate", enforce_gate, "exit 0 if the phase transition may happen, 1 if the gate blocks it",
            Arg("bead", "bead id, or '' for none (the plan is judged alone)"), Arg("target_phase"),
            Arg("artifact", "the plan file (required for executing)", nargs="?")),
    Command("advance-phase", advance_phase, "record a phase (refused whenever enforce-gate would block)",
            Arg("bead", "bead id, or '' for none (the phase is recorded against the plan file)"), Arg("phase"),
            Arg("reason", nargs="?", default=""), Arg("artifact", nargs="?")),
    Command("phase", phase, "print the current phase of a bead or plan; --graph prints the transitions",
            Arg("bead", nargs="?"), Arg("artifact", nargs="?"),
            Arg("--graph", "print the phase transition table", flag=True)),
)}


def register(sub) -> None:
    """Add this module's subcommands to the top-level subparsers."""
    for command in COMMANDS.values():
        command.add_to(sub)


def _artifact(ctx, value: "str | None") -> "str | None":
    return ctx.resolve_text(value) if value else None


def _warn(ctx, warnings: list[str]) -> None:
    for warning in warnings:
        ctx.err(f"warning: {warning}")
