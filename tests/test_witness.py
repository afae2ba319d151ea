"""The hooks as witnesses of every Bash call during a run: only this plugin's own `clavain-cli run ...` may move the
journal; any other change, during a call or between calls, becomes a verdict that the next command turns into a
halt. The commands the model runs are run here as Claude Code's sandbox runs them (bubblewrap: the project and a
temporary folder writable, everything else, the witness records included, read-only); the hook runs outside it,
through the entry script, with the payloads Claude Code sends."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CLI, ROOT, run_cli
from test_hooks import payload, run_entry
from test_run_support import SKIP_GATE, write_plan

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None and not os.environ.get("CI"),
                                reason="bubblewrap is not installed (.ci/run installs it)")


class Session:
    """A project, the hooks' state home, and a way to run Bash calls as Claude Code would: PreToolUse, the
    command inside the sandbox, PostToolUse."""

    def __init__(self, root: Path) -> None:
        self.project = root / "project"
        self.project.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=self.project, check=True)
        self.state_home = Path(os.environ["XDG_STATE_HOME"])
        self.tmp = root / "tmp"
        (self.tmp / "bin").mkdir(parents=True)
        wrapper = self.tmp / "bin" / "python3"   # the test's Python, under the name a model would use
        wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
        wrapper.chmod(0o755)
        self.calls = 0
        self.env = {"XDG_STATE_HOME": str(self.state_home), "CLAUDE_PLUGIN_ROOT": str(ROOT)}

    def hook(self, event: str, **data) -> subprocess.CompletedProcess:
        body = payload({"pre-tool-use": "PreToolUse", "post-tool-use": "PostToolUse"}.get(event, event),
                       self.project, **data)
        return run_entry(event, json.dumps(body), self.project, self.env)

    def sandboxed(self, command: str) -> subprocess.CompletedProcess:
        """``bash -c command`` the way Claude Code's sandbox runs it: only the project and a temp folder writable."""
        env = {"PATH": f"{self.tmp / 'bin'}:{ROOT / 'bin'}:{os.environ['PATH']}", "HOME": os.environ.get("HOME", "/root"),
               "TMPDIR": str(self.tmp), "XDG_STATE_HOME": str(self.state_home), "CLAVAIN_PYTHON": sys.executable,
               "PYTHONPATH": str(ROOT), **SKIP_GATE}
        argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--bind", str(self.project), str(self.project), "--bind", str(self.tmp), str(self.tmp),
                "--chdir", str(self.project), "bash", "-c", command]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    def bash(self, command: str) -> subprocess.CompletedProcess:
        """One Bash tool call: PreToolUse (which may block it), the command in the sandbox, PostToolUse."""
        self.calls += 1
        call = {"tool_name": "Bash", "tool_input": {"command": command}, "tool_use_id": f"toolu_{self.calls}"}
        pre = self.hook("pre-tool-use", **call)
        if pre.returncode == 2:
            return pre
        ran = self.sandboxed(command)
        self.hook("post-tool-use", **call, tool_response={"stdout": ran.stdout, "stderr": ran.stderr})
        return ran

    def record(self) -> dict:
        from clavain.core import witness

        return json.loads(Path(witness.record_path(self.env, str(self.project), self.run_id())).read_text())

    def run_id(self) -> str:
        (run,) = (self.project / ".clavain" / "execute-plan" / "runs").iterdir()
        return run.name

    def journal(self) -> list[dict]:
        path = self.project / ".clavain" / "execute-plan" / "runs" / self.run_id() / "journal.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]


FORGE = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from clavain.run.folder import RunFolder
folder = RunFolder(Path('.'), {run_id!r})
with folder.lock():
    state = folder.load().state
    folder.record(state, "checkpoint", {{"batch": state.batch}})
