"""A run from start to finish through the CLI: checkpoints, a failed verify, a retry, a skip, the end."""

from __future__ import annotations

import json

from test_run_support import cli, disk_state, do_task, to_checkpoint, js, ok, run_dir, say, write_plan


def test_small_plan_end_to_end(project):
    write_plan(project)
    start = js(project, "start", "plan.md", "--batch-size", "2")
    assert start["state"] == "running" and start["batches"] == 2
    assert start["next"] == "clavain-cli run task-start 1"

    (project / "a.txt").write_text("nothing yet\n")
    do_task(project, "1", verify=True)

    ok(project, "task-start", "2")
    r = cli(project, "verify", "2")
    assert r.code == 1 and "halted" in r.err and "retry 2" in r.err
    rd = run_dir(project)
    halt = (rd / "batches" / "halt-1.md").read_text()
    assert "grep -q hello a.txt" in halt and "exit code: 1" in halt and "task 1: Make a file (done" in halt

    r = cli(project, "retry", "2")
    assert r.code == 1 and "user's own reply" in r.err
    say(project, "retry task 2: fix a.txt first")
    ok(project, "retry", "2")
    (project / "a.txt").write_text("hello\n")
    do_task(project, "2", verify=True)

    ok(project, "checkpoint")
    r = cli(project, "task-start", "3")
    assert r.code == 1 and "next: clavain-cli run approve" in r.err
    say(project, "/clavain:execute-plan plan.md")  # a re-invocation is not an approval
    assert cli(project, "approve").code == 1
    say(project, "approve batch 1")
    approved = js(project, "approve")
    assert approved["evidence"]["text"] == "approve batch 1"
    assert approved["evidence"]["source"] == "prompt record (opted in)"
    assert "approve batch 1" in (rd / "batches" / "batch-1.md").read_text()

    ok(project, "task-start", "3")
    ok(project, "task-fail", "3", "--reason", "cannot think today")
    say(project, "skip task 3")
    ok(project, "skip", "3", "--reason", "the user skipped it")
    do_task(project, "4")
    ok(project, "checkpoint")
    assert cli(project, "finish").code == 1
    say(project, "approve batch 2")
    ok(project, "approve")
    fin = js(project, "finish")
    assert fin["state"] == "finished"
    final = (rd / "batches" / "final.md").read_text()
    assert "## Skipped\n- task 3: No verify here (the user skipped it)" in final
    assert "Tasks: 3 done · 1 skipped · 0 failed (of 4)" in final and "retry task 2: fix a.txt first" in final
    assert not (project / ".clavain" / "execute-plan" / "active").exists() or not list((project / ".clavain" / "execute-plan" / "active").iterdir())

    status = js(project, "status", "--run", rd.name)
    assert [t["status"] for t in status["tasks"]] == ["done", "done", "skipped", "done"]
    events = [json.loads(line)["event"] for line in (rd / "journal.jsonl").read_text().splitlines()]
    assert events.count("halted") == 2 and events[-1] == "finished"


def test_outputs_are_copied_hashed_and_named_in_the_next_brief(project):
    write_plan(project)
    ok(project, "start", "plan.md", "--batch-size", "1")
    (project / "a.txt").write_text("x\n")
    do_task(project, "1", "first output\n", verify=True)
    ok(project, "checkpoint")
    say(project, "approve batch 1")
    r = ok(project, "approve")
    stored = run_dir(project) / "tasks" / "task-1.md"
    assert stored.read_text() == "first output\n"
    assert ".clavain/execute-plan/runs/" in r.out and "tasks/task-1.md" in r.out and "first output" not in r.out


