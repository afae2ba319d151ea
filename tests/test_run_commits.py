"""A commit per task (``run.commit: task``) and ``run rollback N``, with real git: each commit holds exactly its
task's changes, a kill between the commit and the journal line never yields a second commit, and a rollback
takes back what the run made, and only that, after the user's reply naming it."""

from __future__ import annotations

import json

import pytest

from conftest import run_bin
from records_support import git, setup, state, task, tasks, work
from test_run_support import SKIP_GATE, cli, js, ok, run_dir, say

COMMIT = "run: {commit: task}\n"


@pytest.fixture
def project(git_project):
    setup(git_project, settings=COMMIT)
    (git_project / "other.txt").write_text("the user's file\n")
    git(git_project, "add", "other.txt")
    git(git_project, "commit", "-qm", "other")
    ok(git_project, "start", "plan.md", "--batch-size", "4")
    return git_project


def subjects(project) -> list[str]:
    return git(project, "log", "--format=%s").splitlines()


def files_of(project, rev: str = "HEAD") -> list[str]:
    return git(project, "diff-tree", "-r", "--no-commit-id", "--name-only", rev).split()


def test_each_task_is_committed_with_exactly_its_changes(project):
    (project / "other.txt").write_text("the user's file, edited\n")            # the user's, uncommitted
    (project / "staged.txt").write_text("staged by the user\n")
    git(project, "add", "staged.txt")                                           # the user's, staged
    assert task(project, "1", {"src/a.py": "A = 1\n"}).code == 0
    done = json.loads(task(project, "2", {"src/b.py": "B = 2\n", "src/a.py": "A = 1\nB = 2\n"}, "--json").out)
    assert subjects(project)[:2] == ["task 2: Make b, extend a", "task 1: Make a"]
    assert files_of(project, "HEAD~1") == ["src/a.py"] and files_of(project) == ["src/a.py", "src/b.py"]
    assert done["commit"] == git(project, "rev-parse", "HEAD").strip() == tasks(project)["2"]["commit"]
    message = git(project, "log", "-1", "--format=%B")
    assert f"Clavain-Run: {state(project)['run_id']}" in message and "Clavain-Task: 2 attempt 1" in message
    # what the user had uncommitted or staged stays so; the committed files are clean in the index
    short = git(project, "status", "--short").splitlines()
    assert " M other.txt" in short and "A  staged.txt" in short and not any("src/" in line for line in short)
    assert task(project, "3").code == 0 and subjects(project)[0] == "task 2: Make b, extend a"  # nothing to commit


def test_the_users_own_edit_in_a_file_the_task_changes_stays_uncommitted(project):
    (project / "docs" / "guide.md").write_text("# Guide\n\nthe user's own paragraph\n")
    for task_id in "123":
        task(project, task_id, {"src/a.py": "A = 1\n", "src/b.py": "B\n"} if task_id != "3" else {},
             *(["--unchanged", "a was enough"] if task_id == "2" else []))
    guide = (project / "docs" / "guide.md").read_text().replace("# Guide\n", "# Guide (v2)\n")
    assert task(project, "4", {"docs/guide.md": guide}).code == 0
    assert git(project, "show", "HEAD:docs/guide.md") == "# Guide (v2)\n"   # the task's line, not the user's
    assert "the user's own paragraph" in (project / "docs" / "guide.md").read_text()


def test_a_kill_between_the_commit_and_the_journal_never_makes_a_second_commit(project):
    ok(project, "task-start", "1")
    work(project, {"src/a.py": "A = 1\n", "out.md": "made a\n"})
    killed = run_bin(["run", "task-done", "1", "--output", "out.md"], cwd=project,
                     env={**SKIP_GATE, "CLAVAIN_CRASH_AT": "task-commit"})
    assert killed.code == 137 and subjects(project)[0] == "task 1: Make a"
    assert tasks(project)["1"]["status"] == "running"                 # the journal line was never written
    again = js(project, "task-done", "1", "--output", "out.md")
    assert subjects(project).count("task 1: Make a") == 1
    assert again["commit"] == git(project, "rev-parse", "HEAD").strip()
    assert "was already made (an earlier try stopped before recording it)" in again["notes"][-1]


def at_checkpoint(project):
    task(project, "1", {"src/a.py": "A = 1\n"})
    task(project, "2", {"src/b.py": "B = 2\n", "src/a.py": "A = 1\nB = 2\n"})
    task(project, "3")
    task(project, "4", {"docs/guide.md": "# Guide\n\nby task 4\n"})
    ok(project, "checkpoint")


