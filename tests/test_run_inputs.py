"""Arguments and output files the run refuses before it touches the run: bad timeouts, output that is not
a regular file, output too large to store."""

from __future__ import annotations

import os

import pytest

from conftest import run_bin
from test_run_support import SKIP_GATE, cli, js, ok, run_dir, write_plan


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


def _fifo(p):
    path = p / "out.fifo"
    os.mkfifo(path)
    return str(path)


def _big(p):
    path = p / "big.md"
    path.write_bytes(b"x" * (5 * 2**20 + 1))
    return str(path)


NOT_STORED = [
    ("fifo", _fifo, "not a regular file"),
    ("device", lambda p: "/dev/zero", "not a regular file"),
    ("directory", lambda p: str(p), "not a regular file"),
    ("over 5 MiB", _big, "5,242,881 bytes, over the 5 MiB limit"),
]


@pytest.mark.parametrize("name,make,says", NOT_STORED, ids=[c[0] for c in NOT_STORED])
def test_task_done_refuses_output_that_is_not_a_small_regular_file(project, name, make, says):
    in_task_1(project)
    (project / "a.txt").write_text("x\n")
    ok(project, "verify", "1")
    r = run_bin(["run", "task-done", "1", "--output", make(project)], cwd=project, env=SKIP_GATE, timeout=20)
    assert r.code == 2, (r.out, r.err)
    assert says in r.err and "next: clavain-cli run task-done 1 --output FILE" in r.err
    assert "Traceback" not in r.err
    assert js(project, "status")["tasks"][0]["status"] == "running"  # nothing recorded
    assert not list((run_dir(project) / "tasks").glob("task-1*"))


@pytest.mark.parametrize("size,code", [(5 * 2**20, 0), (5 * 2**20 + 1, 2)])
def test_stdin_output_is_capped_at_5_mib(project, size, code):
    in_task_1(project)
    (project / "a.txt").write_text("x\n")
    ok(project, "verify", "1")
    r = cli(project, "task-done", "1", "--output", "-", stdin="y" * size)
    assert r.code == code, (r.out, r.err)
    if code:
        assert "the output on stdin is 5,242,881 bytes, over the 5 MiB limit" in r.err
        assert "write a short summary" in r.err


def test_output_is_read_before_the_run_is_locked(project):
    """A refused output never waits for the run's lock: another process holding it does not matter."""
    from clavain.core.lockfile import FileLock

    in_task_1(project)
    with FileLock(run_dir(project) / "lock", timeout=5):
        r = run_bin(["run", "task-done", "1", "--output", "/dev/zero"], cwd=project, env=SKIP_GATE, timeout=20)
    assert r.code == 2 and "not a regular file" in r.err, (r.out, r.err)
