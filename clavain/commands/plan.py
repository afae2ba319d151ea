"""`clavain-cli plan validate <plan>` and `clavain-cli plan show <plan> [--json] [--batch-size N]`."""

from __future__ import annotations

import json


def register(sub) -> None:
    """Add this module's subcommands to the top-level subparsers."""
    plan = sub.add_parser("plan", help="read a plan: validate it or show its tasks and batches")
    plan.set_defaults(handler=_no_verb)
    verbs = plan.add_subparsers(dest="plan_command", metavar="VERB", parser_class=type(plan))
    validate = verbs.add_parser("validate", help="check a plan; print a one-line summary (exit 0) or the error (exit 2)")
    validate.add_argument("plan", help="the plan's markdown file")
    validate.add_argument("--batch-size", type=int, default=3, metavar="N", help="tasks per batch (default 3)")
    validate.set_defaults(handler=validate_cmd)
    show = verbs.add_parser("show", help="print the plan's tasks and batches")
    show.add_argument("plan", help="the plan's markdown file")
    show.add_argument("--json", action="store_true", help="one JSON object: title, bead, format, must_haves, tasks, batches")
    show.add_argument("--batch-size", type=int, default=3, metavar="N", help="tasks per batch (default 3)")
    show.set_defaults(handler=show_cmd)


def _no_verb(args, ctx) -> int:
    from clavain.core.errors import BadInput

    raise BadInput("clavain-cli plan: name a verb: validate or show", next_command="clavain-cli plan --help")


def _load(args, ctx):
    import clavain.plan.model  # noqa: F401  (a missing dependency fails here, before any work)
    from clavain.plan.batching import make_batches
    from clavain.plan.reader import read_plan

    plan = read_plan(ctx.resolve(args.plan))
    return plan, make_batches(plan, args.batch_size)


def validate_cmd(args, ctx) -> int:
    plan, batches = _load(args, ctx)
    for warning in plan.warnings:
        ctx.err(f"warning: {warning}")
    ctx.out(f"OK {args.plan}: {summary(plan, batches)}")
    return 0


def show_cmd(args, ctx) -> int:
    plan, batches = _load(args, ctx)
    for warning in plan.warnings:
        ctx.err(f"warning: {warning}")
    if args.json:
        data = plan.model_dump(mode="json", by_alias=True)
        data["path"] = args.plan
        data["warnings"] = [_as_typed(w, ctx.resolve(args.plan), args.plan) for w in plan.warnings]
        data["batch_size"] = args.batch_size
        data["batches"] = [batch.model_dump(mode="json") for batch in batches]
        ctx.out(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    ctx.out(render_human(plan, batches, args.plan))
    return 0


def _as_typed(warning: str, resolved, typed: str) -> str:
    """A warning about the plan (or a file beside it, such as its manifest) with the path as the user typed it."""
    from pathlib import PurePath

    if warning.startswith(f"{resolved}:"):
        return typed + warning[len(str(resolved)):]
    folder = f"{resolved.parent}/"
    if warning.startswith(folder):
        return str(PurePath(typed).parent / warning[len(folder):])
    return warning


def summary(plan, batches) -> str:
    done = sum(task.done for task in plan.tasks)
    parts = [f"{plan.format} plan", _count(len(plan.tasks), "task") + (f" ({done} done)" if done else ""),
             _count(len(batches), "batch", "batches"), _count(len(plan.checkpoints_after), "checkpoint")]
    parts.append(f"bead {plan.bead}" if plan.bead else "no bead")
    return ", ".join(parts)


def render_human(plan, batches, shown_path: str) -> str:
    done = {task.id for task in plan.tasks if task.done}
    users = {task.id for task in plan.tasks if task.ask_user is not None}
    stops = set(plan.checkpoints_after)
    lines = [plan.title, f"plan: {shown_path} ({plan.format})", f"bead: {plan.bead or '(none)'}",
             f"tasks: {len(plan.tasks)}" + (f" ({len(done)} already done)" if done else "")]
    for batch in batches:
        groups = []
        for group in batch.groups:
            names = [task_id + (" (done)" if task_id in done else "") + (" (for the user)" if task_id in users else "")
                     for task_id in group]
            groups.append(f"parallel({', '.join(names)})" if len(group) > 1 else names[0])
        tail = "  | checkpoint" if batch.tasks[-1] in stops else ""
        lines.append(f"batch {batch.index}: {', '.join(groups)}{tail}")
    return "\n".join(lines)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
