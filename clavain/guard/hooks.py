"""Claude Code hooks: PreToolUse, UserPromptSubmit, SessionStart. Standard library only, on every path.

Entry points: ``hooks/clavain-hook <event>`` (what ``hooks/hooks.json`` runs: ``python -S -I``, no argparse,
no CLI) and ``clavain-cli hook <event>`` (the same code through the CLI). Both read Claude Code's JSON
on stdin and call ``answer(event, text, env, cwd)``.

How a hook answers (one choice, used everywhere):

    exit 0  allow / done. SessionStart prints ``hookSpecificOutput.additionalContext`` JSON on stdout.
    exit 2  block the tool call. stderr (one paragraph) is the reason; Claude Code hands it to the model.
            Blocks are always exit 2, never a JSON ``permissionDecision``, so one code path decides.
    exit 3  environment problem (garbage on stdin, an unreadable run summary) where no run is known to be
            waiting or halted: the hook fails open. Claude Code treats every exit other than 0 and 2 as a
            non-blocking error and shows the one stderr line to the user.

Where a run is known to be awaiting approval or halted, a problem fails closed (exit 2) for the tools that
state blocks, except Bash: ``clavain-cli run approve`` and the user's other decisions go through Bash, so a
problem never locks them out. UserPromptSubmit never exits 2 (that would erase the user's prompt).

PreToolUse rules:
  always      Bash running ``clavain-cli hook ...`` (a forged prompt); Bash writing into a protected place,
              and Edit/Write/MultiEdit/NotebookEdit on a path in one (``clavain.guard.places``): the state folder
              ``.clavain/`` (only ``clavain-cli run`` writes it) and Claude Code's session transcripts
              (``~/.claude/projects/``, the payload's ``transcript_path``; approvals trust them).
  run active  EnterPlanMode (rule 6); creating, writing or moving the external opt-in flag
              ``.claude/clodex-toggle.flag`` (Bash or an edit tool; rule 5); Bash running an external agent
              (codex, dispatch.sh, interserve, oracle) unless every active run's dispatch is ``external`` (rule 5).
  waiting     Edit/Write/MultiEdit/NotebookEdit, the subagent tool (Agent, Task), external agents and Bash
  or halted   commands seen writing inside the project (``clavain.guard.bashscan``) while a run is
              ``awaiting_approval`` or ``halted`` (rules 3 and 4). ``clavain-cli run ...`` and reads pass.

Active runs are the files ``<project>/.clavain/execute-plan/active/<run-id>.json`` (one ``listdir``); with none the
hook decides without reading anything else. The project is found from ``CLAVAIN_PROJECT_DIR`` if set,
else from both the payload's ``cwd`` and ``CLAUDE_PROJECT_DIR``, the way ``clavain.paths.find_project`` does.
"""

from __future__ import annotations

import os

from clavain.guard.places import OPT_IN_FLAG, STATE, Places

# clavain.core.layout's names, repeated so that a hook call loads one module less (test_state_layout.py
# keeps them equal); the migration itself is imported at session start only
STATE_DIRNAME = ".clavain"
OWN_DIRNAME = "execute-plan"

WAITING = ("awaiting_approval", "halted")
EDIT_TOOLS = ("Edit", "Write", "MultiEdit", "NotebookEdit")
SUBAGENT_TOOLS = ("Agent", "Task")
PLAN_TOOLS = ("EnterPlanMode",)
EXTERNAL_AGENTS = ("codex", "dispatch.sh", "interserve", "oracle")
EVENTS = ("pre-tool-use", "user-prompt-submit", "session-start")

EXIT_ALLOW, EXIT_BLOCK, EXIT_PROBLEM = 0, 2, 3
# the user reads this (a UserPromptSubmit problem is shown to them): an unrecorded prompt cannot approve
UNRECORDED = ("Approving, retrying or skipping on this reply will be refused; please reply again. "
              "next: clavain-cli run status")


class Run:
    """What a hook knows of one active run, from its summary file (``state`` is None when unreadable)."""

    __slots__ = ("run_id", "state", "plan", "batch", "batches", "dispatch", "next", "problem", "project")

    def __init__(self, run_id: str, summary: dict | None, problem: str = "", project: str = "") -> None:
        summary = summary or {}
        self.run_id = run_id
        self.project = project
        self.state = summary.get("state") if isinstance(summary.get("state"), str) else None
        self.plan = str(summary.get("plan", "?"))
        self.batch = summary.get("batch", "?")
        self.batches = summary.get("batches", "?")
        self.dispatch = summary.get("dispatch", "local")
        self.next = str(summary.get("next") or f"clavain-cli run status --run {run_id}")
        self.problem = problem