def test_rollback_after_the_users_reply_restores_the_tasks_start_and_names_what_it_undid(project):
    at_checkpoint(project)
    first = git(project, "rev-parse", "HEAD~2").strip()     # task 1's commit
    refused = cli(project, "rollback", "2")
    assert refused.code == 1 and "`rollback task 2`" in refused.err and subjects(project)[0].startswith("task 4")
    say(project, "rollback task 2")
    out = ok(project, "rollback", "2").out
    assert "the project is back where task 2 started" in out
    assert "files restored: docs/guide.md, src/a.py, src/b.py" in out
    assert "commits undone (still in git's reflog): " in out and "task 4: Docs" in out and "task 2: Make b" in out
    assert git(project, "rev-parse", "HEAD").strip() == first
    assert (project / "src" / "a.py").read_text() == "A = 1\n" and not (project / "src" / "b.py").exists()
    assert (project / "docs" / "guide.md").read_text() == "# Guide\n"
    assert git(project, "status", "--short", "--untracked-files=no").strip() == ""   # index and tree agree
    st = state(project)
    assert st["state"] == "running" and [t["status"] for t in st["tasks"]] == ["done", "pending", "pending",
                                                                                "pending"]
    assert st["decisions"][-1]["action"] == "rollback" and st["decisions"][-1]["task"] == "2"


def test_rollback_leaves_alone_what_the_run_did_not_make(project):
    at_checkpoint(project)
    (project / "docs" / "guide.md").write_text("# Guide\n\nedited by the user after task 4\n")
    (project / "mine.txt").write_text("the user's new file\n")
    say(project, "rollback task 2")
    assert cli(project, "rollback", "2").code == 1          # the changes made while waiting are shown first
    say(project, "rollback task 2")
    out = ok(project, "rollback", "2").out
    assert "left alone (changed since the run's tasks made them, or could not be put back): docs/guide.md" in out
    assert "edited by the user" in (project / "docs" / "guide.md").read_text()
    assert (project / "mine.txt").exists() and (project / "other.txt").read_text() == "the user's file\n"


def test_rollback_refuses_when_commits_the_run_did_not_make_lie_on_top(project):
    at_checkpoint(project)
    work(project, {"mine.txt": "x\n"})
    git(project, "add", "mine.txt")
    git(project, "commit", "-qm", "the user's commit")
    say(project, "rollback task 2")
    cli(project, "rollback", "2")                          # shows the change made while waiting
    say(project, "rollback task 2")
    r = cli(project, "rollback", "2")
    assert r.code == 1 and "commits the run did not make" in r.err and "the user's commit" in r.err
    assert subjects(project)[0] == "the user's commit" and (project / "src" / "b.py").exists()   # nothing moved
    assert state(project)["state"] == "awaiting_approval"


def test_a_rollback_killed_before_its_journal_line_finishes_the_same_way(project):
    at_checkpoint(project)
    first = git(project, "rev-parse", "HEAD~2").strip()
    say(project, "rollback task 2")
    killed = run_bin(["run", "rollback", "2"], cwd=project, env={**SKIP_GATE, "CLAVAIN_CRASH_AT": "rollback"})
    assert killed.code == 137 and state(project)["state"] == "awaiting_approval"
    out = ok(project, "rollback", "2").out
    assert "files restored: docs/guide.md, src/a.py, src/b.py" in out
    assert git(project, "rev-parse", "HEAD").strip() == first and state(project)["state"] == "running"


def test_rollback_of_a_failed_task_without_commits(git_project):
    setup(git_project)
    ok(git_project, "start", "plan.md", "--batch-size", "4")
    task(git_project, "1", {"src/a.py": "A = 1\n"})
    ok(git_project, "task-start", "2")
    work(git_project, {"src/b.py": "half\n", "src/a.py": "broken\n"})
    ok(git_project, "task-fail", "2", "--reason", "b does not build")
    halt = (run_dir(git_project) / "batches" / "halt-1.md").read_text()
    assert "`rollback task 2`" in halt and "clavain-cli run rollback 2" in halt
    say(git_project, "rollback task 2")
    out = ok(git_project, "rollback", "2").out
    assert "files restored: src/a.py, src/b.py" in out and "commits" not in out
    assert (git_project / "src" / "a.py").read_text() == "A = 1\n" and not (git_project / "src" / "b.py").exists()
    assert js(git_project, "status")["next"] == "clavain-cli run task-start 2"


def test_a_task_change_on_the_users_own_uncommitted_line_is_committed_whole_and_says_so(project):
    (project / "docs" / "guide.md").write_text("# Guide, the user's draft\n")
    for task_id in "123":
        task(project, task_id, {"src/a.py": "A = 1\n", "src/b.py": "B\n"} if task_id != "3" else {},
             *(["--unchanged", "a was enough"] if task_id == "2" else []))
    done = json.loads(task(project, "4", {"docs/guide.md": "# Guide, reviewed\n"}, "--json").out)
    assert "committed whole, since the task's changes do not apply to HEAD alone" in done["notes"][-1]
    assert git(project, "show", "HEAD:docs/guide.md") == "# Guide, reviewed\n"
    assert git(project, "status", "--short", "docs").strip() == ""
