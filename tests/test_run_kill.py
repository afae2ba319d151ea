"""Kills where state is written: every crash point of the code (``clavain.core.files.crash_point``), at every
state-changing command of a scripted run that passes it.

Each command runs as a Bash call of a Claude Code session would: the PreToolUse hook, the command in a process
of its own, the PostToolUse hook. For each command and each crash point on its path, the run is put back as it
stood before the command, the command is started with ``CLAVAIN_CRASH_AT=<point>`` and dies there (``os._exit``,
as SIGKILL would), the test checks that the kill landed where the point says (a torn line, a journal one step
ahead of ``run.json``, a report not yet in place ...), and then does what a model does after a failed command:
runs it again (a killed ``start``: ``run open``), or, when ``run status`` shows its step recorded, moves on.
Afterwards the run must be exactly as if nothing had been killed: the same journal events as the clean run
(nothing acknowledged lost, nothing doubled), the chain valid, ``run.json``, the active summary, the reports and
the hooks' witness record all in step with the journal.

The figure: kills per crash point (each at least 1), printed and asserted. The commands run in a forked copy of
the test process (the whole command, including its crash, in a real process of its own, without paying for an
interpreter start each time); ``test_the_crash_point_reaches_the_real_entry_point`` kills ``bin/clavain-cli``
itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT, run_bin, run_cli
from test_run_support import OPT_IN, SKIP_GATE, assert_in_step, events

from clavain.core.files import CRASH_ENV, CRASHED

PLAN = """\
# Kill Plan

**Goal:** every write step of every command, killed once.

### Task 1: Make a file

- [ ] **Step 1: write it**

<verify>
- run: `true`
  expect: exit 0
</verify>

### Task 2: Second

- [ ] **Step 1: more**

### Task 3: Third, fails once

- [ ] **Step 1: break, then mend**

### Task 4: Last

