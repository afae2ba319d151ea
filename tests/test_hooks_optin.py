"""Rule 5 cannot be self-granted: while a run of the project is active, the model may not create, write or
move the external opt-in flag ``.claude/clodex-toggle.flag`` (Bash or an edit tool). With no run active it
may: Clavain's own interserve toggle creates the flag through the model at the user's request."""

from __future__ import annotations

import pytest

from clavain.guard.places import OPT_IN_FLAG
from test_hooks import decide, make_run, tool_call

BASH = [
    ("touch .claude/clodex-toggle.flag", True),
    ("mkdir -p .claude && touch .claude/clodex-toggle.flag", True),
    ("echo on > .claude/clodex-toggle.flag", True),
    (": >> \"$PWD/.claude/clodex-toggle.flag\"", True),
    ("cd .claude && touch clodex-toggle.flag", True),
    ("touch /tmp/clodex-toggle.flag && mv /tmp/clodex-toggle.flag .claude/", True),
    ("cp /tmp/empty .claude/clodex-toggle.flag", True),
    ("cp /tmp/clodex-toggle.flag .claude/", True),
    ("install -t .claude /tmp/clodex-toggle.flag", True),
    ("ln -s /tmp/x .claude/clodex-toggle.flag", True),
    ("echo on | tee .claude/clodex-toggle.flag", True),
    ("python3 -c \"open('.claude/clodex-toggle.flag', 'w')\"", True),
    ("python3 -c \"import pathlib; (pathlib.Path('.claude') / 'clodex-toggle.flag').touch()\"", True),
    # reading it, and other files in .claude, stay allowed
    ("ls -la .claude/clodex-toggle.flag", False),
    ("test -f .claude/clodex-toggle.flag && echo external", False),
    ("cat .claude/clodex-toggle.flag", False),
    ("touch .claude/notes.md", False),
]


@pytest.mark.parametrize("command,blocked", BASH)
def test_bash_cannot_create_the_opt_in_flag_while_a_run_is_active(git_project, command, blocked):
    idle = decide("pre-tool-use", tool_call(git_project, "Bash", command=command), git_project)
    assert idle.returncode == 0 and idle.stderr == "", (command, idle.stderr)  # the interserve toggle works
    make_run(git_project)
    r = decide("pre-tool-use", tool_call(git_project, "Bash", command=command), git_project)
    assert r.returncode == (2 if blocked else 0), (command, r.stderr)
    if blocked:
        assert OPT_IN_FLAG in r.stderr and "needs the user's opt-in" in r.stderr and "Ask the user" in r.stderr


@pytest.mark.parametrize("tool,tool_input", [
    ("Write", {"file_path": ".claude/clodex-toggle.flag", "content": ""}),
    ("Write", {"file_path": "{project}/.claude/clodex-toggle.flag", "content": "on"}),
    ("Edit", {"file_path": ".claude/clodex-toggle.flag", "old_string": "", "new_string": "on"}),
    ("MultiEdit", {"file_path": ".claude/clodex-toggle.flag", "edits": []}),
    ("NotebookEdit", {"notebook_path": ".claude/clodex-toggle.flag", "new_source": "x"}),
])
@pytest.mark.parametrize("dispatch", ["local", "external"])
def test_edit_tools_cannot_create_the_opt_in_flag_while_a_run_is_active(git_project, tool, tool_input, dispatch):
    tool_input = {k: v.format(project=git_project) if isinstance(v, str) else v for k, v in tool_input.items()}
    call = tool_call(git_project, tool, **tool_input)
    assert decide("pre-tool-use", call, git_project).returncode == 0
    make_run(git_project, dispatch=dispatch)
    r = decide("pre-tool-use", call, git_project)
    assert r.returncode == 2 and r.stderr.startswith(f"clavain: {tool} on ") and OPT_IN_FLAG in r.stderr, r.stderr
    assert "next: clavain-cli run status" in r.stderr
