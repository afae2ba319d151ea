"""While a run waits for the user (at a checkpoint, halted or paused), the model's tools are read-only, by
allowlist: only plain reading commands with literal arguments and this plugin's own `clavain-cli run ...` pass.
Everything else is blocked, whatever it would do: a blocklist of command shapes cannot hold against a model with
Bash. While the batch runs, the same commands are ordinary work."""

from __future__ import annotations

import pytest

from test_hooks import NEXT, decide, make_run, tool_call

# command -> whether it passes while the run waits (a plain read, or the plugin's own clavain-cli run)
COMMANDS = [
    ("sed -i 's/a/b/' src/x.py", False),
    ("perl -pi -e 's/a/b/' src/x.py", False),
    ("echo 'print(1)' > src/x.py", False),
    ("printf x >> notes/one.md", False),
    ("cat > notes/three.md <<'EOF'\nthird note\nEOF", False),
    ("echo x | tee notes/three.md", False),
    ("touch notes/three.md", False),
    ("mkdir -p notes && cp /tmp/three.md notes/", False),
    ("mv notes/one.md notes/uno.md", False),
    ("rm -rf build", False),
    ("ls | xargs rm", False),
    ("find . -name '*.orig' -delete", False),
    ("git commit -qam 'task 3'", False),
    ("git checkout -- src/x.py", False),
    ("python3 -c \"open('src/x.py', 'w').write('x')\"", False),
    ("node -e \"require('fs').writeFileSync('a.txt', 'x')\"", False),
    ("tar xzf vendor.tgz", False),
    ("curl -sSo vendor.js https://example.com/v.js", False),
    ("echo x > $OUT", False),
    ("clavain-cli run status --json > status.json", False),
    # what a blocklist let through: scripts run by name, tools that run code from config, encodings
    ("python3 /tmp/s.py", False),
    ("bash s.sh", False),
    ("make -f other.mk", False),
    ("npm run build", False),
    ("pytest -q", False),
    ("git -c alias.x='!sh -c \"touch f\"' x", False),
    ("git -c core.fsmonitor='touch f' status", False),
    ("BASH_ENV=/tmp/e.sh bash -c true", False),
    ("eval \"$(echo dG91Y2ggZg== | base64 -d)\"", False),
    ("sort -o src/x.py src/x.py", False),
    ("xxd -r dump src/x.py", False),
    ("python3 -m zipfile -e a.zip .", False),
    ("nohup sh -c 'sleep 8; echo x > f' &", False),
    ("c=clavain-cli; $c run approve", False),
    ("`echo clavain-cli` run approve", False),
    ("env -S 'clavain-cli run approve'", False),
    ("./clavain-cli run approve", False),
    ("git status", False),
    ("python3 -c 'import sys; print(sys.version)'", False),
    ("cat notes/one.md && ls -la notes", False),
    ("grep -rn TODO src 2>/dev/null | head", False),
    ("x" * 20000, False),
    # on the list
    ("cat notes/one.md", True),
    ("ls -la notes", True),
    ("head -n 5 'notes/one.md'", True),
    ("tail -20 notes/one.md", True),
    ("wc -l notes/one.md", True),
    ("grep -rn TODO src", True),
    ("clavain-cli run status", True),
    ("clavain-cli run approve --note 'looks good'", True),
    ("clavain-cli run next --json", True),
    ("clavain-cli run abort", True),
    ("clavain-cli run diff 2", True),
    ("clavain-cli run revise 2 --note \"the user: task 2 is wrong\"", True),
]


@pytest.mark.parametrize("command,passes", COMMANDS)
@pytest.mark.parametrize("state", ["running", "awaiting_approval", "halted", "paused"])
def test_a_waiting_run_leaves_bash_only_the_allowlist(git_project, command, passes, state):
    make_run(git_project, state=state)
    r = decide("pre-tool-use", tool_call(git_project, "Bash", command=command), git_project)
    blocked = state != "running" and not passes
    assert r.returncode == (2 if blocked else 0), (command, r.stderr)
    if blocked:
        assert r.stderr.startswith("clavain: `") and "` is blocked: run r1 " in r.stderr, r.stderr
        assert "only reading tools (Read, Glob, Grep; cat, ls, head, tail, wc, grep) and `clavain-cli run ...` pass" \
            in r.stderr
        todo = {"halted": "halt report", "paused": "question", "awaiting_approval": "batch report"}[state]
        assert todo in r.stderr and "next: " in r.stderr
    else:
        assert r.stderr == ""


def test_no_run_means_no_checkpoint(git_project):
    r = decide("pre-tool-use", tool_call(git_project, "Bash", command="git commit -qam x && rm -rf build"),
               git_project)
    assert (r.returncode, r.stderr) == (0, "")


@pytest.mark.parametrize("tool", ["Read", "Glob", "Grep", "TaskCreate", "TodoWrite", "BashOutput"])
def test_reading_tools_pass_while_waiting(git_project, tool):
    make_run(git_project, state="awaiting_approval")
    r = decide("pre-tool-use", tool_call(git_project, tool, file_path="src/x.py", pattern="x"), git_project)
    assert (r.returncode, r.stderr) == (0, "")


@pytest.mark.parametrize("tool", ["Write", "Edit", "MultiEdit", "NotebookEdit", "Agent", "Task", "AskUserQuestion",
                                  "EnterPlanMode", "mcp__github__create_issue", "WebFetch", "SomeFutureTool"])
def test_every_other_tool_is_blocked_while_waiting(git_project, tool):
    make_run(git_project, state="halted")
    r = decide("pre-tool-use", tool_call(git_project, tool, file_path="src/x.py", prompt="x"), git_project)
    assert r.returncode == 2 and f"{tool} is blocked: run r1 is halted" in r.stderr, r.stderr
    assert "Present the halt report to the user and wait for their decision" in r.stderr