def find_project(start: str) -> str:
    """``clavain.paths.find_project`` without pathlib: nearest folder holding ``.clavain/``, else ``.git``."""
    start = os.path.realpath(start)
    folders = [start]
    while os.path.dirname(folders[-1]) != folders[-1]:
        folders.append(os.path.dirname(folders[-1]))
    for folder in folders:
        if os.path.isdir(os.path.join(folder, STATE_DIRNAME)):
            return folder
    for folder in folders:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
    return start


def projects(payload: dict, env, cwd: str) -> list[str]:
    """The projects whose runs this hook call concerns (the model may have ``cd``-ed away from the project)."""
    forced = env.get("CLAVAIN_PROJECT_DIR")
    if forced:
        return [os.path.realpath(forced)]
    starts = [s for s in (payload.get("cwd"), env.get("CLAUDE_PROJECT_DIR")) if isinstance(s, str) and s]
    found: list[str] = []
    for start in [s for s in starts if os.path.isdir(s)] or [cwd]:
        project = find_project(start)
        if project not in found:
            found.append(project)
    return found


class _Scanner:
    """The settings ``_json.make_scanner`` reads (those of ``json.loads`` with no hooks)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str):
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


def loads(text: str):
    """``json.loads`` through the C scanner the json package itself uses, without importing the package:
    ``import json`` pulls in ``re``, ``enum`` and ``collections``, which cost more than the interpreter's own
    start. Raises ``ValueError`` for anything that is not one JSON document."""
    try:
        from _json import make_scanner

        stripped = text.strip(" \t\n\r")
        value, end = make_scanner(_Scanner())(stripped, 0)
        if end == len(stripped):
            return value
    except Exception:  # no C scanner, or bad input: its errors need json.decoder loaded
        pass
    import json  # the slow path says exactly what is wrong (a ValueError)

    return json.loads(text)


def _read_json(path: str):
    with open(path, encoding="utf-8") as handle:
        return loads(handle.read())


def active_runs(project: str) -> list[Run]:
    """Every run with a summary in ``<project>/.clavain/execute-plan/active/``; a corrupt one is kept with its problem."""
    folder = os.path.join(project, STATE_DIRNAME, OWN_DIRNAME, "active")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    runs = []
    for name in names:
        if not name.endswith(".json") or name.startswith("."):
            continue
        run_id = name[:-5]
        path = os.path.join(folder, name)
        try:
            summary = _read_json(path)
            if not isinstance(summary, dict) or summary.get("state") not in ("running", *WAITING):
                raise ValueError("no valid 'state'")
            runs.append(Run(run_id, summary, project=project))
        except (OSError, ValueError) as exc:
            runs.append(_fallback(project, run_id, f"{path}: unreadable run summary ({exc})"))
    return runs


def _fallback(project: str, run_id: str, problem: str) -> Run:
    """A corrupt summary: take the state from the run's own ``run.json`` when that names one."""
    try:
        state = _read_json(os.path.join(project, STATE_DIRNAME, OWN_DIRNAME, "runs", run_id, "run.json")).get("state")
    except (OSError, ValueError, AttributeError):
        state = None
    return Run(run_id, {"state": state} if state in WAITING else None, problem, project)


# ---------------------------------------------------------------- PreToolUse

def _block(text: str) -> tuple[int, str, str]:
    return EXIT_BLOCK, "", "clavain: " + text


def _waiting_message(run: Run, tool: str) -> str:
    if run.state == "halted":
        what = f"run {run.run_id} is halted (plan {run.plan}, batch {run.batch} of {run.batches})"
        todo = "Present the halt report to the user (clavain-cli run status) and wait for their decision"
    else:
        what = f"run {run.run_id} is awaiting the user's approval of batch {run.batch} of {run.batches} (plan {run.plan})"
        todo = "Present the batch report to the user (clavain-cli run status) and wait for their reply"
    return (f"{tool} is blocked: {what}. {todo}; do not change files or start subagents until the user answers.\n"
            f"next: {run.next}" + ("" if "(" in run.next else " (only after the user's word)"))


def _protected_path(tool_input: dict, places: Places) -> tuple[str, str]:
    """The path an edit tool would write and the protected place it is in, or ``("", "")``."""
    for key in ("file_path", "notebook_path", "path"):
        value = tool_input.get(key)
        place = places.tool_path(value) if isinstance(value, str) else ""
        if place:
            return value, place
    return "", ""


