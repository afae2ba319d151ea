"""End to end with the real `claude`: the settings `clavain-cli setup sandbox` writes are accepted, and a
session started with them runs the model's Bash commands in the sandbox.

Claude Code ignores a whole settings file it cannot accept, so a command that does get stopped by the
sandbox shows the file was taken. The sessions run without this plugin's hooks: what stops the model here
is the operating system and Claude Code's own permission rules, nothing that reads the commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CLI, ROOT, run_bin
from fakeapi import FakeAnthropic, text, tool

CLAUDE = ROOT / "node_modules" / ".bin" / "claude"
pytestmark = [pytest.mark.skipif(not CLAUDE.exists(), reason="the real claude CLI is installed by `npm install`"),
              pytest.mark.skipif(not (shutil.which("bwrap") and shutil.which("socat")),
                                 reason="needs bubblewrap and socat (.ci/run installs them)")]

PLAN = "# Notes\n\n### Task 1: A note\n\n- [ ] **Step 1: Write it**\n"
LEVEL = (f"{sys.executable} -c 'import os; from clavain.core.sandbox import protection_level; "
         "print(protection_level(os.getcwd(), os.environ).line())'")


def bash(command: str) -> list:
    return [tool("Bash", command=command, description=command[:40])]


def session(project: Path, home: Path, steps: list[tuple[str, list]]) -> tuple[subprocess.CompletedProcess, dict]:
    """One `claude -p` session against the scripted steps; each label's tool result."""
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "ANTHROPIC_API_KEY": "test-key",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
           "CLAVAIN_PYTHON": sys.executable}
    script = [step for _, step in steps] + [[text("done")]]
    with FakeAnthropic(script) as fake:
        env["ANTHROPIC_BASE_URL"] = fake.url
        proc = subprocess.run([str(CLAUDE), "-p", "go", "--max-turns", "30", "--allowedTools", "Bash", "Write"],
                              cwd=project, env=env, capture_output=True, text=True, timeout=300)
    return proc, fake.results_by_label([label for label, _ in steps])


def test_a_session_with_the_settings_setup_wrote_is_sandboxed(git_project, tmp_path):
    project, home = git_project, tmp_path / "home"
    home.mkdir()
    (project / "plan.md").write_text(PLAN)
    (project / "package.json").write_text("{}\n")
    written = run_bin(["setup", "sandbox"], cwd=project, env={"HOME": str(home)})
    assert written.code == 0, written.err
    settings = project / ".claude" / "settings.local.json"
    before = settings.read_bytes()
    transcripts = home / ".claude" / "projects"
    steps = [
        ("home", bash('touch "$HOME/outside"; echo rc=$?')),
        ("transcript", bash(f"mkdir -p {transcripts}/x && echo forged > {transcripts}/x/forged.jsonl; echo rc=$?")),
        ("plugin", bash(f"echo 'exit 0' > {ROOT}/hooks/clavain-hook.forged; echo rc=$?")),
        ("settings", bash("""echo '{"disableAllHooks": true}' > .claude/settings.local.json; echo rc=$?""")),
        ("inside", bash("echo inside > inside.txt && cat inside.txt")),
        ("run open", bash(f"{CLI} run open plan.md")),
        ("level", bash(LEVEL)),
        ("setup again", bash(f"{CLI} setup sandbox --caches; echo rc=$?")),
        ("write run state", [tool("Write", file_path=str(project / ".clavain" / "execute-plan" / "runs" / "forged" / "journal.jsonl"),
                                  content="{}\n")]),
        ("write store journal", [tool("Write", file_path=str(project / ".clavain" / "execute-plan" / "clavain.db-wal"), content="x")]),
        ("write note", [tool("Write", file_path=str(project / "note.md"), content="a note\n")]),
    ]
    try:
        proc, got = session(project, home, steps)
    finally:
        forged_hook = ROOT / "hooks" / "clavain-hook.forged"
        stray = forged_hook.exists()
        forged_hook.unlink(missing_ok=True)
    log = "\n".join(f"{label}: error={r['is_error']} {r['text'][:300]!r}" for label, r in got.items())
    assert proc.returncode == 0 and "settings" not in proc.stderr.lower(), proc.stdout + proc.stderr

    # the operating system stops writes outside the project, and to the project's settings
    for label in ("home", "transcript", "plugin", "settings"):
        assert "Read-only file system" in got[label]["text"] and "rc=1" in got[label]["text"], log
    assert not (home / "outside").exists() and not (transcripts / "x").exists() and not stray
    assert settings.read_bytes() == before
    # ordinary work inside the project goes on, clavain-cli's run state included
    assert got["inside"]["text"].strip() == "inside" and (project / "inside.txt").read_text() == "inside\n", log
    assert got["run open"]["is_error"] is False and "next: clavain-cli run task-start 1" in got["run open"]["text"], log
    (run,) = (project / ".clavain" / "execute-plan" / "runs").iterdir()
    assert (run / "journal.jsonl").stat().st_size > 0
    # the level, asked from inside the session, is the session's own
    assert got["level"]["text"].strip() == "protection: sandboxed (this command runs inside Claude Code's Bash sandbox)"
    # setup cannot be run from inside to loosen the settings
    assert "rc=3" in got["setup again"]["text"] and "in your own terminal" in got["setup again"]["text"], log
    assert not (home / ".npm").exists()
    # the Edit ask rules hold the Write tool off what the plugin owns (a session that cannot ask refuses), and
    # only that
    for label in ("write run state", "write store journal"):
        assert got[label]["is_error"] is True and "you haven't granted it yet" in got[label]["text"], log
    assert not (project / ".clavain" / "execute-plan" / "runs" / "forged").exists() and not (project / ".clavain" / "execute-plan" / "clavain.db-wal").exists()
    assert got["write note"]["is_error"] is False and (project / "note.md").read_text() == "a note\n", log


def test_a_session_started_before_setup_is_not_sandboxed_and_the_level_says_so(git_project, tmp_path):
    """Settings apply when a session starts: after `setup sandbox` inside a session, that session's commands
    still run unsandboxed, and the level asked from there says so instead of reading the new file."""
    project, home = git_project, tmp_path / "home"
    home.mkdir()
    steps = [("setup", bash(f"{CLI} setup sandbox")),
             ("level", bash(LEVEL)),
             ("home", bash('touch "$HOME/outside"; echo rc=$?'))]
    proc, got = session(project, home, steps)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert got["setup"]["is_error"] is False and "wrote .claude/settings.local.json" in got["setup"]["text"]
    assert json.loads((project / ".claude" / "settings.local.json").read_text())["sandbox"]["enabled"] is True
    assert got["level"]["text"].strip().startswith(
        "protection: hooks only, best effort (this session's Bash commands run outside the sandbox"), got["level"]
    assert "rc=0" in got["home"]["text"] and (home / "outside").exists()