- [ ] **Step 1: wrap up**
"""

# The scripted run: (the user's reply recorded before the command, the command's words).
SCRIPT = [
    (None, ["start", "plan.md", "--batch-size", "2"]),
    (None, ["task-start", "1"]),
    (None, ["verify", "1"]),
    (None, ["task-done", "1", "--output", "out.md"]),
    (None, ["task-start", "2"]),
    (None, ["task-done", "2", "--output", "out.md"]),
    (None, ["checkpoint"]),
    ("approve batch 1", ["approve"]),
    (None, ["task-start", "3"]),
    (None, ["task-fail", "3", "--reason", "it broke"]),
    ("retry task 3", ["retry", "3"]),
    (None, ["task-start", "3"]),
    (None, ["task-done", "3", "--output", "out.md"]),
    (None, ["task-start", "4"]),
    (None, ["task-done", "4", "--output", "out.md"]),
    (None, ["checkpoint"]),
    ("rollback task 4", ["rollback", "4"]),
    (None, ["task-start", "4"]),
    (None, ["task-done", "4", "--output", "out.md"]),
    (None, ["checkpoint"]),
    ("approve batch 2", ["approve"]),
    (None, ["finish"]),
]

# Every command records one journal entry (``RunFolder.record``, then the witness record): these points are
# on every command's path. Some write more.
RECORD = ["mid-append", "journal-appended", "mid-run-json", "run-json-written", "active-written", "witness-written"]
# The project is a git repository whose run commits each task and ticks the plan (``run.commit: task``,
# ``run.tick_plan: true``), so the commit, the tick and the rollback are killed too.
MORE = {"task-done": ["task-commit", "output-stored", "plan-tick"], "checkpoint": ["mid-report"],
        "task-fail": ["mid-report"], "finish": ["mid-report"], "rollback": ["rollback"]}
SETTINGS = "run: {commit: task, tick_plan: true}\n"
# the command's entry is not in the journal yet
BEFORE_THE_ENTRY = ("task-commit", "output-stored", "mid-append", "rollback")
# A command repeated after its step was recorded: the exit it gives (0: it says the step is already done;
# 1: refused, the run has moved on). ``verify`` is left out: run again, it checks again, and records that.
REPEATED = {"task-start": 0, "task-done": 0, "checkpoint": 0, "approve": 1, "task-fail": 1, "retry": 1, "finish": 1,
            "rollback": 1}


def points_in_the_code() -> set[str]:
    """Every crash point the code names: ``crash_point("name")`` and ``point="name"``."""
    found = set()
    for path in (ROOT / "clavain").rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'crash_point\(\s*"([a-z0-9-]+)"', text))
        found |= set(re.findall(r'\bpoint="([a-z0-9-]+)"', text))
    return found


# ------------------------------------------------------------------------------------------------ the harness

class Harness:
    """A project, the hooks' state home beside it, and the calls a session makes."""

    def __init__(self, root: Path) -> None:
        self.work = root / "work"
        self.project = self.work / "project"
        self.state_home = self.work / "state"
        self.project.mkdir(parents=True)
        self.state_home.mkdir()
        (self.project / "plan.md").write_text(PLAN)
        (self.project / ".clavain").mkdir()
        (self.project / ".clavain" / "config.yaml").write_text(OPT_IN + SETTINGS)
        (self.project / "out.md").write_text("what the task produced\n")
        for argv in (["init", "-q", "-b", "main"], ["config", "user.name", "t"], ["config", "user.email", "t@e"]):
            subprocess.run(["git", *argv], cwd=self.project, check=True)
        self.env = {**SKIP_GATE, "XDG_STATE_HOME": str(self.state_home), "HOME": str(root),
                    "CLAUDE_PLUGIN_ROOT": str(ROOT), "CLAUDE_PROJECT_DIR": str(self.project)}
        self.calls = 0

    # -- putting the run back as it stood --
    def save(self, where: Path) -> None:
        shutil.rmtree(where, ignore_errors=True)
        shutil.copytree(self.work, where, symlinks=True)

    def restore(self, where: Path) -> None:
        shutil.rmtree(self.work)
        shutil.copytree(where, self.work, symlinks=True)

    # -- the session --
    def hook(self, event: str, argv: list[str]) -> tuple[int, str]:
        from clavain.guard.hooks import answer

        payload = {"session_id": "s-1", "cwd": str(self.project), "hook_event_name": event, "tool_name": "Bash",
                   "tool_input": {"command": "clavain-cli run " + " ".join(argv)},
                   "tool_use_id": f"toolu_{self.calls}"}
        code, _, err = answer(event, json.dumps(payload), self.env, str(self.project))
        return code, err

    def bash(self, argv: list[str], crash: str | None = None, then=None):
        """One Bash call of ``clavain-cli run ARGV``: PreToolUse, the command (killed at ``crash``), ``then()``,
        PostToolUse. Returns the command's exit code (``CRASHED`` when it was killed)."""
        self.calls += 1
        code, err = self.hook("pre-tool-use", argv)
        assert code == 0, f"the hook blocked clavain-cli run {' '.join(argv)}: {err}"
        code = run_cli(["run", *argv], cwd=self.project, env=self.env).code if crash is None else \
            self._forked(argv, crash)
        if then is not None:
            then(code)
        self.hook("post-tool-use", argv)
        return code

    def _forked(self, argv: list[str], crash: str) -> int:
        pid = os.fork()
        if pid == 0:  # the command, in a process of its own; it dies at the crash point
            code = 99
            try:
                os.environ[CRASH_ENV] = crash
                code = run_cli(["run", *argv], cwd=self.project, env=self.env).code
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def say(self, text: str) -> None:
        from test_run_support import say

        say(self.project, text)

    # -- what the run holds --
    def run_dir(self) -> Path:
        runs = sorted((self.project / ".clavain" / "execute-plan" / "runs").iterdir())
        return runs[-1]

    def runs(self) -> list[Path]:
        folder = self.project / ".clavain" / "execute-plan" / "runs"
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def status(self) -> dict:
        r = run_cli(["run", "status", "--json", "--run", self.run_dir().name], cwd=self.project, env=self.env)
        assert r.code == 0, r.err
        return json.loads(r.out)

    def events(self) -> list[tuple[str, str]]:
        return events(self.run_dir())


