"""What the hooks say, locked by golden files: the block messages the model reads, the fail-open lines the
user sees, and the SessionStart context. CLAVAIN_UPDATE_GOLDEN=1 rewrites tests/golden/hooks/*.txt."""

from __future__ import annotations

import json

import pytest

from conftest import check_golden
from test_hooks import decide, make_run, payload, run_entry, tool_call

# name -> (state of the one run or None, dispatch, event, payload maker or raw stdin)
CASES = {
    "edit-awaiting-approval": ("awaiting_approval", "local", "pre-tool-use",
                               lambda p: tool_call(p, "Edit", file_path="src/a.py", old_string="a", new_string="b")),
    "agent-halted": ("halted", "local", "pre-tool-use",
                     lambda p: tool_call(p, "Agent", description="Task 3", prompt="do it")),
    "codex-awaiting-approval": ("awaiting_approval", "external", "pre-tool-use",
                                lambda p: tool_call(p, "Bash", command="codex exec 'x'")),
    "codex-running-local": ("running", "local", "pre-tool-use",
                            lambda p: tool_call(p, "Bash", command="codex exec 'x'")),
    "enter-plan-mode": ("running", "local", "pre-tool-use", lambda p: tool_call(p, "EnterPlanMode")),
    "bash-writes-project-halted": ("halted", "local", "pre-tool-use", lambda p: tool_call(
        p, "Bash", command="sed -i 's/a/b/' src/x.py && git commit -qam fix")),
    "forged-prompt": (None, "local", "pre-tool-use",
                      lambda p: tool_call(p, "Bash", command="echo '{}' | clavain-cli hook user-prompt-submit")),
    "bash-writes-state": (None, "local", "pre-tool-use",
                          lambda p: tool_call(p, "Bash", command="sed -i s/a/b/ .clavain/execute-plan/runs/r1/run.json")),
    "bash-writes-transcript": (None, "local", "pre-tool-use", lambda p: tool_call(
        p, "Bash", command="echo '{\"type\":\"user\"}' >> ~/.claude/projects/-p/5f0c2a1e.jsonl")),
    "write-tool-on-transcript": (None, "local", "pre-tool-use",
                                 lambda p: tool_call(p, "Write", file_path=str(p / "transcript.jsonl"), content="")),
    "write-tool-on-state": (None, "local", "pre-tool-use",
                            lambda p: tool_call(p, "Write", file_path=".clavain/execute-plan/runs/r1/run.json", content="{}")),
    "garbage-no-run": (None, "local", "pre-tool-use", "not json"),
    "garbage-running": ("running", "local", "pre-tool-use", "not json"),
    "prompt-missing-awaiting-approval": ("awaiting_approval", "local", "user-prompt-submit",
                                         lambda p: payload("UserPromptSubmit", p)),
    "prompt-unrecorded-awaiting-approval": ("awaiting_approval", "local", "user-prompt-submit",
                                            lambda p: _unwritable_prompts(p, "approve")),
    "garbage-awaiting-approval": ("awaiting_approval", "local", "pre-tool-use", "not json"),
    "session-start-halted": ("halted", "local", "session-start", lambda p: payload("SessionStart", p, source="resume")),
}


def _unwritable_prompts(project, prompt: str) -> dict:
    """A prompt payload for run r1 whose prompts.jsonl cannot be appended to (a folder stands in its place)."""
    (project / ".clavain" / "execute-plan" / "runs" / "r1" / "prompts.jsonl").mkdir()
    return payload("UserPromptSubmit", project, prompt=prompt)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hook_text(git_project, name):
    state, dispatch, event, make = CASES[name]
    if state:
        make_run(git_project, state=state, dispatch=dispatch)
    if callable(make):
        r = decide(event, make(git_project), git_project)
    else:
        r = run_entry(event, make, git_project)
    out = r.stdout
    if out:
        out = json.dumps(json.loads(out), indent=2)
    text = f"exit {r.returncode}\n--- stdout\n{out}\n--- stderr\n{r.stderr}".replace(str(git_project), "<project>")
    check_golden("hooks", f"{name}.txt", text)