def test_task_done_from_stdin_and_git_evidence(git_project):
    write_plan(git_project)
    ok(git_project, "start", "plan.md")
    ok(git_project, "task-start", "1")
    (git_project / "a.txt").write_text("hello\n")
    ok(git_project, "verify", "1")
    done = json.loads(ok(git_project, "task-done", "1", "--output", "-", "--json", stdin="made a.txt\n").out)
    assert done["files_changed"] == ["a.txt"]  # the plan's Phase line, written by the gate, is not the task's
    state = disk_state(git_project)
    assert len(state["tasks"][0]["head_at_start"]) == 40


def test_todos_for_the_task_list_tools(project):
    write_plan(project)
    ok(project, "start", "plan.md")
    ok(project, "task-start", "1")
    todos = json.loads(ok(project, "status", "--todos").out)
    assert [t["status"] for t in todos] == ["in_progress", "pending", "pending", "pending"]
    assert todos[0]["subject"] == todos[0]["content"] == "Task 1: Make a file"
    assert todos[0]["activeForm"].startswith("Working on task 1")


def test_progress_line_in_status(project):
    write_plan(project)
    ok(project, "start", "plan.md", "--batch-size", "2")
    to_checkpoint(project)
    out = ok(project, "status").out
    assert "[#####.....] 2/4 tasks · batch 1/2 · awaiting your approval" in out


def test_repeating_a_step_after_an_unknown_outcome_is_harmless(project):
    """A command whose answer was lost (a crash, a timeout) can be sent again without recording twice."""
    write_plan(project)
    ok(project, "start", "plan.md")
    ok(project, "task-start", "1")
    assert "already started" in ok(project, "task-start", "1").out
    (project / "a.txt").write_text("x\n")
    ok(project, "verify", "1")
    ok(project, "task-done", "1", "--output", "-", stdin="out\n")
    assert "already recorded" in ok(project, "task-done", "1", "--output", "-", stdin="out\n").out
    r = cli(project, "task-done", "1", "--output", "-", stdin="different\n")
    assert r.code == 1 and "next: clavain-cli run task-start 2" in r.err
    journal = (run_dir(project) / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in journal] == ["run_started", "task_started", "verified", "task_done"]


def test_run_without_subcommand_prints_usage(project):
    r = cli(project)
    assert r.code == 2 and "task-start" in r.out


def test_must_haves_are_checked_and_go_into_the_final_report(project):
    from conftest import ROOT

    plan = (ROOT / "examples" / "sample-plan.md").read_text().replace(  # and a truth, which no machine checks
        "**Artifacts:**", "**Truths:**\n- Running `python3 -m greet Ada` prints `Hello, Ada!`\n\n**Artifacts:**", 1)
    write_plan(project, plan)
    ok(project, "start", "plan.md", "--batch-size", "4")
    (project / "greet").mkdir()
    (project / "greet" / "__init__.py").write_text("def greet(name):\n    return f'Hello, {name}!'\n")
    first = js(project, "must-haves")["must_haves"]
    assert first["ok"] is False  # greet/__main__.py, the test and the README do not exist yet
    (project / "greet" / "__main__.py").write_text("import sys\nfrom greet import greet\nprint(greet(sys.argv[1]))\n")
    (project / "tests").mkdir()
    (project / "tests" / "test_greet.py").write_text("assert greet('Ada') == 'Hello, Ada!'\n")
    (project / "README.md").write_text("Run: python3 -m greet Ada\n")
    out = ok(project, "must-haves").out
    assert "Must-Haves: all found (5 checked); 1 not checkable" in out and "found · artifact: greet/__init__.py" in out
    assert "not checkable · truth: Running `python3 -m greet Ada`" in out
    for k, batch in enumerate((("1", "2"), ("3", "4")), start=1):  # the plan's own checkpoint splits them
        for task in batch:
            do_task(project, task, verify=task != "4")
        ok(project, "checkpoint")
        say(project, f"approve batch {k}")
        ok(project, "approve")
    ok(project, "finish")
    final = (run_dir(project) / "batches" / "final.md").read_text()
    assert "## Must-Haves: all found (5 checked)" in final and "greet/__main__.py -> greet" in final