# ------------------------------------------------------------------------------------- what each kill must show

def landed(h: Harness, point: str, before: list[tuple[str, str]], argv: list[str]) -> None:
    """The kill happened where ``point`` says: the files show that moment and no later one."""
    from clavain.run.journal import Journal

    if not h.runs():
        assert argv[0] == "start" and point in BEFORE_THE_ENTRY, f"start killed at {point} left no run folder"
        return
    folder = h.run_dir()
    journal = Journal(folder / "journal.jsonl")
    raw = journal.path.read_bytes()
    entries = journal.verify()
    run_json = json.loads((folder / "run.json").read_text()) if (folder / "run.json").exists() else None
    seq = run_json["journal_seq"] if run_json else 0
    if point in BEFORE_THE_ENTRY:
        assert len(entries) == len(before), f"{point}: the entry was written"
        if point == "mid-append":
            assert journal.torn and not raw.endswith(b"\n"), "mid-append left no torn line"
        if point == "output-stored":
            assert (folder / "tasks" / f"task-{argv[1]}.md").exists(), "output-stored: the output is not stored"
        if point == "task-commit":
            subject = subprocess.run(["git", "log", "-1", "--format=%s"], cwd=h.project, capture_output=True,
                                     text=True).stdout
            assert subject.startswith(f"task {argv[1]}: "), "task-commit: the task's commit is not made"
        return
    assert len(entries) == len(before) + 1, f"{point}: the journal does not hold the command's entry"
    head = entries[-1]
    if point in ("journal-appended", "mid-run-json"):
        assert seq == head["seq"] - 1, f"{point}: run.json is not one step behind the journal"
        if point == "mid-run-json":
            assert list(folder.glob(".run.json.*.tmp")), "mid-run-json left no temporary file"
        return
    assert seq == head["seq"], f"{point}: run.json is not at the journal's head"
    active = h.project / ".clavain" / "execute-plan" / "active" / f"{folder.name}.json"
    summary = json.loads(active.read_text()) if active.exists() else None
    over = head["data"]["after"]["state"] in ("finished", "aborted")
    in_step = summary is not None and summary["updated"] == run_json["state"]["updated"]
    if point == "run-json-written":
        assert not in_step and (summary is not None or not over), f"{point}: the active summary is already written"
        return
    assert in_step or (over and summary is None), f"{point}: the active summary is not written"
    from clavain.core import witness

    record = witness.read(h.env, str(h.project), folder.name) or {}
    attested = (record.get("head") or {}).get("seq")
    if point == "active-written":
        assert attested != head["seq"], f"{point}: the witness record already holds the entry"
    elif point == "witness-written":
        assert attested == head["seq"], f"{point}: the witness record does not hold the entry"
    elif point == "mid-report":
        assert list(folder.glob("**/.*.md.*.tmp")), "mid-report left no temporary report"
    elif point == "plan-tick":
        assert "- [ ] **Step 1" in (h.project / "plan.md").read_text().split(f"### Task {argv[1]}:")[1], \
            "plan-tick: the plan is ticked already"


def in_step(h: Harness, expected: list[tuple[str, str]], what: str) -> None:
    """The run as a clean run leaves it: the same events, and everything in step with the journal."""
    try:
        _in_step(h, expected)
    except AssertionError as exc:
        raise AssertionError(f"{what}: {exc}") from None


def _in_step(h: Harness, expected: list[tuple[str, str]]) -> None:
    assert len(h.runs()) == 1, f"{len(h.runs())} run folders: the run was started twice"
    assert h.events() == expected
    assert_in_step(h.project, h.run_dir(), h.env)


# ------------------------------------------------------------------------------------------------------ the test

