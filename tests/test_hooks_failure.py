"""The hook's own failure: an exception inside the hook (``CLAVAIN_CRASH_AT=hook-<event>`` raises one) never
opens a waiting run, never locks the user out, and never erases a prompt.

- A tool call while a run waits for the user (awaiting approval, halted, paused) is blocked: the reason on one
  line, then the command to run next. Reading tools are let through, with one line.
- The allowlisted ``clavain-cli run ...`` forms always pass, silently: the user's way out of their own run.
- With no run at all, everything passes, with one line on stderr (Claude Code shows it; the call goes ahead).
- A run that is running counts as waiting: the hook failed before it could read which state the run is in.
- Every other event fails open (exit 3, one line): a UserPromptSubmit that exited 2 would erase the prompt.

Through the real entry script, as ``hooks/hooks.json`` runs it.
"""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from test_hooks import make_run, payload, run_entry, tool_call

CRASH = {"CLAVAIN_CRASH_AT": "hook-pre-tool-use", "CLAUDE_PLUGIN_ROOT": str(ROOT)}
REASON = "clavain: internal error RuntimeError: crash point CLAVAIN_CRASH_AT (tests only)"

# the calls a model makes: (tool, tool_input)
EDIT = ("Edit", {"file_path": "src/app.py", "old_string": "a", "new_string": "b"})
WRITE = ("Write", {"file_path": "notes.md", "content": "x"})
AGENT = ("Agent", {"description": "do it", "prompt": "change the code"})
NOTEBOOK = ("NotebookEdit", {"notebook_path": "n.ipynb", "new_source": "x"})
WRITE_BASH = ("Bash", {"command": "echo hi > out.txt"})
READ_BASH = ("Bash", {"command": "cat README"})
READ = ("Read", {"file_path": "README"})
GREP = ("Grep", {"pattern": "x"})
OWN = [
    ("Bash", {"command": "clavain-cli run approve"}),
    ("Bash", {"command": "clavain-cli run status --json"}),
    ("Bash", {"command": f"{ROOT}/bin/clavain-cli run abort"}),
    ("Bash", {"command": "clavain-cli run task-done 2 --output - <<'EOF'\nwhat the task did\nEOF"}),
]
WAITING = ("awaiting_approval", "halted", "paused")


def call(project, tool_and_input, env=CRASH):
    tool, tool_input = tool_and_input
    return run_entry("pre-tool-use", json.dumps(tool_call(project, tool, **tool_input)), project, env)


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n") if text.strip() else []


@pytest.mark.parametrize("state", WAITING + ("running",))
@pytest.mark.parametrize("what", [EDIT, WRITE, AGENT, NOTEBOOK, WRITE_BASH, READ_BASH],
                         ids=["Edit", "Write", "Agent", "NotebookEdit", "Bash write", "Bash read"])
def test_an_error_in_the_hook_blocks_while_a_run_is_active(project, state, what):
    make_run(project, state=state)
    r = call(project, what)
    assert r.returncode == 2, r.stderr
    reason, following = lines(r.stderr)
    assert reason.startswith(REASON) and reason.endswith("blocking to be safe. Present the report and wait for "
                                                         "the user.")
    assert following == "next: clavain-cli run status"


@pytest.mark.parametrize("state", WAITING + ("running",))
@pytest.mark.parametrize("what", OWN, ids=["approve", "status --json", "absolute path", "heredoc"])
def test_an_error_in_the_hook_never_stops_the_plugins_own_run_commands(project, state, what):
    make_run(project, state=state)
    r = call(project, what)
    assert (r.returncode, r.stderr) == (0, "")


@pytest.mark.parametrize("state", WAITING)
@pytest.mark.parametrize("what", [READ, GREP], ids=["Read", "Grep"])
def test_an_error_in_the_hook_lets_reading_tools_through_with_one_line(project, state, what):
    make_run(project, state=state)
    r = call(project, what)
    assert r.returncode == 3 and lines(r.stderr) == [f"{REASON}; allowing it"]


@pytest.mark.parametrize("what", [EDIT, WRITE, AGENT, WRITE_BASH, READ, OWN[0]],
                         ids=["Edit", "Write", "Agent", "Bash write", "Read", "clavain-cli run"])
def test_with_no_run_an_error_in_the_hook_allows_with_one_line(project, what):
    r = call(project, what)
    if what in OWN:
        assert (r.returncode, r.stderr) == (0, "")
    else:
        assert r.returncode == 3 and lines(r.stderr) == [f"{REASON}; allowing it"]


@pytest.mark.parametrize("event, data", [
    ("user-prompt-submit", {"prompt": "approve batch 1"}),
    ("post-tool-use", {"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "toolu_01",
                       "tool_response": {"stdout": ""}}),
    ("session-start", {"source": "startup"}),
    ("stop", {"stop_hook_active": False}),
])
@pytest.mark.parametrize("state", ["awaiting_approval", None])
def test_every_other_event_fails_open_with_one_line(project, event, data, state):
    if state:
        make_run(project, state=state)
    body = payload({"user-prompt-submit": "UserPromptSubmit", "post-tool-use": "PostToolUse",
                    "session-start": "SessionStart", "stop": "Stop"}[event], project, **data)
    r = run_entry(event, json.dumps(body), project, {**CRASH, "CLAVAIN_CRASH_AT": f"hook-{event}"})
    assert r.returncode == 3 and r.stdout == ""
    assert lines(r.stderr) == [f"{REASON}; allowing it"]


def test_the_crash_point_is_the_hooks_own(project):
    """Set for another event, or for the CLI's write steps, it changes nothing in this one."""
    make_run(project, state="awaiting_approval")
    for value in ("hook-post-tool-use", "journal-appended"):
        r = call(project, EDIT, {**CRASH, "CLAVAIN_CRASH_AT": value})
        assert r.returncode == 2 and "internal error" not in r.stderr and "awaiting the user's approval" in r.stderr
