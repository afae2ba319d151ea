"""SIGKILL at random points of a long scripted run, many times: no acknowledged step is lost, the journal
chain stays whole, and the run resumes to the end."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from conftest import CLI
from test_run_support import SKIP_GATE, js, run_dir, say

TASKS = 12


def long_plan(n: int) -> str:
    parts = ["# Long Plan\n\n**Goal:** many small steps.\n"]
    for i in range(1, n + 1):
        parts.append(f"\n### Task {i}: Step {i}\n\n- [ ] **Step 1: do {i}**\n")
        if i % 3 == 0:
            parts.append("\n<verify>\n- run: `true`\n  expect: exit 0\n</verify>\n")
    return "".join(parts)


def spawn(project, argv, stdin=""):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}
    env.update(SKIP_GATE, CLAVAIN_PYTHON=sys.executable)
    return subprocess.Popen([str(CLI), "run", *argv], cwd=project, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def attempt(project, argv, rng, stdin="", kill_rate=0.35):
    """Run one command; sometimes SIGKILL it at a random moment. Returns the exit code, or None if killed."""
    proc = spawn(project, argv)
    if rng.random() < kill_rate:
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(stdin)
            return None
    out, err = proc.communicate(stdin, timeout=60)
    assert proc.returncode in (0, 1), f"{argv}: {proc.returncode}\n{out}\n{err}"
    return proc.returncode


@pytest.mark.parametrize("seed", [20261125])
def test_sigkill_anywhere_loses_nothing(project, seed):
    rng = random.Random(seed)
    (project / "plan.md").write_text(long_plan(TASKS))
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text("approval: {evidence: prompt-record}\n")
    while attempt(project, ["start", "plan.md", "--batch-size", "3"], rng, kill_rate=0.2) is None:
        if (project / ".clavain" / "execute-plan" / "active").is_dir() and list((project / ".clavain" / "execute-plan" / "active").iterdir()):
            break
    run_id = run_dir(project).name
    acknowledged: list[tuple[str, str]] = []
    kills = 0
    for _ in range(400):
        st = js(project, "status", "--run", run_id)
        if st["state"] == "finished":
            break
        if st["state"] == "awaiting_approval":
            say(project, f"approve batch {st['batch']}")
            argv, ack = ["approve"], ("approved", str(st["batch"]))
        else:
            words = st["next"].split()
            cmd = words[2]
            task = words[3] if len(words) > 3 and cmd not in ("checkpoint", "finish") else ""
            argv = [cmd, task] if task else [cmd]
            if cmd == "task-done":
                argv += ["--output", "-"]
            ack = ({"task-start": "task_started", "task-done": "task_done", "verify": "verified",
                    "checkpoint": "checkpoint", "finish": "finished"}[cmd], task or str(st["batch"]))
        code = attempt(project, [*argv, "--run", run_id], rng, stdin=f"output of {argv}\n")
        if code is None:
            kills += 1
        elif code == 0:
            acknowledged.append(ack)
    else:
        raise AssertionError("the run did not finish")
    print(f"{kills} kills, {len(acknowledged)} acknowledged steps")
    assert kills >= 8, "the test killed too rarely to mean anything"
    from clavain.run.journal import Journal

    entries = Journal(run_dir(project) / "journal.jsonl").verify()
    recorded = [(e["event"], str(e["data"].get("task") or e["data"].get("batch") or "")) for e in entries]
    final = json.loads((run_dir(project) / "run.json").read_text())["state"]
    approvals = [str(d["batch"]) for d in final["decisions"] if d["action"] == "approve"]
    for event, key in acknowledged:
        if event == "finished":
            assert event in [r[0] for r in recorded]
        elif event == "approved":
            assert key in approvals, f"acknowledged approval of batch {key} is not in the journal"
        else:
            assert (event, key) in recorded, f"acknowledged {event} {key} is not in the journal"
    # exactly one checkpoint and one approval per batch, in order
    assert [r[1] for r in recorded if r[0] == "checkpoint"] == ["1", "2", "3", "4"]
    assert approvals == ["1", "2", "3", "4"]
    assert final["state"] == "finished" and all(t["status"] == "done" for t in final["tasks"])
    assert final["approved_batches"] == [1, 2, 3, 4]
    # one event per step, none twice: a repeated command after a kill did not record its step again
    starts = [r for r in recorded if r[0] == "task_started"]
    assert len(starts) == len(set(starts)) == TASKS