def test_a_kill_at_every_write_step_loses_nothing_and_doubles_nothing(tmp_path):
    h = Harness(tmp_path)
    kills: Counter = Counter()
    by_command: Counter = Counter()
    saved_before, saved_after = tmp_path / "before", tmp_path / "after"
    expected_before: list[tuple[str, str]] = []
    for reply, argv in SCRIPT:
        command = argv[0]
        if reply:
            h.say(reply)
        h.save(saved_before)
        assert h.bash(argv) == 0, f"the clean {argv} failed"
        if command == "task-start":   # the task's work, which its commit holds
            (h.project / f"work-{argv[1]}.txt").write_text(f"task {argv[1]}, attempt {h.calls}\n")
        expected = h.events()
        h.save(saved_after)
        for point in RECORD + MORE.get(command, []):
            h.restore(saved_before)
            def killed(code: int) -> None:
                assert code == CRASHED, f"{' '.join(argv)} did not reach the crash point {point} (exit {code})"
                try:
                    landed(h, point, expected_before, argv)
                except AssertionError as exc:
                    raise AssertionError(f"{' '.join(argv)}: {exc}") from None

            h.bash(argv, crash=point, then=killed)
            kills[point] += 1
            by_command[(command, point)] += 1
            # what a model does after a failed command: the command again, or, when the step is in the journal
            # already, whatever comes next (here: run status). Either repairs. A step the killed command
            # recorded is not recorded twice: a repeat says so, or is refused.
            if command == "start":
                assert h.bash(["open", "plan.md", "--batch-size", "2"]) == 0
            else:
                recorded = len(h.events()) == len(expected)
                if not recorded or command in REPEATED:
                    code = h.bash(argv)
                    want = REPEATED[command] if recorded else 0
                    assert code == want, f"{' '.join(argv)} again, after the kill at {point}: exit {code}, not {want}"
                else:
                    h.status()
            in_step(h, expected, f"{' '.join(argv)} killed at {point}")
        h.restore(saved_after)
        expected_before = expected
    assert h.status()["state"] == "finished"
    figure = "\n".join(f"  {p:18} {kills[p]:3} kills" for p in sorted(kills))
    print(f"\nkills per crash point:\n{figure}")
    assert set(kills) == points_in_the_code(), "a crash point of the code is not killed at (or the test names one " \
                                               "the code lacks)"
    assert all(n >= 1 for n in kills.values())
    per_command = {c for c, _ in by_command}
    assert per_command == {a[0] for _, a in SCRIPT}


def test_the_crash_point_reaches_the_real_entry_point(tmp_path):
    """``CLAVAIN_CRASH_AT`` through ``bin/clavain-cli``: the process dies with the status of a kill, mid-line,
    and the next command repairs the journal."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "plan.md").write_text(PLAN)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text(OPT_IN)
    env = {**SKIP_GATE, "XDG_STATE_HOME": str(tmp_path / "state")}
    assert run_bin(["run", "start", "plan.md"], cwd=project, env=env).code == 0
    r = run_bin(["run", "task-start", "1"], cwd=project, env={**env, CRASH_ENV: "mid-append"})
    assert r.code == CRASHED and r.out == ""
    journal = next((project / ".clavain" / "execute-plan" / "runs").iterdir()) / "journal.jsonl"
    assert not journal.read_bytes().endswith(b"\n")
    r = run_bin(["run", "task-start", "1"], cwd=project, env=env)
    assert r.code == 0, r.err
    assert journal.read_bytes().endswith(b"\n")
    assert [json.loads(line)["event"] for line in journal.read_text().splitlines()] == ["run_started", "task_started"]


@pytest.mark.parametrize("value", ["", "no-such-point", "hook-pre-tool-use"])
def test_an_empty_or_other_crash_point_changes_nothing(tmp_path, value):
    """Only the named point dies: an empty value, a name no point has, or a hook's point leave every write
    step of the CLI alone."""
    h = Harness(tmp_path)
    for _, argv in SCRIPT[:7]:
        assert h.bash(argv, crash=value) == 0
    assert h.status()["state"] == "awaiting_approval"
