"""Briefs and reports locked by golden files (times and run ids normalised).

CLAVAIN_UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import pytest

from conftest import check_golden
from test_run_support import cli, do_task, normalise, ok, run_dir, say, to_checkpoint, write_plan


@pytest.fixture
def scripted(project):
    """The small plan taken through every kind of report, keeping each one's text."""
    texts = {}
    write_plan(project)
    texts["brief-1.md"] = ok(project, "start", "plan.md", "--batch-size", "2").out
    to_checkpoint(project)
    texts["status-checkpoint.txt"] = ok(project, "status").out
    say(project, "approve batch 1. Looks right, go on with batch 2.")
    texts["approve.txt"] = ok(project, "approve", "--note", "reviewed the diff").out
    rd = run_dir(project)
    texts["batch-1.md"] = (rd / "batches" / "batch-1.md").read_text()
    ok(project, "task-start", "3")
    ok(project, "task-fail", "3", "--reason", "the step needs a decision the plan does not make")
    texts["halt-1.md"] = (rd / "batches" / "halt-1.md").read_text()
    say(project, "skip task 3")
    ok(project, "skip", "3", "--reason", "decided later")
    do_task(project, "4")
    ok(project, "checkpoint")
    say(project, "approve batch 2")
    ok(project, "approve")
    ok(project, "finish")
    texts["final.md"] = (rd / "batches" / "final.md").read_text()
    return project, texts


NAMES = ["brief-1.md", "status-checkpoint.txt", "approve.txt", "batch-1.md", "halt-1.md", "final.md"]


@pytest.mark.parametrize("name", NAMES)
def test_rendered_text_matches_golden(scripted, name):
    project, texts = scripted
    check_golden("run", name, normalise(texts[name], project))


def test_verify_failure_halt_report(project):
    write_plan(project)
    ok(project, "start", "plan.md")
    ok(project, "task-start", "1")
    assert cli(project, "verify", "1").code == 1
    report = (run_dir(project) / "batches" / "halt-1.md").read_text()
    check_golden("run", "halt-verify.md", normalise(report, project))


# A model that shows a report whole, as written, has shown its closing line last: the user's natural reply to it
# ("looks good", "yes, skip it") can count. A line after it (a ``next:`` for the model, the user's earlier words)
# would leave every natural reply refused.
SHOWN_WHOLE = [("batch-1.md", "approve", 1, ()), ("halt-1.md", "retry", 2, ("3",)), ("halt-1.md", "skip", 2, ("3",)),
               ("halt-1.md", "abort", 2, ())]


@pytest.mark.parametrize("name,decision,batch,tasks", SHOWN_WHOLE, ids=[f"{r[0]} {r[1]}" for r in SHOWN_WHOLE])
def test_a_report_shown_whole_ends_with_its_closing_line(scripted, name, decision, batch, tasks):
    from clavain.run.replies import asked_for

    _, texts = scripted
    assert asked_for(texts[name], decision, batch, tasks), texts[name].strip().splitlines()[-1]
