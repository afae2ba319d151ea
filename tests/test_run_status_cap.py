"""`run status` on a long plan lists the batches around the work and counts the rest; `--json` keeps all."""

from __future__ import annotations

import pytest

from conftest import check_golden
from test_run_support import do_task, js, normalise, ok, say, write_plan


def long_plan(n: int) -> str:
    parts = ["# Long plan\n\n**Goal:** many tasks.\n"]
    parts += [f"\n### Task {i}: Step number {i}\n\n- [ ] **Step 1: do step {i}**\n" for i in range(1, n + 1)]
    return "".join(parts)


def in_batch_3(project):
    """Batches of 5: batches 1 and 2 approved, task 11 done and task 12 running."""
    ok(project, "start", "plan.md", "--batch-size", "5")
    for k, first in enumerate((1, 6), start=1):
        for task in range(first, first + 5):
            do_task(project, str(task))
        ok(project, "checkpoint")
        say(project, f"approve batch {k}")
        ok(project, "approve")
    do_task(project, "11")
    ok(project, "task-start", "12")
    return 1000


def one_big_batch(project):
    """A single batch of 1,000 tasks with tasks 1..30 done and task 31 running."""
    ok(project, "start", "plan.md", "--batch-size", "1000")
    for task in range(1, 31):
        do_task(project, str(task))
    ok(project, "task-start", "31")
    return 1000


CASES = {"status-long-batches.txt": in_batch_3, "status-long-one-batch.txt": one_big_batch}


@pytest.mark.parametrize("name", CASES)
def test_status_of_a_long_plan_is_capped(project, name):
    write_plan(project, long_plan(1000))
    total = CASES[name](project)
    out = ok(project, "status").out
    check_golden("run", name, normalise(out, project))
    assert len(out.splitlines()) < 40
    assert len(js(project, "status")["tasks"]) == total


@pytest.mark.parametrize("n,capped", [(40, False), (41, True)])
def test_forty_tasks_are_listed_in_full_and_forty_one_are_capped(project, n, capped):
    write_plan(project, long_plan(n))
    ok(project, "start", "plan.md", "--batch-size", "5")
    out = ok(project, "status").out
    listed = [i for i in range(1, n + 1) if f"task {i}: Step number {i}" in out]
    if capped:
        assert len(listed) < n and n not in listed
        assert "status --json lists every task" in out
    else:
        assert listed == list(range(1, n + 1))
        assert "lists every task" not in out
    assert len(js(project, "status")["tasks"]) == n
