"""Ticks in the plan (``run.tick_plan``; on by default for spec-kit ``tasks.md``): ``task-done`` ticks the task's
checkbox, and a tick is never a change of the plan for the pinned digest, while runs pinned by earlier versions
keep the digest they pinned."""

from __future__ import annotations

import pytest

from conftest import run_bin
from records_support import PLAN, setup, state, task, tasks
from test_run_support import SKIP_GATE, cli, js, ok, say

SPECKIT = """\
# Tasks: Albums

## Phase 1: Setup

- [ ] T001 Create the albums table in db/albums.sql
- [ ] T002 [P] List albums in web/home.html
- [X] T003 Write the README
"""

CASES = [
    # plan file, plan, settings, task, its work, the plan's lines after task-done
    ("specs/001-albums/tasks.md", SPECKIT, "", "T001", {"db/albums.sql": "create table albums (id int);\n"},
     ["- [X] T001 Create the albums table in db/albums.sql", "- [ ] T002 [P] List albums in web/home.html"]),
    ("specs/001-albums/tasks.md", SPECKIT, "run: {tick_plan: false}\n", "T001", {"db/albums.sql": "x\n"},
     ["- [ ] T001 Create the albums table in db/albums.sql"]),
    ("plan.md", PLAN, "run: {tick_plan: true}\n", "2", {"src/a.py": "A\n", "src/b.py": "B\n"},
     ["- [x] **Step 1: Write a**", "- [x] **Step 1: Write b**", "- [x] **Step 2: Call b from a**",
      "- [ ] **Step 1: Think it over**"]),
    ("plan.md", PLAN, "", "2", {"src/a.py": "A\n", "src/b.py": "B\n"}, ["- [ ] **Step 1: Write b**"]),
]


@pytest.mark.parametrize("name, plan, settings, task_id, files, lines", CASES,
                         ids=["speckit default", "speckit off", "steps on", "off by default"])
def test_task_done_ticks_the_plan_when_asked_and_the_pin_holds(git_project, name, plan, settings, task_id, files,
                                                                lines):
    setup(git_project, plan, settings=settings, name=name)
    ok(git_project, "start", name, "--batch-size", "5")
    if task_id == "2":
        task(git_project, "1", {"src/a.py": "A = 0\n"})
    assert task(git_project, task_id, files).code == 0
    text = (git_project / name).read_text()
    for line in lines:
        assert line in text.splitlines(), (line, text)
    status = js(git_project, "status")
    assert status["state"] == "running" and status["halt"] is None      # a tick is not a change of the plan
    assert tasks(git_project)[task_id]["files_changed"] == sorted(files)  # and not the task's change either


def test_a_tick_by_hand_is_no_plan_change_but_another_edit_is(git_project):
    setup(git_project)
    ok(git_project, "start", "plan.md")
    plan = git_project / "plan.md"
    plan.write_text(plan.read_text().replace("- [ ] **Step 1: Think it over**", "- [x] **Step 1: Think it over**"))
    assert js(git_project, "status")["state"] == "running"
    plan.write_text(plan.read_text().replace("Think it over", "Think it over twice"))
    assert js(git_project, "status")["halt"]["kind"] == "plan_changed"


def test_a_run_pinned_by_an_earlier_version_keeps_its_digest(git_project, monkeypatch):
    """Earlier versions pinned the plan with its ticks; such a run neither ticks nor reads a tick as nothing."""
    from clavain.core.digest import plan_digest
    from clavain.run import engine

    setup(git_project)
    monkeypatch.setattr(engine, "run_settings", lambda config, plan: {})   # what an earlier version recorded
    ok(git_project, "start", "plan.md")
    pinned = state(git_project)
    assert "pin_ticks" not in pinned and pinned["plan_sha256"] == plan_digest((git_project / "plan.md").read_text())
    plan = git_project / "plan.md"
    plan.write_text(plan.read_text().replace("- [ ] **Step 1: Think it over**", "- [x] **Step 1: Think it over**"))
    assert js(git_project, "status")["halt"]["kind"] == "plan_changed"


def test_replan_keeps_a_task_the_run_ticked(git_project):
    setup(git_project, settings="run: {tick_plan: true}\n")
    ok(git_project, "start", "plan.md", "--batch-size", "4")
    task(git_project, "1", {"src/a.py": "A = 1\n"})
    plan = git_project / "plan.md"
    assert "- [x] **Step 1: Write a**" in plan.read_text()
    plan.write_text(plan.read_text().replace("Update the guide", "Update the guide and the index"))
    assert js(git_project, "status")["halt"]["kind"] == "plan_changed"
    say(git_project, "replan")
    assert js(git_project, "replan")["kept"] == ["1"]


def test_a_tick_a_kill_kept_from_being_written_is_written_when_task_done_is_repeated(git_project):
    setup(git_project, SPECKIT, name="tasks.md")
    ok(git_project, "start", "tasks.md")
    ok(git_project, "task-start", "T001")
    (git_project / "db").mkdir()
    (git_project / "db" / "albums.sql").write_text("x\n")
    (git_project / "out.md").write_text("made the table\n")
    killed = run_bin(["run", "task-done", "T001", "--output", "out.md"], cwd=git_project,
                     env={**SKIP_GATE, "CLAVAIN_CRASH_AT": "plan-tick"})
    assert killed.code == 137 and tasks(git_project)["T001"]["status"] == "done"
    assert "- [ ] T001" in (git_project / "tasks.md").read_text()
    again = cli(git_project, "task-done", "T001", "--output", "out.md")
    assert again.code == 0 and "already recorded as done" in again.out
    assert "- [X] T001" in (git_project / "tasks.md").read_text()


SETTINGS = [
    # config text, exit code of run start, what it says
    ("run: {commit: tasks}\n", 2, "config.yaml:1: run.commit is 'tasks'; use task (a commit per task) or none"),
    ("run:\n  tick_plan: maybe\n", 2, "config.yaml:2: run.tick_plan is 'maybe'; use true or false"),
    ("run: [commit]\n", 2, "`run` must be a mapping"),
    ("run:\n  commit: none\n  ticks: true\n", 0,
     "warning: .clavain/config.yaml:3: unknown setting run.ticks is left out"),
]


@pytest.mark.parametrize("config, code, says", SETTINGS, ids=["commit", "tick_plan", "not a mapping", "unknown"])
def test_run_settings_are_checked_with_the_line_to_fix(git_project, config, code, says):
    setup(git_project)
    (git_project / ".clavain" / "config.yaml").write_text(config)
    r = cli(git_project, "start", "plan.md")
    assert (r.code, says in r.out + r.err) == (code, True), r.out + r.err
