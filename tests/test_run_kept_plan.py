"""The plan a run read, kept in its folder (``plan.json``, pinned by digest in the journal): later commands use it
instead of reading the plan again, and only while both it and the plan's text are the ones the run pinned."""

from __future__ import annotations

import json

from clavain.run.folder import RunFolder
from test_run_support import SMALL_PLAN, disk_plan, ok, run_dir, write_plan

DATED = "---\ndate: 2025-01-05\nreviewed: 2025-01-06T10:00:00Z\ntags: [a, b]\n---\n" + SMALL_PLAN   # YAML dates


def folder_of(project) -> RunFolder:
    return RunFolder(project, run_dir(project).name)


def test_the_run_keeps_the_plan_it_read_and_next_takes_it_from_there(project, monkeypatch):
    write_plan(project, DATED)   # YAML dates in the frontmatter: kept as pydantic writes them
    started = ok(project, "start", "plan.md").out
    folder = folder_of(project)
    kept = disk_plan(project)
    from clavain.plan.reader import read_plan

    assert kept == json.loads(read_plan(project / "plan.md").model_dump_json())   # as the reader reads it
    assert kept["frontmatter"]["date"] == "2025-01-05" and kept["sha256"] == folder.load().state.plan_sha256
    from clavain.plan import reader

    def no_reader(*args, **kwargs):
        raise AssertionError("the plan was read again")

    monkeypatch.setattr(reader, "read_plan", no_reader)
    brief = ok(project, "next").out
    assert "## Task 1: Make a file" in brief and brief.split("## Order")[1] == started.split("## Order")[1]


def test_a_kept_plan_that_was_changed_is_not_used(project):
    write_plan(project)
    ok(project, "start", "plan.md")
    folder = folder_of(project)
    folder.plan_json.write_text(folder.plan_json.read_text().replace("Make a file", "Delete everything"))
    brief = ok(project, "next").out
    assert "Task 1: Make a file" in brief and "Delete everything" not in brief


def test_replan_reads_the_changed_plan_and_keeps_that_one(project):
    from test_run_support import say

    write_plan(project)
    ok(project, "start", "plan.md")
    before = json.loads(folder_of(project).plan_json.read_text())["sha256"]
    (project / "plan.md").write_text(SMALL_PLAN.replace("### Task 4: Last one", "### Task 4: The very last one"))
    ok(project, "status")   # the change halts the run
    say(project, "replan")
    ok(project, "replan")
    kept = disk_plan(project)
    assert kept["sha256"] != before and kept["tasks"][3]["title"] == "The very last one"
    assert folder_of(project).load().state.plan_json_sha256 is not None
