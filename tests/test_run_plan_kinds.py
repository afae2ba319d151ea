"""What the plan itself says changes how the run goes: GSD checkpoint tasks are the user's, tasks the plan already
checks off are confirmed once at the first checkpoint, prose verify expectations are judged, and a brief carries
everything a task says."""

from __future__ import annotations

from test_run_support import cli, do_task, js, ok, run_dir, say, write_plan

GSD_PLAN = """\
---
phase: 01-login
plan: 02
must_haves:
  truths:
    - "A user can log in"
  artifacts:
    - "the login page looks like the mock-up"
---

<objective>
Log in with email and password.
</objective>

<tasks>

<task type="auto">
  <name>Task 1: Login endpoint</name>
  <files>src/login.ts</files>
  <action>POST handler that checks the password and sets the cookie.</action>
  <verify>curl -X POST localhost:3000/login returns 200</verify>
  <done>Valid credentials return a cookie</done>
</task>

<task type="checkpoint:human-verify" gate="blocking">
  <what-built>Login flow in the browser</what-built>
  <how-to-verify>
  1. Visit /login
  2. Sign in with a test account
  </how-to-verify>
  <resume-signal>Type "approved" or describe issues</resume-signal>
</task>

<task type="auto">
  <name>Task 3: Logout</name>
  <files>src/logout.ts</files>
  <action>Clear the cookie.</action>
</task>

</tasks>
"""


def test_a_gsd_checkpoint_task_is_the_users(project):
    write_plan(project, GSD_PLAN, "PLAN.md")
    brief = ok(project, "start", "PLAN.md").out
    assert "a checkpoint for the user, not work for you: never start it" in brief
    assert "> 1. Visit /login\n> 2. Sign in with a test account" in brief
    assert "<action>POST handler that checks the password and sets the cookie.</action>" in brief  # the whole task
    refused = cli(project, "task-start", "2")
    assert refused.code == 1 and "checkpoint for the user" in refused.err
    assert "next: clavain-cli run task-start 1" in refused.err
    do_task(project, "1")
    assert js(project, "status")["next"] == "clavain-cli run checkpoint"
    ok(project, "checkpoint")
    report = (run_dir(project) / "batches" / "batch-1.md").read_text()
    assert "| 2 | Login flow in the browser | for the user |" in report
    assert "## What the user is asked to do" in report
    assert '> 1. Visit /login\n> 2. Sign in with a test account\n>\n> Reply: Type "approved" or describe issues' in report
    assert "## Must-Haves for the user to check\nThe plan states these in words no machine can check:\n" \
           "- the login page looks like the mock-up" in report
    say(project, "approve batch 1: approved, the login works")
    approved = ok(project, "approve").out
    assert "## Task 3: Logout" in approved
    status = js(project, "status")
    assert [(t["id"], t["status"]) for t in status["tasks"]] == [("1", "done"), ("2", "done"), ("3", "pending")]
    assert status["next"] == "clavain-cli run task-start 3"


SPECKIT_ALL_DONE = """\
# Tasks: Done already

## Phase 1: Setup

- [X] T001 Create the layout in src/app/
- [X] T002 Add the config in src/app/config.py

## Phase 2: User Story 1

- [X] T003 [US1] Write the model in src/app/model.py
- [X] T004 [US1] Write the view in src/app/view.py

## Phase 3: User Story 2

- [X] T005 [US2] Write the export in src/app/export.py
"""


def test_checked_off_tasks_are_confirmed_once_at_the_first_checkpoint(project):
    write_plan(project, SPECKIT_ALL_DONE)
    brief = ok(project, "start", "plan.md").out
    assert "(5 tasks in 3 batches" in brief
    assert "5 task(s) the plan marks done are not redone: T001, T002, T003, T004, T005" in brief
    assert js(project, "status")["next"] == "clavain-cli run checkpoint"
    assert cli(project, "task-start", "T001").code == 1
    ok(project, "checkpoint")
    report = (run_dir(project) / "batches" / "batch-1.md").read_text()
    assert "Approving this checkpoint confirms them all" in report and "T001, T002, T003, T004, T005" in report
    say(project, "approve batch 1: yes, those are all done")
    approved = ok(project, "approve").out
    assert "batch(es) 2, 3 hold only tasks the plan checks off, confirmed with this approval" in approved
    status = js(project, "status")
    assert status["next"] == "clavain-cli run finish"
    assert "finished" in ok(project, "finish").out


MIXED = """\
# Mixed

## Phase 1

- [X] T001 Done before in src/a.py
- [ ] T002 Still to do in src/b.py

## Phase 2

- [X] T003 Done before in src/c.py

## Phase 3

- [ ] T004 To do in src/d.py
"""


def test_later_checked_off_batches_need_no_checkpoint_of_their_own(project):
    write_plan(project, MIXED)
    ok(project, "start", "plan.md")
    do_task(project, "T002")
    ok(project, "checkpoint")
    assert "2 task(s) the plan marks done were not redone: T001, T003" in \
        (run_dir(project) / "batches" / "batch-1.md").read_text()
    say(project, "approve batch 1")
    out = ok(project, "approve").out
    assert "batch(es) 2 hold only" in out and "# Batch 3 of 3" in out
    do_task(project, "T004")
    ok(project, "checkpoint")
    assert "marks done" not in (run_dir(project) / "batches" / "batch-3.md").read_text()


PROSE_VERIFY = """\
# Prose

### Task 1: Count

**Files:**
- Modify: `count.txt`

<verify>
- run: `wc -l < count.txt`
  expect: a non-zero number
</verify>

### Task 2: Use the count

**Depends on:** Task 1

**File:** `report.txt`

- Modify: `package.json` (add `zod`)
"""


def test_prose_expectations_are_run_and_left_to_judge(project):
    write_plan(project, PROSE_VERIFY)
    brief = ok(project, "start", "plan.md", "--batch-size", "1").out
    assert '- `wc -l < count.txt` the plan expects "a non-zero number": judge the output' in brief
    (project / "count.txt").write_text("")
    ok(project, "task-start", "1")
    out = ok(project, "verify", "1").out
    assert "to judge: the plan expects 'a non-zero number'" in out and "verify-1-1.log" in out
    do_out = project / "out.md"
    do_out.write_text("counted: 0 lines, judged as not yet right but recorded\n")
    ok(project, "task-done", "1", "--output", str(do_out))
    ok(project, "checkpoint")
    assert "1/1 passed (1 to judge from the log)" in (run_dir(project) / "batches" / "batch-1.md").read_text()
    say(project, "approve batch 1")
    brief = ok(project, "approve").out
    assert "- Touch: `report.txt`" in brief and "- Modify: `package.json`" in brief and "`zod`" not in \
        brief.split("The task as the plan writes it")[0]
    assert "Read first, the outputs of the tasks it depends on:\n- `.clavain/execute-plan/runs/" in brief
    assert "/tasks/task-1.md` (task 1: Count)" in brief
