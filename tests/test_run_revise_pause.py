"""The ways forward when the user asks for something else than approve: revise reopens tasks with the user's note,
pause records the model's question and resume goes on after the answer; diff shows what changed; changes made
while the run waited are shown once; the plugin's own files are pinned for the run."""

from __future__ import annotations

import json
import subprocess

import pytest

from test_run_support import cli, disk_state, do_task, events, js, ok, run_dir, say, to_checkpoint, write_plan


def at_checkpoint_in_git(project):
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "plan"], cwd=project,
                   check=True)
    ok(project, "start", "plan.md", "--batch-size", "2")
    to_checkpoint(project)


@pytest.fixture
def project(git_project):
    write_plan(git_project)
    return git_project


def test_revise_reopens_the_tasks_with_the_users_note_and_checkpoints_again(project):
    at_checkpoint_in_git(project)
    assert cli(project, "revise", "2", "--note", "say hello twice").code == 1   # nobody has said so
    say(project, "revise task 2: say hello twice")
    out = js(project, "revise", "2", "--note", "say hello twice")
    assert out["state"] == "running" and out["tasks"] == ["2"] and out["next"] == "clavain-cli run task-start 2"
    state = disk_state(project)
    assert [t["status"] for t in state["tasks"]] == ["done", "pending", "pending", "pending"]
    assert state["feedback"] == [{"tasks": ["2"], "note": "say hello twice", "batch": 1,
                                  "time": state["decisions"][0]["time"]}]
    do_task(project, "2", verify=True, files={"a.txt": "hi\nhello\nhello\n"})
    assert cli(project, "task-start", "3").code == 1      # the batch is checkpointed again first
    ok(project, "checkpoint")
    say(project, "approve batch 1")
    assert js(project, "approve")["batch"] == 2


@pytest.mark.parametrize("argv,says", [
    (["revise", "3", "--note", "x"], "not in batch 1"),
    (["revise", "9", "--note", "x"], "is not in the plan"),
])
def test_revise_only_reopens_tasks_of_the_batch_under_review(project, argv, says):
    at_checkpoint_in_git(project)
    say(project, "revise task 3: x")
    r = cli(project, *argv)
    assert r.code in (1, 2) and says in r.err, r.err


def test_revise_needs_the_reply_to_name_those_tasks(project):
    at_checkpoint_in_git(project)
    say(project, "revise task 1: other")
    r = cli(project, "revise", "2", "--note", "x")
    assert r.code == 1 and "is not the reply `revise task 2: ...`" in r.err


def test_pause_waits_for_the_users_answer_and_resume_goes_on(project):
    ok(project, "start", "plan.md", "--batch-size", "2")
    ok(project, "task-start", "1")
    out = js(project, "pause", "--reason", "Which database should task 1 use?")
    assert out["state"] == "paused" and "clavain-cli run resume" in out["next"]
    assert cli(project, "task-done", "1", "--output", "plan.md").code == 1   # nothing moves while paused
    assert cli(project, "resume").code == 1                                # the user has not answered
    say(project, "resume: use SQLite")
    out = js(project, "resume")
    assert out["state"] == "running" and "SQLite" in out["evidence"]["text"]


def test_changes_made_while_waiting_are_shown_once_and_the_next_reply_accepts_them(project):
    at_checkpoint_in_git(project)
    say(project, "approve batch 1")
    (project / "late.txt").write_text("written while the run waited\n")
    r = cli(project, "approve")
    assert r.code == 1 and "the project changed while the run waited for the user: late.txt" in r.err
    report = sorted((run_dir(project) / "batches").glob("changes-*.md"))
    assert len(report) == 1 and "`late.txt`" in report[0].read_text()
    assert cli(project, "approve").code == 1       # the reply came before the user saw the change
    say(project, "approve batch 1")
    assert js(project, "approve")["state"] == "running"


def test_diff_shows_the_batch_and_a_task(project):
    at_checkpoint_in_git(project)
    (project / "before.txt").write_text("not the run's\n")
    batch = js(project, "diff")   # since the batch's first task started: everything the project shows
    assert batch["changed"] == ["a.txt", "before.txt", "out-1.md", "out-2.md"]
    task = ok(project, "diff", "1").out   # a task: its own changes, without its output file (stored in the run)
    assert task.startswith("task 1: 1 file(s) changed") and "+hi" in task and "out-1.md" not in task
    assert js(project, "diff", "2")["changed"] == ["a.txt"]


def test_diff_outside_git_says_so(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    write_plan(project)
    ok(project, "start", "plan.md")
    assert "not a git repository" in ok(project, "diff").out


def test_the_plugins_files_are_pinned_for_the_run(project, monkeypatch):
    """A change to the plugin's own files under the same version halts the run; a new version is an update."""
    from clavain.run import plugin

    ok(project, "start", "plan.md")
    real = plugin.fingerprint()
    monkeypatch.setattr(plugin, "fingerprint", lambda root=plugin.ROOT: {**real, "version": "9.9.9"})
    out = js(project, "status")
    assert out["state"] == "running" and any("updated during the run" in n for n in out["notes"])
    monkeypatch.setattr(plugin, "fingerprint", lambda root=plugin.ROOT: {"version": "9.9.9", "digest": "0" * 64})
    r = cli(project, "task-start", "1")
    assert r.code == 1 and "the plugin's files changed during the run" in r.err
    assert js(project, "status")["halt"]["kind"] == "plugin_changed"
    for _ in range(3):   # every later command while it stands: the one halt, not one more each time
        cli(project, "next")
        cli(project, "task-start", "1")
    assert sorted(p.name for p in (run_dir(project) / "batches").glob("halt-*.md")) == ["halt-1.md"]
    assert [e for e, _ in events(run_dir(project))].count("halted") == 1
