"""<verify> entries run as real bash subprocesses: exit codes, output, timeouts, logs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from clavain.core.errors import EnvironmentProblem
from clavain.plan.model import VerifyEntry
from clavain.run.verify import VerifyResult, run_verify


def entry(run: str, expect_exit=0, contains=None, line=7) -> VerifyEntry:
    return VerifyEntry(run=run, expect_exit=expect_exit, expect_contains=contains, line=line)


# run, expect_exit, expect_contains, passed, exit_code, reason fragment
CASES = [
    ("true", 0, None, True, 0, ""),
    ("exit 3", 0, None, False, 3, "exit code 3, expected 0"),
    ("exit 3", 3, None, True, 3, ""),
    ("exit 3", None, None, True, 3, ""),
    ("false", 1, None, True, 1, ""),
    ("echo hello world", 0, "lo wo", True, 0, ""),
    ("echo hello", 0, "bye", False, 0, "output does not contain 'bye'"),
    ("echo oops >&2; exit 2", 2, "oops", True, 2, ""),
    ("echo 'FAILED 1 test'; exit 1", None, "passed", False, 1, "does not contain 'passed'"),
    ("no-such-command-4711 --flag", 0, None, False, 127, "exit code 127 (command not found), expected 0"),
    ("kill -KILL $$", 0, None, False, -9, "killed by SIGKILL, expected exit code 0"),
    ("printf 'a|b\\n' | grep -q b && test -f marker", 0, None, True, 0, ""),
    ("echo \"$VERIFY_ME\"", 0, "from-env", True, 0, ""),
    ("pwd", 0, "project", True, 0, ""),
    ("cat", 0, None, True, 0, ""),  # stdin is closed: never waits for input
]


@pytest.mark.parametrize("run, expect_exit, contains, passed, code, reason", CASES, ids=[c[0] for c in CASES])
def test_one_entry(tmp_path, project, run, expect_exit, contains, passed, code, reason):
    (project / "marker").write_text("x")
    env = {**os.environ, "VERIFY_ME": "from-env"}
    results = run_verify([entry(run, expect_exit, contains)], cwd=project, log_dir=tmp_path / "tasks",
                         task_id="2.1", env=env)
    assert len(results) == 1
    result = results[0]
    assert isinstance(result, VerifyResult)
    assert (result.passed, result.exit_code, result.timed_out) == (passed, code, False)
    assert reason in result.reason and (result.reason == "") == passed
    assert result.log_path == tmp_path / "tasks" / "verify-2.1-1.log"
    log = result.log_path.read_text()
    assert log.startswith(f"$ {run}\n") and f"[exit {code} after " in log
    assert result.to_dict()["passed"] is passed and result.to_dict()["line"] == 7


def test_stops_at_the_first_failure_and_numbers_logs(tmp_path, project):
    entries = [entry("echo one"), entry("echo two; exit 4"), entry("touch should-not-exist")]
    results = run_verify(entries, cwd=project, log_dir=tmp_path / "logs", task_id="10a")
    assert [r.passed for r in results] == [True, False]
    assert [r.log_path.name for r in results] == ["verify-10a-1.log", "verify-10a-2.log"]
    assert not (project / "should-not-exist").exists()
    assert "two" in results[1].output_tail


def test_output_tail_is_the_last_twenty_lines(tmp_path, project):
    result = run_verify([entry("seq 1 100")], cwd=project, log_dir=tmp_path, task_id="1")[0]
    assert result.output_tail.splitlines() == [str(i) for i in range(81, 101)]
    assert "\n1\n2\n" in result.log_path.read_text()  # the log keeps everything


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("run", [
    "sleep 30",
    "trap '' TERM; sleep 30 & echo $! > child.pid; wait",     # ignores SIGTERM: killed after the grace
    "bash -c 'sleep 30' & echo $! > child.pid; wait",          # a grandchild in the same group
])
def test_timeout_kills_the_whole_process_group(tmp_path, project, run):
    started = time.monotonic()
    result = run_verify([entry(run), entry("true")], cwd=project, log_dir=tmp_path, task_id="3", timeout=0.5)
    assert len(result) == 1
    result = result[0]
    assert result.timed_out and not result.passed and result.exit_code is None
    assert "timed out after 0.5s" in result.reason
    assert time.monotonic() - started < 10
    assert 0.5 <= result.duration < 10
    assert "[timed out after 0.5s]" in result.log_path.read_text()
    pid_file = project / "child.pid"
    if pid_file.exists():
        assert _gone(int(pid_file.read_text()))


def test_background_leftovers_are_killed_after_a_command_ends(tmp_path, project):
    result = run_verify([entry("sleep 30 & echo $! > bg.pid; echo started")], cwd=project, log_dir=tmp_path,
                        task_id="4")[0]
    assert result.passed and result.duration < 10
    assert _gone(int((project / "bg.pid").read_text()))


def test_no_entries_is_an_empty_result(tmp_path, project):
    assert run_verify([], cwd=project, log_dir=tmp_path, task_id="1") == []


@pytest.mark.parametrize("case", ["no bash on PATH", "missing folder"])
def test_environment_problems_raise(tmp_path, project, case):
    if case == "no bash on PATH":
        empty = tmp_path / "empty"
        empty.mkdir()
        kwargs = dict(cwd=project, env={"PATH": str(empty)})
        fragment = "bash not found"
    else:
        kwargs = dict(cwd=tmp_path / "gone")
        fragment = "does not exist"
    with pytest.raises(EnvironmentProblem) as info:
        run_verify([entry("true")], log_dir=tmp_path / "logs", task_id="1", **kwargs)
    assert fragment in info.value.message and info.value.next_command