def _protected_message(what: str, place: str) -> str:
    """``what`` ("Write on PATH", "this command (WORD)") is blocked because it writes the protected ``place``."""
    if place == STATE:
        why = f"{STATE} holds run state that only `clavain-cli run ...` changes. Reading it is fine"
    elif place == OPT_IN_FLAG:
        why = (f"{OPT_IN_FLAG} opts this project in to external agents, and external dispatch needs the user's "
               "opt-in. Ask the user; while a run is active only they create that file")
    else:
        why = (f"{place} are written only by Claude Code, and approvals read them as the record of what the "
               "user said. Reading them is fine")
    return f"{what} is blocked: {why}.\nnext: clavain-cli run status"


def _external_agent(scan) -> str:
    if scan is None:
        return ""
    return next((name for name in scan.runs
                 if name in EXTERNAL_AGENTS or name.rsplit(".", 1)[0] in EXTERNAL_AGENTS), "")


def pre_tool_use(payload: dict, runs: list[Run], env) -> tuple[int, str, str]:
    tool = payload.get("tool_name")
    tool_input = payload.get("tool_input")
    tool_input = tool_input if isinstance(tool_input, dict) else {}
    waiting = [r for r in runs if r.state in WAITING]
    places = Places.for_hook(payload, env, (waiting or runs)[0].project if runs else "", opt_in_flag=bool(runs))
    scan = None
    if tool in EDIT_TOOLS:
        path, place = _protected_path(tool_input, places)
        if place:
            return _block(_protected_message(f"{tool} on {path}", place))
    command = str(tool_input.get("command", ""))
    # every forging route names a protected place or clavain; external agents and project writes matter
    # only while a run is active or waiting
    if tool == "Bash" and (waiting or places.might_name_protected(command) or (runs and any(
            name.split(".")[0] in command for name in EXTERNAL_AGENTS))):
        from clavain.guard.bashscan import scan as scan_bash

        scan = scan_bash(command, places)
        if scan.hook_call:
            return _block("running a clavain hook by hand is blocked: hooks are Claude Code's to run, and a prompt "
                          "recorded that way is not the user's. Ask the user and wait for their reply.\n"
                          "next: clavain-cli run status")
        if scan.protected == STATE:
            return _block(f"this command writes into {STATE} ({scan.writes_protected}): run state changes only "
                          f"through `clavain-cli run ...`. Reading {STATE} (cat, ls, the Read tool) is fine."
                          "\nnext: clavain-cli run status")
        if scan.protected:
            return _block(_protected_message(f"this command ({scan.writes_protected})", scan.protected))
    if not runs:
        return EXIT_ALLOW, "", ""
    run = runs[0]
    if tool in PLAN_TOOLS:
        return _block(f"plan mode is not used while run {run.run_id} executes {run.plan}: the plan already exists. "
                      f"If the scope changed, stop and ask the user.\nnext: {run.next}")
    agent = _external_agent(scan)
    writes = scan.writes_project if scan is not None else ""
    if waiting and (tool in EDIT_TOOLS or tool in SUBAGENT_TOOLS or agent or writes):
        return _block(_waiting_message(waiting[0], f"`{agent or writes}`" if agent or writes else str(tool)))
    local = [r for r in runs if r.dispatch != "external"]
    if agent and local:
        return _block(f"`{agent}` dispatches an external agent, and run {local[0].run_id} uses local subagents. Do "
                      "the task with the Agent tool. External dispatch needs the user's opt-in: a run started with "
                      "--dispatch external, then the user's word and clavain-cli run allow-external."
                      f"\nnext: {local[0].next}")
    unknown = [r for r in runs if r.problem]
    if unknown:
        return EXIT_PROBLEM, "", f"clavain: {unknown[0].problem}; allowing {tool}. next: {unknown[0].next}"
    return EXIT_ALLOW, "", ""


# ---------------------------------------------------------------- UserPromptSubmit

def prompt_record(payload: dict, now: float) -> dict:
    from datetime import datetime, timezone

    def text_or_none(key: str):
        value = payload.get(key)
        return value if isinstance(value, str) else None

    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"time": stamp, "epoch": now, "session_id": text_or_none("session_id"),
            "transcript_path": text_or_none("transcript_path"), "cwd": text_or_none("cwd"),
            "prompt": str(payload.get("prompt", ""))} | (
                {"prompt_id": payload["prompt_id"]} if isinstance(payload.get("prompt_id"), str) else {})


