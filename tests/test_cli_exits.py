"""How ``clavain-cli`` ends when the command itself cannot: help and version, a missing dependency, Ctrl-C, a
reader that stops reading, a bug. One table of exit codes (``clavain/cli.py``), one line on stderr, never a
traceback unless asked for, and nothing recorded half."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CLI, ROOT, run_cli
from test_run_support import SKIP_GATE, ok, write_plan


@pytest.mark.parametrize("argv, code, shown", [
    ([], 2, "usage: clavain-cli"),
    (["--help"], 0, "usage: clavain-cli"),
    (["--version"], 0, "clavain-cli 0."),
    (["run", "--help"], 0, "usage: clavain-cli run"),
    (["plan"], 2, "clavain-cli plan: name a verb: validate or show\nnext: clavain-cli plan --help"),
    (["run", "task-start"], 2, "the following arguments are required: task\nnext: clavain-cli run task-start --help"),
])
def test_help_version_and_usage_exit_by_the_table(tmp_path, capsys, argv, code, shown):
    r = run_cli(argv, cwd=tmp_path)
    printed = capsys.readouterr().out   # argparse prints help and version on the process's stdout
    assert r.code == code and shown in r.out + printed + r.err
    assert "Traceback" not in r.err


def test_a_missing_dependency_is_one_line_and_exit_3(tmp_path, monkeypatch):
    """A dependency that cannot be imported when the command needs it (here PyYAML, for a plan's frontmatter)."""
    plan = tmp_path / "plan.md"
    plan.write_text("---\nphase: 1\n---\n# P\n\n### Task 1: One\n\n- [ ] **Step 1: do**\n")
    monkeypatch.setitem(sys.modules, "yaml", None)
    r = run_cli(["plan", "show", str(plan)], cwd=tmp_path)
    assert r.code == 3 and r.out == ""
    assert r.err.count("\n") == 1 and "missing Python dependency" in r.err and "yaml" in r.err.lower()


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_is_one_line_and_exit_3_with_a_traceback_only_when_asked(tmp_path, monkeypatch, debug):
    import clavain.commands.plan as plan_commands

    def broken(args, ctx):
        raise RuntimeError("a bug in the command")

    monkeypatch.setattr(plan_commands, "validate_cmd", broken)
    r = run_cli(["plan", "validate", "x.md"], cwd=tmp_path, env={"CLAVAIN_DEBUG": "1"} if debug else {})
    assert r.code == 3
    last = "clavain-cli: internal error: RuntimeError: a bug in the command (set CLAVAIN_DEBUG=1 for a traceback)\n"
    assert r.err.endswith(last)
    assert ("Traceback (most recent call last)" in r.err) is debug
    assert r.err.count("\n") == 1 or debug


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path):
    """``clavain-cli plan show --json big.md | head -c 1``: the pipe closes under the command while it writes more
    than a pipe holds; exit 0, nothing on stderr."""
    plan = tmp_path / "big.md"
    plan.write_text("# Big\n" + "".join(f"\n### Task {i}: Step {i}\n\n- [ ] **Step 1: do {i} " + "x" * 200 + "**\n"
                                         for i in range(1, 401)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}
    proc = subprocess.Popen([str(CLI), "plan", "show", "--json", str(plan)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**env, "CLAVAIN_PYTHON": sys.executable})
    assert proc.stdout.read(1) == b"{"
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0 and err == b"", err


VERIFY_PLAN = """\
# Slow Verify

### Task 1: Wait

- [ ] **Step 1: wait**

<verify>
- run: `echo $$ > verify.pid && sleep ${VERIFY_SLEEP:-0}`
  expect: exit 0
</verify>
"""


def test_ctrl_c_during_a_verify_ends_it_records_nothing_and_the_next_verify_runs(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    write_plan(project, VERIFY_PLAN)
    ok(project, "start", "plan.md")
    ok(project, "task-start", "1")
    journal = next((project / ".clavain" / "execute-plan" / "runs").iterdir()) / "journal.jsonl"
    before = journal.read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}
    env.update(SKIP_GATE, CLAVAIN_PYTHON=sys.executable, VERIFY_SLEEP="60")
    proc = subprocess.Popen([str(CLI), "run", "verify", "1"], cwd=project, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    pid_file = project / "verify.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline and proc.poll() is None, "the verify command did not start"
        time.sleep(0.01)
    verify_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)   # what Ctrl-C in a terminal sends
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err == "clavain-cli: interrupted\n"
    assert journal.read_bytes() == before, "an interrupted verify recorded something"
    deadline = time.monotonic() + 10
    while _alive(verify_pid):
        assert time.monotonic() < deadline, "the verify command goes on after Ctrl-C"
        time.sleep(0.01)
    pid_file.unlink()
    r = ok(project, "verify", "1", "--json")
    assert json.loads(r.out)["results"][0]["passed"] is True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))  # a zombie is gone


def test_the_exit_code_table_is_the_one_in_the_readme():
    from clavain.cli import EXIT_BAD_INPUT, EXIT_CODES, EXIT_ENVIRONMENT, EXIT_OK, EXIT_REFUSED
    from clavain.core.errors import BadInput, EnvironmentProblem, Refused

    assert dict(EXIT_CODES) == {Refused: EXIT_REFUSED, BadInput: EXIT_BAD_INPUT, EnvironmentProblem: EXIT_ENVIRONMENT}
    readme = (ROOT / "README.md").read_text()
    for code, meaning in ((EXIT_OK, "done"), (EXIT_REFUSED, "refused"), (EXIT_BAD_INPUT, "bad input"),
                          (EXIT_ENVIRONMENT, "environment problem"), (130, "interrupted")):
        assert f"| {code} | {meaning}" in readme
