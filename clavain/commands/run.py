"""`clavain-cli run ...`: the run state machine's commands. Each prints what to do next (``--json``: the
same as one JSON object) and raises on refusal; the work is done in ``clavain.run``."""

from __future__ import annotations

from clavain.commands.args import Arg, Command


def _positive_seconds(text: str) -> float:
    """argparse type for a timeout: a finite number of seconds above 0 (not -1, 0, nan or inf)."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0 (e.g. 300)")
    return value


def _usage(parser, ctx) -> int:
    parser.print_help(ctx.stdout)
    return 2


def _emit(args, ctx, outcome) -> None:
    if args.json:
        import json

        ctx.out(json.dumps(outcome.as_json(), ensure_ascii=False))
        return
    ctx.out(outcome.text.rstrip("\n"))
    if not outcome.text.rstrip().splitlines()[-1].startswith("next:"):
        ctx.out(f"next: {outcome.next}")


def _fn(where: str):
    """The function ``module.name`` of ``clavain.run`` (only that module is imported)."""
    module, name = where.split(".")
    return getattr(__import__(f"clavain.run.{module}", fromlist=[name]), name)


def _simple(name: str):
    def handler(args, ctx):
        _emit(args, ctx, _fn(name)(ctx.project, args.run_id, ctx.env))
    return handler


def _task(name: str):
    def handler(args, ctx):
        _emit(args, ctx, _fn(name)(ctx.project, args.run_id, args.task, ctx.env))
    return handler


def _with_reason(name: str):
    def handler(args, ctx):
        _emit(args, ctx, _fn(name)(ctx.project, args.run_id, args.task, args.reason, ctx.env))
    return handler


def _start(args, ctx):
    from clavain.run.engine import start

    _emit(args, ctx, start(ctx.project, ctx.resolve(args.plan), ctx.env, **_start_values(args)))


def _open(args, ctx):
    from clavain.run.opening import open_run

    _emit(args, ctx, open_run(ctx.project, _one_plan(args.plan, ctx), args.run_id, ctx.env,
                              given=_given(args), **_start_values(args)))


def _given(args) -> list[str]:
    """The start options written on the command line (a resumed run keeps its own, and says so)."""
    return [f"--{name.replace('_', '-')}" + ("" if value is True else f" {value}")
            for name, value in (("batch_size", args.batch_size), ("dispatch", args.dispatch),
                                ("alongside", args.alongside or None)) if value is not None]


def _start_values(args) -> dict:
    return {"batch_size": 3 if args.batch_size is None else args.batch_size, "dispatch": args.dispatch or "local",
            "alongside": args.alongside}


def _one_plan(words: list[str], ctx):
    """The plan named by the words (none: None). Several words are one path with spaces when that file
    exists, as an unquoted `$ARGUMENTS` splits it; otherwise one plan at a time."""
    from clavain.core.errors import BadInput

    if not words:
        return None
    if len(words) == 1 or ctx.resolve(" ".join(words)).exists():
        return ctx.resolve(" ".join(words))
    raise BadInput(f"one plan at a time: got {len(words)} ({', '.join(words)})",
                   next_command=f"clavain-cli run open {words[0]}")


def _status(args, ctx):
    from clavain.run.engine import status

    outcome = status(ctx.project, args.run_id, ctx.env, detail=bool(args.json or args.todos))
    if args.todos:
        import json

        ctx.out(json.dumps(outcome.data["todos"], ensure_ascii=False, indent=1))
        return
    _emit(args, ctx, outcome)


def _task_done(args, ctx):
    from clavain.run.steps import MAX_OUTPUT_BYTES, task_done

    # one character more than the limit is enough to know it is over (a character is one byte or more)
    stdin_text = ctx.stdin.read(MAX_OUTPUT_BYTES + 1) if args.output == "-" else None
    _emit(args, ctx, task_done(ctx.project, args.run_id, args.task, args.output, ctx.env,
                               stdin_text=stdin_text, cwd=ctx.cwd, unchanged=args.unchanged))


def _accept(args, ctx):
    from clavain.run.decisions import accept

    _emit(args, ctx, accept(ctx.project, args.run_id, args.reason, ctx.env))


def _verify(args, ctx):
    from clavain.run.steps import verify

    _emit(args, ctx, verify(ctx.project, args.run_id, args.task, ctx.env, timeout=args.timeout))


def _revise(args, ctx):
    from clavain.run.decisions import revise

    _emit(args, ctx, revise(ctx.project, args.run_id, args.tasks, args.note, ctx.env))


def _pause(args, ctx):
    from clavain.run.decisions import pause

    _emit(args, ctx, pause(ctx.project, args.run_id, args.reason, ctx.env))


def _diff(args, ctx):
    from clavain.run.engine import diff

    _emit(args, ctx, diff(ctx.project, args.run_id, args.task, ctx.env))


def _approve(args, ctx):
    from clavain.run.decisions import approve

    _emit(args, ctx, approve(ctx.project, args.run_id, ctx.env, note=args.note))


# ------------------------------------------------------------------------------------------ the commands

_COMMON = (Arg("--run", "the run to act on (default: the one active run)", dest="run_id", metavar="ID"),
           Arg("--json", "print one JSON object", flag=True))
_START = (Arg("--batch-size", "tasks per batch (default 3)", type=int),
          Arg("--dispatch", "who does the tasks (default local)", choices=("local", "external")),
          Arg("--alongside", "start beside another running run (only after the user has said to run both)",
              flag=True))


def _command(name: str, handler, help_text: str, *args: Arg) -> Command:
    return Command(name, handler, help_text, *_COMMON, *args)


def _commands() -> tuple[Command, ...]:
    return (
        _command("open", _open, "the first step: resume the plan's unfinished run or start one (gate included); "
                                "with no plan, resume the active run or list the plans to choose from",
                 Arg("plan", "the plan file (none: the active run, or a list of plans)", nargs="*"), *_START),
        _command("start", _start, "gate, pin the plan, create the run and print the first brief", Arg("plan"),
                 *_START),
        _command("status", _status, "where the run stands (verifies the journal)",
                 Arg("--todos", "print the tasks as a JSON list for the task-list tools", flag=True)),
        _command("next", _simple("engine.next_brief"), "the current batch's brief"),
        _command("task-start", _task("steps.task_start"), "start task N (in order)", Arg("task")),
        _command("retry", _task("decisions.retry"), "retry the failed task N (user's word)", Arg("task")),
        _command("rollback", _task("decisions.rollback"), "take the project back to where task N started (user's word)",
                 Arg("task")),
        _command("task-done", _task_done, "record task N done with its output file ('-' for stdin)", Arg("task"),
                 Arg("--output", required=True),
                 Arg("--unchanged", "why the files the task declares rightly stay unchanged (shown to the user)",
                     metavar="WHY")),
        _command("task-fail", _with_reason("steps.task_fail"), "record that task N failed (halts the run)", Arg("task"),
                 Arg("--reason", required=True)),
        _command("skip", _with_reason("decisions.skip"), "skip the failed task N (user's word)", Arg("task"),
                 Arg("--reason", required=True)),
        _command("accept", _accept, "finish without the missing Must-Haves (user's word)",
                 Arg("--reason", "why, in the user's words", required=True)),
        _command("verify", _verify, "run task N's <verify> entries", Arg("task"),
                 Arg("--timeout", "seconds per entry (default 300)", type=_positive_seconds, default=300.0)),
        _command("checkpoint", _simple("steps.checkpoint"), "close the batch and write its report"),
        _command("approve", _approve, "pass the checkpoint (needs the user's reply)", Arg("--note")),
        _command("revise", _revise, "reopen tasks of the batch with the user's note (needs the user's reply)",
                 Arg("tasks", nargs="+", metavar="TASK"), Arg("--note", "what the user asked to change", required=True)),
        _command("pause", _pause, "stop and wait for the user's answer to a question (read-only until then)",
                 Arg("--reason", "the question for the user", required=True)),
        _command("resume", _simple("decisions.resume"), "go on after the user answered (needs the user's reply)"),
        _command("diff", _diff, "show what changed: the current batch, or task N (read-only)", Arg("task", nargs="?")),
        _command("abort", _simple("decisions.abort"), "stop the run (user's word)"),
        _command("replan", _simple("decisions.replan"), "re-read a changed plan (user's word)"),
        _command("allow-external", _simple("decisions.allow_external"), "allow external dispatch (user's word)"),
        _command("must-haves", _simple("decisions.must_haves"), "check the plan's Must-Haves"),
        _command("finish", _simple("decisions.finish"), "write the final report"),
    )


# The commands, by the words that name them (``clavain.cli`` reads these without argparse when it can).
COMMANDS = {("run", c.name): c for c in _commands()}


def register(sub) -> None:
    """Add ``run`` and its subcommands to the top-level subparsers."""
    run = sub.add_parser("run", help="execute a plan in batches with checkpoints only the user can pass")
    inner = run.add_subparsers(dest="run_command", metavar="RUN_COMMAND", parser_class=type(run))
    run.set_defaults(handler=lambda args, ctx: _usage(run, ctx))
    for command in COMMANDS.values():
        command.add_to(inner)
