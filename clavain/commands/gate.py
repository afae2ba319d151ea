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

from pathlib import Path
from typing import Optional


def register(sub) -> None:
    """Add this module's subcommands to the top-level subparsers."""
    p = sub.add_parser("infer-bead", help="print the bead id a plan belongs to (or an empty line)")
    p.add_argument("plan")
    p.set_defaults(handler=infer_bead)

    p = sub.add_parser("enforce-gate", help="exit 0 if the phase transition may happen, 1 if the gate blocks it")
    p.add_argument("bead", help="bead id, or '' for none (the plan is judged alone)")
    p.add_argument("target_phase")
    p.add_argument("artifact", nargs="?", default=None, help="the plan file (required for executing)")
    p.set_defaults(handler=enforce_gate)

    p = sub.add_parser("advance-phase", help="record a phase (refused whenever enforce-gate would block)")
    p.add_argument("bead", help="bead id, or '' for none (the phase is recorded against the plan file)")
    p.add_argument("phase")
    p.add_argument("reason", nargs="?", default="")
    p.add_argument("artifact", nargs="?", default=None)
    p.set_defaults(handler=advance_phase)

    p = sub.add_parser("phase", help="print the current phase of a bead or plan; --graph prints the transitions")
    p.add_argument("bead", nargs="?", default=None)
    p.add_argument("artifact", nargs="?", default=None)
    p.add_argument("--graph", action="store_true", help="print the phase transition table")
    p.set_defaults(handler=phase)


def _artifact(ctx, value: Optional[str]) -> Optional[Path]:
    return ctx.resolve(value) if value else None


def _warn(ctx, warnings: list[str]) -> None:
    for warning in warnings:
        ctx.err(f"warning: {warning}")


def infer_bead(args, ctx) -> None:
    from clavain.gate.gates import infer_bead as infer

    bead, warnings = infer(ctx.resolve(args.plan), ctx.env)
    _warn(ctx, warnings)
    ctx.out(bead)


def enforce_gate(args, ctx) -> None:
    from clavain.gate.gates import enforce_gate as enforce

    result = enforce(ctx.project, args.bead, args.target_phase, _artifact(ctx, args.artifact), ctx.env)
    _warn(ctx, result.warnings)


def advance_phase(args, ctx) -> None:
    from clavain.gate.gates import advance_phase as advance

    result = advance(ctx.project, args.bead, args.phase, args.reason, _artifact(ctx, args.artifact), ctx.env)
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
    found, warnings = current_phase(ctx.project, args.bead, _artifact(ctx, args.artifact), ctx.env)
    _warn(ctx, warnings)
    ctx.out(found)
