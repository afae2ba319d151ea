"""Claude Code hooks: PreToolUse, PostToolUse (and PostToolUseFailure), UserPromptSubmit, SessionStart and Stop.
Standard library only, on every path.

Entry points: ``hooks/clavain-hook <event>`` (what ``hooks/hooks.json`` runs: ``python -S -I``, no argparse,
no CLI) and ``clavain-cli hook <event>`` (the same code through the CLI). Both read Claude Code's JSON on stdin
and call ``answer(event, text, env, cwd)``.

How a hook answers (one choice, used everywhere):

    exit 0  allow / done. SessionStart prints ``hookSpecificOutput.additionalContext`` JSON on stdout.
    exit 2  block the tool call (or, for Stop, ask the model to go on). stderr (one paragraph) is the reason;
            Claude Code hands it to the model. Blocks are always exit 2, never a JSON ``permissionDecision``.
    exit 3  environment problem where no run waits for the user: the hook fails open, with one stderr line
            (Claude Code treats every exit other than 0 and 2 as a non-blocking error and shows the line).

PreToolUse, in this order:

1. A plain call of this plugin's own ``clavain-cli run <command>`` (``clavain.guard.allow.run_command``) passes,
   in every state and every failure mode: nothing can lock the user out of their own run. (The CLI then
   refuses what the run's state does not allow: ``clavain.core.states``.)
2. Always, run or no run: edits and Bash writes into a protected place (``clavain.guard.places``: this plugin's
   state, Claude Code's transcripts, the witness records) and Bash running ``clavain-cli hook ...`` by hand.
   While a run is active also: Claude Code's settings, ``.clavain/config.yaml``, the plugin's own files and the
   external opt-in flag.
3. While a run waits for the user (awaiting approval, halted, paused, or not to be trusted as it stands:
   ``clavain.guard.runs``), the tools are read-only, by allowlist: ``clavain.core.states.READ_TOOLS`` and the
   simple reading commands of ``clavain.guard.allow.read_command``. Everything else is blocked with what to do.
4. While a run is running: EnterPlanMode (rule 6) and external agents unless every active run opted in (rule 5).

Every Bash call while a run is active is witnessed (``clavain.guard.witnessing``): PreToolUse notes the journal
head, PostToolUse / PostToolUseFailure compare. An error inside the hook while a run waits blocks (fail closed),
except for the allowlisted ``clavain-cli run`` forms; with no run waiting it allows, with one line on stderr.
UserPromptSubmit never exits 2 (that would erase the user's prompt).

The project is found from ``CLAVAIN_PROJECT_DIR`` if set, else from both the payload's ``cwd`` and
``CLAUDE_PROJECT_DIR``, the way ``clavain.core.paths.find_project`` does.
"""

from __future__ import annotations

import os

from clavain.core.chain import loads
from clavain.core.layout import STATE_DIRNAME
from clavain.core.states import HALTED, PAUSED, READ_COMMANDS, READ_TOOLS, RUNNING, WAITING_APPROVAL
from clavain.guard.runs import Run, active_runs

# Only PreToolUse reads tool calls: it alone imports ``clavain.guard.allow``, ``agents`` and ``places`` (in the
# functions that use them); the other events do without them.
TYPE_CHECKING = False   # not ``typing``'s
if TYPE_CHECKING:
    from clavain.guard.places import Places

EDIT_TOOLS = ("Edit", "Write", "MultiEdit", "NotebookEdit")
PLAN_TOOLS = ("EnterPlanMode",)
EVENTS = ("pre-tool-use", "post-tool-use", "user-prompt-submit", "session-start", "stop")
BATCH_EVENTS = ("task_started", "verified", "task_done", "retried", "skipped", "revised", "resumed")

EXIT_ALLOW, EXIT_BLOCK, EXIT_PROBLEM = 0, 2, 3
# the user reads this (a UserPromptSubmit problem is shown to them): an unrecorded prompt cannot approve
UNRECORDED = ("Approving, retrying or skipping on this reply will be refused; please reply again. "
              "next: clavain-cli run status")


