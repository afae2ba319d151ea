"""What `run must-haves` says for each kind of result, locked by a golden file.

A found item reads "found", a missing one "MISSING" (with what is missing), and an item the checker cannot
decide (``ok`` is None: prose instead of a file, nothing checkable named) reads "not checkable" with the
checker's detail."""

from __future__ import annotations

import pytest

from conftest import check_golden
from test_run_support import cli, js, normalise, ok, run_dir, say, write_plan

PLAN = """\
# Must-Haves Plan

**Goal:** one of each kind of Must-Have result.

## Must-Haves

**Truths:**
- The report reads well

**Artifacts:**
- `app/core.py` exports `load`
- `app/missing.py` exports `gone`

**Key Links:**
- `app/cli.py` imports `load` from `app.core` and calls `load(`
- `app/other.py` imports `load` from `app.core`
- `the settings page` -> `app/core.py` via the save button

### Task 1: Only task

- [ ] **Step 1: Nothing**
"""


@pytest.fixture
def checked(project):
    write_plan(project, PLAN)
    (project / "app").mkdir()
    (project / "app" / "core.py").write_text("def load():\n    return 1\n")
    (project / "app" / "cli.py").write_text("from app.core import load\n\nprint(load())\n")
    (project / "app" / "other.py").write_text("print('no import here')\n")
    ok(project, "start", "plan.md")
    return project


def test_each_result_kind_reads_as_it_should(checked):
    out = ok(checked, "must-haves").out
    check_golden("run", "must-haves.txt", normalise(out, checked))
    assert "MISSING · artifact: app/missing.py" in out
    assert "not checkable · key link: the settings page -> app/core.py (from 'the settings page'" in out


def test_undecided_items_do_not_fail_the_report(checked):
    report = js(checked, "must-haves")["must_haves"]
    undecided = [k for k in report["key_links"] if k["ok"] is None]
    assert [k["what"] for k in undecided] == ["the settings page -> app/core.py"]
    assert report["ok"] is False  # the missing artifact and the link without an import fail it


def test_a_state_holding_the_report_is_rebuilt_from_the_journal_unchanged(checked):
    """The report is a free-form dict in the state; replaying the journal must give the same state digest."""
    from test_run_support import run_dir

    ok(checked, "must-haves")
    before = (run_dir(checked) / "run.json").read_text()
    (run_dir(checked) / "run.json").unlink()
    status = js(checked, "status")
    assert status["state"] == "running" and not any("tamper" in n for n in status["notes"])
    assert (run_dir(checked) / "run.json").read_text() == before


# ------------------------------------------------------------------------------ at the finish

ONE_TASK = """\
# Greeter

{must_haves}
### Task 1: Write the greeter

**Files:**
- Create: `app/greet.py`

- [ ] **Step 1: Write greet()**
"""

FOUND = "## Must-Haves\n\n**Artifacts:**\n- `app/greet.py` exports `greet`\n"
MISSING = "## Must-Haves\n\n**Artifacts:**\n- `app/greet.py` exports `greet`\n- `app/cli.py` exports `main`\n"
PROSE = "## Must-Haves\n\n**Truths:**\n- Greeting a name says hello\n"
LABEL = ("## Must-Haves\n\n**Artifacts** (files with specific exports):\n- `app/greet.py` exports `greet`\n"
         "- `app/cli.py` exports `main`\n")

CASES = [
    # Must-Haves section, exit code of `run must-haves` at the finish, its headline, the run's state after it
    ("", 0, "the plan states none; nothing was checked", "running"),
    (FOUND, 0, "all found (1 checked)", "running"),
    (PROSE, 0, "nothing could be checked by machine; 1 not checkable, listed for you to check", "running"),
    (MISSING, 1, "NOT all found: 1 of 2 checked missing", "halted"),
    (LABEL, 1, "NOT all found: 1 of 2 checked missing", "halted"),   # the label with a note is read, and checked
]


def at_finish(project, must_haves: str):
    write_plan(project, ONE_TASK.format(must_haves=must_haves))
    ok(project, "start", "plan.md")
    ok(project, "task-start", "1")
    (project / "app").mkdir()
    (project / "app" / "greet.py").write_text("def greet(name):\n    return f'hello {name}'\n")
    (project / "out.md").write_text("wrote app/greet.py\n")
    ok(project, "task-done", "1", "--output", "out.md")
    ok(project, "checkpoint")
    say(project, "approve batch 1")
    ok(project, "approve")


@pytest.mark.parametrize("must_haves, code, headline, after", CASES,
                         ids=["absent", "found", "not checkable", "missing", "label with a note"])
def test_must_haves_say_exactly_what_was_checked(git_project, must_haves, code, headline, after):
    project = git_project
    at_finish(project, must_haves)
    r = cli(project, "must-haves")
    assert (r.code, f"## Must-Haves: {headline}\n" in r.out + r.err) == (code, True), r.out + r.err
    assert js(project, "status")["state"] == after
    if code == 0:
        assert "all found" not in r.out or "checked)" in r.out
        assert js(project, "finish")["state"] == "finished"


def test_a_missing_must_have_halts_and_finish_waits_for_the_users_decision(git_project):
    project = git_project
    at_finish(project, MISSING)
    r = cli(project, "finish")       # finish checks them first
    assert r.code == 1 and "MISSING · artifact: app/cli.py (app/cli.py does not exist)" in r.err
    assert "next: clavain-cli run revise TASK... --note TEXT | clavain-cli run accept --reason TEXT" in r.err
    halt = (run_dir(project) / "batches" / "halt-1.md").read_text()
    check_golden("run", "halt-must-haves.md", normalise(halt, project))
    assert "accept --reason TEXT" in halt
    assert "Reply `revise task N: ...` (naming the tasks), `accept` or `abort`." in halt
    assert cli(project, "finish").code == 1                                  # waits for the decision
    assert cli(project, "accept", "--reason", "the CLI comes later").code == 1   # the user has not said so
    say(project, "accept: the CLI comes in the next plan")
    assert js(project, "accept", "--reason", "the CLI comes in the next plan")["state"] == "running"
    ok(project, "finish")
    final = (run_dir(project) / "batches" / "final.md").read_text()
    assert "Accepted by the user without: app/cli.py (\"the CLI comes in the next plan\")" in final


def test_revise_after_missing_must_haves_reopens_a_finished_task_and_checks_again(git_project):
    project = git_project
    at_finish(project, MISSING)
    assert cli(project, "must-haves").code == 1
    say(project, "revise task 1: add app/cli.py with main()")
    out = js(project, "revise", "1", "--note", "add app/cli.py with main()")
    assert out["state"] == "running" and out["next"] == "clavain-cli run task-start 1"
    ok(project, "task-start", "1")
    (project / "app" / "cli.py").write_text("def main():\n    pass\n")
    ok(project, "task-done", "1", "--output", "out.md", "--unchanged", "app/greet.py was right already")
    ok(project, "checkpoint")                                         # the last batch is checkpointed again
    say(project, "approve batch 1")
    ok(project, "approve")
    assert "all found (2 checked)" in ok(project, "must-haves").out
    assert js(project, "finish")["state"] == "finished"
