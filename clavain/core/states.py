"""What each run state allows: the one table the CLI's checks and the hooks' allowlist both read.

A run is in one of these states:

    running            the model works through the current batch
    awaiting_approval  the batch is at its checkpoint; only the user's reply moves it on
    halted             a task, a verify, the plan, the run's records or the Must-Haves failed; the user decides
    paused             the model stopped to ask the user a question (``run pause --reason``)
    finished, aborted  the run is over

For each state, ``ALLOWED`` lists the ``clavain-cli run`` commands that may act, and the user's reply each one
needs: ``None`` when the model may run it on its own, else the decision the reply must name (``REPLIES`` gives
the canonical reply for each decision; see ``clavain.run.evidence`` for what else counts). Commands that only read
(``READ_ONLY``) are allowed in every state and need nothing.

While a run waits for the user (``WAITING``), the model's tools are read-only: the hooks let through only Read,
Glob, Grep and the like (``READ_TOOLS``), ``clavain-cli run <command>`` with literal arguments, and a few simple
reading commands with literal arguments (``READ_COMMANDS``). Standard library only: the hooks import this.
"""

from __future__ import annotations

RUNNING, WAITING_APPROVAL, HALTED, PAUSED, FINISHED, ABORTED = (
    "running", "awaiting_approval", "halted", "paused", "finished", "aborted")
STATES = (RUNNING, WAITING_APPROVAL, HALTED, PAUSED, FINISHED, ABORTED)
ACTIVE = (RUNNING, WAITING_APPROVAL, HALTED, PAUSED)      # a run in these states has an active summary
WAITING = (WAITING_APPROVAL, HALTED, PAUSED)              # the run waits for the user: tools are read-only
OVER = (FINISHED, ABORTED)

# Commands that only read: allowed in every state, with no reply.
READ_ONLY = ("status", "next", "diff", "open")

# The user's decisions and the canonical reply that always counts for each ({batch}, {task}: the run's own).
REPLIES = {
    "approve": "approve batch {batch}",
    "retry": "retry task {task}",
    "skip": "skip task {task}",
    "revise": "revise task {task}: ...",
    "abort": "abort",
    "replan": "replan",
    "allow-external": "allow external",
    "accept": "accept",
    "rollback": "rollback task {task}",
    "resume": "resume",
    "alongside": "alongside",
}

# state -> {command: the decision its reply must name, or None for the model's own moves}
ALLOWED: dict[str, dict[str, str | None]] = {
    RUNNING: {"task-start": None, "task-done": None, "task-fail": None, "verify": None, "checkpoint": None,
              "pause": None, "must-haves": None, "finish": None, "abort": "abort",
              "allow-external": "allow-external"},
    WAITING_APPROVAL: {"approve": "approve", "revise": "revise", "rollback": "rollback", "abort": "abort",
                       "allow-external": "allow-external", "checkpoint": None},
    HALTED: {"retry": "retry", "skip": "skip", "revise": "revise", "rollback": "rollback", "replan": "replan",
             "accept": "accept", "abort": "abort"},
    PAUSED: {"resume": "resume", "abort": "abort"},
    FINISHED: {},
    ABORTED: {},
}

# While a run waits: the tools that pass (they only read, or keep the model's own task list), and the simple
# commands that may run with literal arguments besides ``clavain-cli run ...``.
READ_TOOLS = ("Read", "Glob", "Grep", "LS", "NotebookRead", "TodoRead", "TodoWrite", "TaskCreate", "TaskUpdate",
              "TaskList", "TaskGet", "BashOutput", "TaskOutput", "KillShell", "KillBash")
# ``Skill`` passes only for this plugin's own skills (``clavain:``): another skill's body may run commands.
READ_COMMANDS = ("cat", "ls", "head", "tail", "wc", "grep")


# The journal events each ``clavain-cli run`` command may record (besides ``ANY_COMMAND``'s): the witness attests a
# move of the journal only when every new entry is one the call's own command records.
ANY_COMMAND = ("halted", "plugin_updated")
EVENTS_BY_COMMAND = {
    "open": ("run_started",), "start": ("run_started",), "status": (), "next": (), "diff": (),
    "task-start": ("task_started",), "task-done": ("task_done",), "task-fail": (), "verify": ("verified",),
    "checkpoint": ("checkpoint",), "pause": ("paused",), "approve": ("approved", "changes_seen"),
    "revise": ("revised", "changes_seen"), "retry": ("retried", "changes_seen"), "skip": ("skipped", "changes_seen"),
    "resume": ("resumed", "changes_seen"), "abort": ("aborted",), "replan": ("replanned",),
    "allow-external": ("external_allowed",), "must-haves": ("must_haves",), "finish": ("must_haves", "finished"),
    "accept": ("accepted", "changes_seen"), "rollback": ("rolled_back", "changes_seen"),
}


def records(command: str, event: str) -> bool:
    """Whether ``clavain-cli run <command>`` may record ``event``."""
    return event in ANY_COMMAND or event in EVENTS_BY_COMMAND.get(command, ())


def allowed(state: str, command: str) -> bool:
    """Whether ``clavain-cli run <command>`` may act on a run in ``state``."""
    return command in READ_ONLY or command in ALLOWED.get(state, {})


def reply_for(command: str) -> str | None:
    """The decision whose reply ``command`` needs (the same in every state that allows it), or None."""
    for commands in ALLOWED.values():
        if command in commands and commands[command] is not None:
            return commands[command]
    return None


def commands_in(state: str) -> list[str]:
    """The commands that may act in ``state``, the model's own first."""
    table = ALLOWED.get(state, {})
    return [c for c, reply in table.items() if reply is None] + [c for c, reply in table.items() if reply]