def find_project(start: str) -> str:
    """``clavain.core.paths.find_project_dir``: nearest folder holding ``.clavain/``, else ``.git`` (without pathlib)."""
    from clavain.core.paths import find_project_dir

    return find_project_dir(start)


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


def _block(text: str) -> tuple[int, str, str]:
    return EXIT_BLOCK, "", "clavain: " + text


def _now() -> float:
    import time

    return time.time()


# ---------------------------------------------------------------- PreToolUse

_WAIT_WHAT = {WAITING_APPROVAL: ("is awaiting the user's approval of batch {batch} of {batches}",
                                 "Present the batch report to the user and wait for their reply"),
              HALTED: ("is halted in batch {batch} of {batches}",
                       "Present the halt report to the user and wait for their decision"),
              PAUSED: ("is paused with a question for the user in batch {batch} of {batches}",
                       "Ask the user the question and wait for their answer")}


def _waiting_message(run: Run, what: str) -> str:
    if run.problem:
        return (f"{what} is blocked: run {run.run_id} cannot be taken as it stands ({run.problem}). Until a "
                f"`clavain-cli run` command repairs or halts it, only reading tools and `clavain-cli run ...` pass; "
                f"do not change files or start subagents.\nnext: clavain-cli run status --run {run.run_id}")
    state, todo = _WAIT_WHAT.get(run.state or "", ("waits for the user", "Present the report and wait"))
    state = state.format(batch=run.batch, batches=run.batches)
    return (f"{what} is blocked: run {run.run_id} {state} (plan {run.plan}). While a run waits, only reading tools "
            f"(Read, Glob, Grep; cat, ls, head, tail, wc, grep) and `clavain-cli run ...` pass. {todo}; do not "
            f"change files or start subagents until the user answers.\n"
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
    from clavain.guard.places import CLAUDE_OWN, CONFIG, OPT_IN_FLAG, PLUGIN, SETTINGS, SHELL_STATE, STATE, WITNESS

    if place == STATE:
        why = f"{STATE} holds run state that only `clavain-cli run ...` changes. Reading it is fine"
    elif place == OPT_IN_FLAG:
        why = (f"{OPT_IN_FLAG} opts this project in to external agents, and external dispatch needs the user's "
               "opt-in. Ask the user; while a run is active only they create that file")
    elif place in (SETTINGS, CONFIG, CLAUDE_OWN):
        why = (f"{place} decide how the run is guarded (hooks, sandbox, approvals); while a run is active only the "
               "user changes them")
    elif place == PLUGIN:
        why = "the plugin's hooks and code hold the run's rules; while a run is active nobody changes them"
    elif place == WITNESS:
        why = "the hooks keep there what they saw of the run and of the sandbox; only they write it"
    elif place == SHELL_STATE:
        why = (f"{place} is sourced before every Bash command and only Claude Code writes it: a function put there "
               "would stand in for the commands the run's rules rely on")
    else:
        why = (f"{place} are written only by Claude Code, and approvals read them as the record of what the "
               "user said. Reading them is fine")
    return f"{what} is blocked: {why}.\nnext: clavain-cli run status"


def _external_agent(scan) -> str:
    from clavain.guard.agents import is_agent

    if scan is None:
        return ""
    return next((name for name in scan.runs if is_agent(name)), "")


def _external_tool(tool) -> str:
    """An MCP tool served by an external agent (``mcp__codex__codex``): the agent's name, or ""."""
    if not isinstance(tool, str) or not tool.startswith("mcp__"):
        return ""
    from clavain.guard.agents import EXTERNAL_AGENTS

    parts = tool.lower().split("__")[1:]
    return next((agent for agent in EXTERNAL_AGENTS for part in parts if agent.split(".")[0] in part), "")


class _Plain:
    """What the Bash scan would say of a plain line (``clavain.guard.allow.words``) that runs a reading command
    or an external agent by name: it runs that one program and writes nothing the hook can see. Settled without
    the scan (and its ``re`` and ``shlex``), the common case of every Bash call."""

    def __init__(self, program: str) -> None:
        self.runs = [program]


def _plain(command: str):
    from clavain.guard import allow
    from clavain.guard.agents import is_agent

    found = allow.words(command.strip())
    if not found:
        return None
    program = found[0].rsplit("/", 1)[-1]
    if found[0] in READ_COMMANDS or "/" not in found[0] and is_agent(program):
        return _Plain(program)
    return None


def _bash_guard(command: str, places: Places, runs: list[Run]):
    """The always-rules for one Bash line: ``(block or None, scan or None)``."""
    from clavain.guard.agents import mentioned
    from clavain.guard.places import STATE

    active = bool(runs)
    named = places.might_name_protected(command)
    if not (named or active and mentioned(command)):
        return None, None
    plain = _plain(command)
    if plain is not None:
        return None, plain
    from clavain.guard.bashscan import scan as scan_bash

    scan = scan_bash(command, places)
    if scan.undecided:
        if named:
            return _block(f"this command is {len(command) // 1024} KB long, too long to read in the hook's time, and "
                          "it names a protected place (run state, transcripts or settings). Split it, or put the "
                          "long text in a file first.\nnext: clavain-cli run status"), scan
        return None, scan
    if scan.hook_call:
        return _block("running a clavain hook by hand is blocked: hooks are Claude Code's to run, and a prompt "
                      "recorded that way is not the user's. Ask the user and wait for their reply.\n"
                      "next: clavain-cli run status"), scan
    if scan.protected == STATE:
        return _block(f"this command writes into {STATE} ({scan.writes_protected}): run state changes only "
                      f"through `clavain-cli run ...`. Reading {STATE} (cat, ls, the Read tool) is fine."
                      "\nnext: clavain-cli run status"), scan
    if scan.protected:
        return _block(_protected_message(f"this command ({scan.writes_protected})", scan.protected)), scan
    return None, scan


def pre_tool_use(payload: dict, runs: list[Run], env) -> tuple[int, str, str]:
    from clavain.guard.agents import mentioned
    from clavain.guard.places import Places

    tool = payload.get("tool_name")
    tool_input = payload.get("tool_input")
    tool_input = tool_input if isinstance(tool_input, dict) else {}
    command = str(tool_input.get("command", "")) if tool == "Bash" else ""
    waiting = [r for r in runs if r.waiting]
    places = Places.for_hook(payload, env, (waiting or runs)[0].project if runs else "", opt_in_flag=bool(runs))
    if tool in EDIT_TOOLS:
        path, place = _protected_path(tool_input, places)
        if place:
            return _block(_protected_message(f"{tool} on {path}", place))
    scan = None
    if tool == "Bash":
        blocked, scan = _bash_guard(command, places, runs)
        if blocked:
            return blocked
    if not runs:
        return EXIT_ALLOW, "", ""
    if waiting:
        if _reading(tool, tool_input, command, env, waiting[0].project):
            return _witnessed(payload, runs, env, command)
        what = f"`{command.strip()[:60]}`" if tool == "Bash" else str(tool)
        return _block(_waiting_message(waiting[0], what))
    run = runs[0]
    if tool in PLAN_TOOLS:
        return _block(f"plan mode is not used while run {run.run_id} executes {run.plan}: the plan already exists. "
                      f"If the scope changed, stop and ask the user (clavain-cli run pause --reason '...').\n"
                      f"next: {run.next}")
    agent = _external_agent(scan) or _external_tool(tool)
    if not agent and tool == "Bash" and ("$'" in command or "$" in command and "=" in command):
        from clavain.guard.bashscan import expanded

        spelled = expanded(command)
        if spelled != command and mentioned(spelled):
            from clavain.guard.bashscan import scan as scan_bash

            agent = _external_agent(scan_bash(spelled, places))
    local = [r for r in runs if r.dispatch != "external"]
    if agent and local:
        return _block(f"`{agent}` dispatches an external agent, and run {local[0].run_id} uses local subagents. Do "
                      "the task with the Agent tool. External dispatch needs the user's opt-in: a run started with "
                      "--dispatch external, then the user's word and clavain-cli run allow-external."
                      f"\nnext: {local[0].next}")
    return _witnessed(payload, runs, env, command) if tool == "Bash" else (EXIT_ALLOW, "", "")


def _reading(tool, tool_input: dict, command: str, env, project: str) -> bool:
    """While a run waits: a reading tool; the plugin's own skill (another skill's body may run commands); a plain
    reading command that runs the system's program of that name."""
    if tool == "Skill":
        return str(tool_input.get("skill", "")).startswith("clavain:")
    if tool in READ_TOOLS:
        return True
    if tool != "Bash":
        return False
    from clavain.guard import allow

    untrusted = (project, str(env.get("HOME") or ""), "/tmp", "/var/tmp", "/dev/shm", str(env.get("TMPDIR") or ""))
    return allow.read_command(command, str(env.get("PATH") or ""), untrusted)


def _witnessed(payload: dict, runs: list[Run], env, command: str) -> tuple[int, str, str]:
    """Allow, after noting the journal head of every active run for a Bash call (``clavain.guard.witnessing``)."""
    if payload.get("tool_name") == "Bash" and runs:
        from clavain.guard import witnessing

        tool_use_id = payload.get("tool_use_id") if isinstance(payload.get("tool_use_id"), str) else ""
        now = _now()
        for run in runs:
            witnessing.before(run, tool_use_id, command, env, now)
    return EXIT_ALLOW, "", ""


def _own_run_command(payload: dict, env) -> bool:
    """Step 1 of PreToolUse: the allowlisted ``clavain-cli run`` form. Never raises."""
    try:
        from clavain.guard import allow

        tool_input = payload.get("tool_input")
        return payload.get("tool_name") == "Bash" and isinstance(tool_input, dict) and \
            allow.run_command(tool_input.get("command"), str(env.get("CLAUDE_PLUGIN_ROOT") or ""),
                              str(env.get("PATH") or "")) is not None
    except Exception:
        return False


# ---------------------------------------------------------------- PostToolUse (and PostToolUseFailure)

def post_tool_use(payload: dict, runs: list[Run], env) -> tuple[int, str, str]:
    if payload.get("tool_name") != "Bash" or not runs:
        return EXIT_ALLOW, "", ""
    from clavain.guard import witnessing

    tool_input = payload.get("tool_input")
    command = str(tool_input.get("command", "")) if isinstance(tool_input, dict) else ""
    now = _now()
    for run in runs:
        witnessing.after_call(run, payload, command, env, now)
    return EXIT_ALLOW, "", ""


# ---------------------------------------------------------------- UserPromptSubmit

def prompt_record(payload: dict, now: float) -> dict:
    import time

    def text_or_none(key: str):
        value = payload.get(key)
        return value if isinstance(value, str) else None

    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    return {"time": stamp, "epoch": now, "session_id": text_or_none("session_id"),
            "transcript_path": text_or_none("transcript_path"), "cwd": text_or_none("cwd"),
            "prompt": str(payload.get("prompt", ""))} | (
                {"prompt_id": payload["prompt_id"]} if isinstance(payload.get("prompt_id"), str) else {})


def append_record(path: str, line: str) -> None:
    """Append one prompt record to ``prompts.jsonl`` (which must be in an existing folder).

    One ``write`` with ``O_APPEND``: a record is never interleaved with another writer's, and after a torn line
    (a writer killed mid-line) it starts on a line of its own, as ``clavain.core.files.append_line`` does.

    No fsync, by decision. What the record proves (this hook saw the user submit these words, at this time, in
    this session) is the same with or without it; an fsync only decides whether the line outlives a power cut
    or a kernel crash in the few seconds before the kernel writes it back. Such a crash can lose a reply only:
    every decision copies the reply it rests on into its own journal entry (``evidence``), and the journal is
    fsync'd, so no recorded decision ever loses its evidence. A lost reply is what a failed record already is
    (the user is asked to reply again; when the crash also took lines the run had counted as there when it came
    to wait, its ``prompts_offset``, replies count again once the file has grown past that point). The fsync, for its part, waits for the user's disk on every prompt: a
    fraction of a millisecond on a fast one, milliseconds on others, where a hook's whole budget is a few
    milliseconds. Ext4 (ordered data), XFS and btrfs never show a crashed append as garbage: the line is
    there, or torn (the reader counts it as unreadable), or gone.

    Only a file of the run's own is appended to: a regular file, not a symbolic link (``O_NOFOLLOW``) and with no
    other name (one link). The run folder is writable to the model's commands, the hook is not sandboxed: a
    ``prompts.jsonl`` linked to a file the model cannot write (the witness record) would have the hook write
    there for it. Anything else is refused (``OSError``): the prompt is not recorded, and the user is told."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    try:
        found = os.fstat(fd)
        if found.st_mode & 0o170000 != 0o100000 or found.st_nlink != 1:
            raise OSError(f"{path} is not a file of the run's own (a link or a special file)")
        size = found.st_size
        lead = "\n" if size and os.pread(fd, 1, size - 1) != b"\n" else ""
        os.write(fd, (lead + line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def user_prompt_submit(payload: dict, runs: list[Run]) -> tuple[int, str, str]:
    if not runs:
        return EXIT_ALLOW, "", ""
    if not isinstance(payload.get("prompt"), str):
        return EXIT_PROBLEM, "", f"clavain: hook input has no 'prompt'; nothing recorded. {UNRECORDED}"
    from clavain.core.chain import canonical

    line = canonical(prompt_record(payload, _now()))
    failed = []
    for run in runs:
        try:
            if not os.path.isdir(run.folder()):
                raise OSError(f"no run folder {run.folder()}")
            append_record(os.path.join(run.folder(), "prompts.jsonl"), line)
        except OSError as exc:
            failed.append(f"{run.run_id} ({exc})")
    if failed:
        return EXIT_PROBLEM, "", f"clavain: could not record the prompt for run {'; '.join(failed)}. {UNRECORDED}"
    return EXIT_ALLOW, "", ""


# ---------------------------------------------------------------- SessionStart

def session_start(payload: dict, runs: list[Run], env, notes: list[str] = ()) -> tuple[int, str, str]:
    """``notes``: what moving 0.1's state into ``.clavain/execute-plan/`` did (``clavain.core.layout``)."""
    if not runs and not notes:
        return EXIT_ALLOW, "", ""
    from clavain.core import witness

    lines = list(notes)
    now = _now()
    levels: dict[str, object] = {}
    for run in runs:
        if run.project not in levels:  # once per project and session: bwrap may start, once (then remembered)
            try:
                from clavain.core.sandbox import protection_level

                levels[run.project] = protection_level(run.project, env)
            except Exception as exc:
                levels[run.project] = None
                lines.append(f"clavain: the protection level could not be read ({type(exc).__name__}: {exc})")
        protection = levels[run.project]
        try:
            with witness.Locked(env, run.project, run.run_id) as record:
                if record is not None:
                    record["level"] = getattr(protection, "level", None)
                    if run.waiting and not run.problem:
                        from clavain.guard.witnessing import note_session

                        note_session(record, payload, env, run.head, now, keep=True)
        except Exception:
            pass
        state = run.state or "in an unknown state"
        lines.append(f"clavain: run {run.run_id} of plan {run.plan} is {state}, batch {run.batch} of "
                     f"{run.batches}" + (f" ({run.problem})" if run.problem else "")
                     + f"; resume it, do not start over. next: {run.next}")
    lines += [f"clavain: {protection.line()}" for protection in levels.values() if protection is not None]
    from clavain.core.chain import canonical

    output = {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": "\n".join(lines)}}
    return EXIT_ALLOW, canonical(output), ""


# ---------------------------------------------------------------- Stop

def stop(payload: dict, runs: list[Run]) -> tuple[int, str, str]:
    """The model ends its turn: a batch left half done with no checkpoint, halt or pause is asked to go on once."""
    if payload.get("stop_hook_active") is True:
        return EXIT_ALLOW, "", ""
    for run in runs:
        if run.state != RUNNING or run.problem:
            continue
        from clavain.core import chain
        from clavain.guard.runs import journal_line

        line = journal_line(run.journal())
        entry = chain.check_alone(line) if line else None
        if entry is not None and entry.get("event") in BATCH_EVENTS:
            return _block(f"run {run.run_id} is in the middle of batch {run.batch} of {run.batches}: a task was "
                          f"started and the batch has no checkpoint yet. Go on with the batch (next: {run.next}); "
                          "or, if you need the user, record your question with clavain-cli run pause --reason "
                          "'<question>' and then stop.")
    return EXIT_ALLOW, "", ""


# ---------------------------------------------------------------- dispatch

def _active_dirs(payload: dict, env, cwd: str) -> bool:
    """Whether any project this call concerns has an active-run summary (cheap; for the failure path)."""
    try:
        for project in projects(payload, env, cwd):
            folder = os.path.join(project, STATE_DIRNAME, "execute-plan", "active")
            if os.path.isdir(folder) and any(n.endswith(".json") for n in os.listdir(folder)):
                return True
    except Exception:
        return True
    return False


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
    ours = event == "pre-tool-use" and not problem and _own_run_command(payload, env)
    runs: list[Run] | None = None
    try:
        if env.get("CLAVAIN_CRASH_AT") == f"hook-{event}":
            raise RuntimeError("crash point CLAVAIN_CRASH_AT (tests only)")
        notes: list[str] = []
        concerned = projects(payload, env, cwd)
        if event == "session-start" and not problem:  # where 0.1 kept its state: moved once, said once
            from clavain.core.layout import migrate_legacy_state, migration_note

            notes = [n for n in (migration_note(*migrate_legacy_state(p)) for p in concerned) if n]
        runs = [run for project in concerned for run in active_runs(project, env)]
        if ours:
            return _witnessed(payload, runs, env, str(payload["tool_input"].get("command", "")))
        if not problem:
            if event == "pre-tool-use":
                return pre_tool_use(payload, runs, env)
            if event == "post-tool-use":
                return post_tool_use(payload, runs, env)
            if event == "user-prompt-submit":
                return user_prompt_submit(payload, runs)
            if event == "stop":
                return stop(payload, runs)
            return session_start(payload, runs, env, notes)
    except Exception as exc:  # a bug or an odd filesystem: decide as for bad input, never a traceback
        problem = f"internal error {type(exc).__name__}: {exc}"
    if ours:
        return EXIT_ALLOW, "", ""
    waiting = [r for r in runs if r.waiting] if runs is not None else []
    unknown = runs is None and _active_dirs(payload, env, cwd)
    tool = payload.get("tool_name")
    if event == "pre-tool-use" and (waiting or unknown) and tool not in READ_TOOLS:
        name = f"run {waiting[0].run_id} is {waiting[0].state or 'not to be trusted as it stands'}" if waiting \
            else "a run is active"
        return _block(f"{problem}, and {name}: blocking to be safe. Present the report and wait for the user.\n"
                      f"next: {waiting[0].next if waiting else 'clavain-cli run status'}")
    tail = f". next: {runs[0].next}" if runs else ""
    if event == "user-prompt-submit" and runs:
        return EXIT_PROBLEM, "", f"clavain: {problem}; the prompt was not recorded. {UNRECORDED}"
    return EXIT_PROBLEM, "", f"clavain: {problem}; allowing it{tail}"


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


def run(argv: list[str]) -> None:
    """``hooks/clavain-hook``'s Python: ``main`` on this process's own streams, then the process ends at once with
    its exit code, stdout and stderr flushed (``os._exit``). Nothing is left for the interpreter's teardown to
    do: every file the hook wrote is closed by then and no exit handler is registered, while the teardown
    itself (clearing every module, collecting) costs about a seventh of a bare interpreter start, on every tool
    call. ``clavain-cli hook`` calls ``main`` and ends as the CLI does."""
    import sys

    code = main(argv, sys.stdin, sys.stdout, sys.stderr, os.environ, os.getcwd())
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # Claude Code stopped reading: nothing more can reach it
        pass
    os._exit(code)
