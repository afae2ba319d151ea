"""A real superpowers plan executed from start to finish through the real CLI subprocess: every
checkpoint, one failed verify (a real subprocess), a retry, a failed task that the user skips."""

from __future__ import annotations

import json
import shutil

from conftest import SHARED_PLANS, run_bin
from test_run_support import SKIP_GATE, disk_state, run_dir, say

PLAN = "2026-03-23-codex-app-compatibility.md"
VERIFY = "\n<verify>\n- run: `test -s done-1.txt && cat done-1.txt`\n  expect: contains \"task one\"\n</verify>\n"


def real_plan(project):
    text = (SHARED_PLANS / PLAN).read_text()
    head, sep, rest = text.partition("### Task 2")
    assert sep, "the plan's second task heading moved"
    (project / "plan.md").write_text(head + VERIFY + "\n" + sep + rest)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text("approval: {evidence: prompt-record}\n")  # no transcripts here


def bin_(project, *argv, stdin=""):
    return run_bin(["run", *argv], cwd=project, env=SKIP_GATE, stdin=stdin)


def must(project, *argv, stdin=""):
    r = bin_(project, *argv, stdin=stdin)
    assert r.code == 0, f"{argv}: {r.code}\n{r.out}\n{r.err}"
    return json.loads(r.out) if "--json" in argv else r.out


def test_real_plan_from_start_to_finish(git_project):
    project = git_project
    real_plan(project)
    start = must(project, "start", "plan.md", "--json")
    assert start["tasks"] == 8 and start["batches"] == 3
    shown = json.loads(run_bin(["plan", "show", "plan.md", "--json"], cwd=project).out)
    files = {t["id"]: t["files"] for t in shown["tasks"]}
    failed_once = skipped = False
    steps = 0
    while True:
        steps += 1
        assert steps < 200
        st = must(project, "status", "--json", "--run", start["run_id"])
        nxt = st["next"]
        if st["state"] == "finished":
            break
        if st["state"] == "awaiting_approval":
            assert bin_(project, "approve").code == 1  # nobody has said anything yet
            say(project, f"approve batch {st['batch']}: looks fine, continue")
            must(project, "approve")
            continue
        if st["state"] == "halted":
            task = st["halt"]["task"]
            if st["halt"]["kind"] == "verify_failed":
                say(project, f"retry task {task}")
                must(project, "retry", task)
                (project / "done-1.txt").write_text("task one\n")
            else:
                say(project, f"skip task {task}")
                must(project, "skip", task, "--reason", "the user chose to skip")
                skipped = True
            continue
        if nxt.endswith("finish"):
            final = must(project, "finish", "--json")
            assert final["state"] == "finished"
            continue
        if nxt.endswith("checkpoint"):
            must(project, "checkpoint")
            continue
        word, task = nxt.split()[2:4]
        if word == "task-start":
            must(project, "task-start", task)
        elif word == "verify":
            r = bin_(project, "verify", task)
            if r.code == 1:
                assert not failed_once and "halted" in r.err
                failed_once = True
        elif word == "task-done":
            if task == "5" and not skipped:
                must(project, "task-fail", task, "--reason", "the doc it edits does not exist here")
                continue
            (project / f"work-{task}.txt").write_text(f"work of task {task}\n")
            for name in files[task]:   # the task's own work: the files the plan says it changes
                (project / name).parent.mkdir(parents=True, exist_ok=True)
                with open(project / name, "a") as fh:
                    fh.write(f"changed by task {task}\n")
            must(project, "task-done", task, "--output", "-", stdin=f"task {task}: wrote work-{task}.txt\n")
        else:
            raise AssertionError(nxt)
    assert failed_once and skipped
    rd = run_dir(project)
    assert sorted(p.name for p in (rd / "batches").iterdir()) == [
        "batch-1.md", "batch-2.md", "batch-3.md", "final.md", "halt-1.md", "halt-2.md"]
    final = (rd / "batches" / "final.md").read_text()
    assert final.count("| done |") == 7 and "Tasks: 7 done · 1 skipped · 0 failed (of 8)" in final
    assert "(the user chose to skip)" in final and "approve batch 2: looks fine, continue" in final
    halt = (rd / "batches" / "halt-1.md").read_text()
    assert "test -s done-1.txt" in halt and "exit code: 1" in halt
    task3 = disk_state(git_project)["tasks"][2]
    assert task3["files_changed"] == ["skills/finishing-a-development-branch/SKILL.md", "work-3.txt"]
    assert len(task3["head_at_start"]) == 40
