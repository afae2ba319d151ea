"""Arguments and output files the run refuses before it touches the run: bad timeouts, output that is not
a regular file, output too large to store."""

from __future__ import annotations

import pytest

from test_run_support import cli, ok, write_plan


def in_task_1(p):
    write_plan(p)
    ok(p, "start", "plan.md", "--batch-size", "2")
    ok(p, "task-start", "1")


@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "inf", "-inf", "soon", "0.0"])
def test_verify_timeout_must_be_finite_and_positive(project, timeout):
    in_task_1(project)
    r = cli(project, "verify", "1", f"--timeout={timeout}")
    assert r.code == 2, (r.out, r.err)
    assert "--timeout" in r.err and "above 0" in r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize("timeout", ["0.5", "30", "1e2"])
def test_verify_timeout_accepts_positive_seconds(project, timeout):
    in_task_1(project)
    (project / "a.txt").write_text("x\n")
    r = cli(project, "verify", "1", "--timeout", timeout)
    assert r.code == 0, (r.out, r.err)