"""


@pytest.fixture
def session(tmp_path) -> Session:
    s = Session(tmp_path)
    write_plan(s.project)
    return s


def started(s: Session) -> None:
    assert s.bash("clavain-cli run start plan.md --batch-size 2").returncode == 0
    assert s.bash("clavain-cli run task-start 1").returncode == 0


def test_the_plugins_own_calls_are_attested_and_nothing_else_is_said(session):
    started(session)
    record = session.record()
    last = session.journal()[-1]
    assert record["head"] == {"seq": last["seq"], "hash": last["hash"]}
    assert (record["state"], record["verdicts"], record["pending"]) == ("running", [], {})
    # the sandboxed CLI could not write the record itself: the hook's PostToolUse did
    assert session.sandboxed("touch $XDG_STATE_HOME/clavain/x").returncode != 0


def test_a_forged_entry_written_through_the_package_is_caught_and_halts_the_run(session):
    started(session)
    (session.project / "forge.py").write_text(FORGE.format(root=str(ROOT), run_id=session.run_id()))
    forged = session.bash("python3 forge.py")
    assert forged.returncode == 0, forged.stderr   # the sandbox lets it write the project: detection, not prevention
    assert session.journal()[-1]["event"] == "checkpoint"
    verdicts = session.record()["verdicts"]
    assert len(verdicts) == 1 and "during `python3 forge.py`, which is not clavain-cli run" in verdicts[0]["reason"]
    # until a clavain-cli command answers it, the run counts as waiting: edits are blocked, the allowlist passes
    edit = session.hook("pre-tool-use", tool_name="Edit", tool_input={"file_path": "a.txt"}, tool_use_id="e1")
    assert edit.returncode == 2 and "cannot be taken as it stands" in edit.stderr
    status = session.bash("clavain-cli run status")
    assert "the hooks saw the run's records change outside clavain-cli run" in status.stdout + status.stderr
    assert session.journal()[-1]["event"] == "halted"
    assert session.journal()[-1]["data"]["halt"]["kind"] == "tampered"
    # answered once: the next command does not halt again
    session.bash("clavain-cli run status")
    assert [e["event"] for e in session.journal()].count("halted") == 1


def test_state_put_back_between_calls_is_caught(session):
    """A copy of the run folder taken before a step and put back after it (say, by a job started earlier)."""
    started(session)
    runs = session.project / ".clavain" / "execute-plan" / "runs"
    backup = session.tmp / "backup"
    shutil.copytree(runs, backup)
    assert session.bash("clavain-cli run verify 1").returncode == 1  # a.txt is missing: the run halts
    assert session.journal()[-1]["event"] == "halted"
    shutil.rmtree(runs)
    shutil.copytree(backup, runs)   # between two tool calls: no call is under way
    session.bash("cat plan.md")
    verdicts = session.record()["verdicts"]
    assert len(verdicts) == 1 and "from entry 3 to entry 2 between tool calls" in verdicts[0]["reason"], verdicts


def test_a_failing_call_of_the_plugins_own_command_is_attested_too(session):
    """A failing `run verify` halts the run: the journal moves, and the call fails (PostToolUseFailure)."""
    started(session)
    failing = session.bash("clavain-cli run verify 1")
    assert failing.returncode == 1 and session.journal()[-1]["event"] == "halted"
    record = session.record()
    assert record["verdicts"] == [] and record["state"] == "halted"


def test_a_summary_edited_while_the_run_waits_is_put_right_by_the_next_command(session):
    started(session)
    summary = session.project / ".clavain" / "execute-plan" / "active" / f"{session.run_id()}.json"
    data = json.loads(summary.read_text())
    summary.write_text(json.dumps({**data, "state": "awaiting_approval"}))
    edit = session.hook("pre-tool-use", tool_name="Edit", tool_input={"file_path": "a.txt"}, tool_use_id="e2")
    assert edit.returncode == 2 and "summary says 'awaiting_approval' but its journal says 'running'" in edit.stderr
    repaired = run_cli(["run", "status"], cwd=session.project, env=SKIP_GATE)
    assert "did not match its journal; rewritten" in repaired.out
    edit = session.hook("pre-tool-use", tool_name="Edit", tool_input={"file_path": "a.txt"}, tool_use_id="e3")
    assert (edit.returncode, edit.stderr) == (0, "")


@pytest.mark.parametrize("last_event,active", [("task_started", True), ("checkpoint", False), ("paused", False)])
def test_stop_asks_a_half_done_batch_to_go_on_once(session, last_event, active):
    started(session)
    if last_event == "checkpoint":
        run_cli(["run", "task-done", "1", "--output", "plan.md"], cwd=session.project, env=SKIP_GATE)
        session.bash("clavain-cli run verify 1")
    if last_event == "paused":
        assert session.bash("clavain-cli run pause --reason 'which database?'").returncode == 0
    stop = session.hook("stop", stop_hook_active=False)
    if active and last_event == "task_started":
        assert stop.returncode == 2 and "in the middle of batch 1" in stop.stderr
        assert "clavain-cli run pause --reason" in stop.stderr
        again = session.hook("stop", stop_hook_active=True)  # asked once: the turn may end now
        assert again.returncode == 0
    else:
        assert (stop.returncode, stop.stderr) == (0, "")


def test_a_command_killed_outside_claude_code_is_not_read_as_tampering(session):
    """In the user's own terminal no PostToolUse attests a step: clavain-cli notes the step in the witness record
    itself, announcing it before it writes, so a kill between its journal line and its note is not someone else
    moving the journal, and the next command catches the record up."""
    from conftest import run_bin

    started(session)
    killed = run_bin(["run", "task-fail", "1", "--reason", "broken"], cwd=session.project,
                     env={**SKIP_GATE, "CLAVAIN_CRASH_AT": "journal-appended"})
    assert killed.code == 137 and session.journal()[-1]["event"] == "halted"
    assert session.record()["head"]["seq"] < session.journal()[-1]["seq"]   # the note never came
    session.hook("pre-tool-use", tool_name="Bash", tool_input={"command": "ls"}, tool_use_id="t-next")
    assert session.record()["verdicts"] == []
    run_cli(["run", "status"], cwd=session.project, env=SKIP_GATE)
    record = session.record()
    assert record["verdicts"] == [] and record["head"]["seq"] == session.journal()[-1]["seq"]
    assert not [key for key in record["pending"] if key.startswith("cli-")]