def user_prompt_submit(payload: dict, runs_by_project: list[tuple[str, list[Run]]]) -> tuple[int, str, str]:
    if not any(runs for _, runs in runs_by_project):
        return EXIT_ALLOW, "", ""
    if not isinstance(payload.get("prompt"), str):
        return EXIT_PROBLEM, "", f"clavain: hook input has no 'prompt'; nothing recorded. {UNRECORDED}"
    import time

    from clavain.core.files import append_line

    import json

    line = json.dumps(prompt_record(payload, time.time()), ensure_ascii=False, sort_keys=True)
    failed = []
    for project, runs in runs_by_project:
        for run in runs:
            folder = os.path.join(project, STATE_DIRNAME, OWN_DIRNAME, "runs", run.run_id)
            try:
                if not os.path.isdir(folder):
                    raise OSError(f"no run folder {folder}")
                append_line(os.path.join(folder, "prompts.jsonl"), line)
            except OSError as exc:
                failed.append(f"{run.run_id} ({exc})")
    if failed:
        return EXIT_PROBLEM, "", f"clavain: could not record the prompt for run {'; '.join(failed)}. {UNRECORDED}"
    return EXIT_ALLOW, "", ""


# ---------------------------------------------------------------- SessionStart

def session_start(runs: list[Run], notes: list[str] = ()) -> tuple[int, str, str]:
    """``notes``: what moving 0.1's state into ``.clavain/execute-plan/`` did (``clavain.core.layout``)."""
    if not runs and not notes:
        return EXIT_ALLOW, "", ""
    lines = list(notes)
    for run in runs:
        state = run.state or "in an unknown state (its summary is unreadable)"
        lines.append(f"clavain: run {run.run_id} of plan {run.plan} is {state}, batch {run.batch} of "
                     f"{run.batches}; resume it, do not start over. next: {run.next}")
    import json

    output = {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": "\n".join(lines)}}
    return EXIT_ALLOW, json.dumps(output), ""


# ---------------------------------------------------------------- dispatch

def answer(event: str, text: str, env, cwd: str) -> tuple[int, str, str]:
    """Decide one hook call: ``(exit code, stdout, stderr)``. Never raises for bad input or state."""
    if event not in EVENTS:
        return EXIT_PROBLEM, "", f"clavain: unknown hook event {event!r}; expected one of {', '.join(EVENTS)}"
    try:
        payload = loads(text)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        payload, problem = {}, f"hook input on stdin is not Claude Code's JSON ({exc})"
    else:
        problem = ""
    runs: list[Run] = []
    try:
        notes = []
        if event == "session-start" and not problem:  # where 0.1 kept its state: moved once, said once
            from clavain.core.layout import migrate_legacy_state, migration_note

            notes = [n for n in (migration_note(*migrate_legacy_state(p)) for p in projects(payload, env, cwd)) if n]
        found = [(project, active_runs(project)) for project in projects(payload, env, cwd)]
        runs = [run for _, project_runs in found for run in project_runs]
        if not problem:
            if event == "pre-tool-use":
                return pre_tool_use(payload, runs, env)
            if event == "user-prompt-submit":
                return user_prompt_submit(payload, found)
            return session_start(runs, notes)
    except Exception as exc:  # a bug or an odd filesystem: decide as for bad input, never a traceback
        problem = f"internal error {type(exc).__name__}: {exc}"
    waiting = [r for r in runs if r.state in WAITING]
    tool = payload.get("tool_name")
    if event == "pre-tool-use" and waiting and tool not in ("Bash", "Read"):
        return _block(f"{problem}, and run {waiting[0].run_id} is {waiting[0].state}: blocking to be safe. "
                      f"Present the report and wait for the user.\nnext: {waiting[0].next}")
    return EXIT_PROBLEM, "", f"clavain: {problem}; allowing it" + (f". next: {runs[0].next}" if runs else "")


def main(argv: list[str], stdin, stdout, stderr, env, cwd: str) -> int:
    """Run the hook named by ``argv[0]`` with the given streams; returns the exit code."""
    try:  # Claude Code writes UTF-8 whatever the locale says
        buffer = getattr(stdin, "buffer", None)
        text = buffer.read().decode("utf-8", "replace") if buffer is not None else stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        text = f"<unreadable: {exc}>"
    code, out, err = answer(argv[0] if argv else "", text, env, cwd)
    if out:
        stdout.write(out + "\n")
    if err:
        stderr.write(err.rstrip("\n") + "\n")
    return code
