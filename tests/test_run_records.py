"""What a run records about each task, with real git: the changes measured from the task's own start, declared
files left untouched (refused, then passed with a reason the user reads), a task with no change, reports that
are never rewritten, and the counts of the final report."""

from __future__ import annotations

import pytest

from conftest import check_golden
from records_support import PLAN, fail_and_skip, git, reports, setup, state, task, tasks, work
from test_run_support import cli, do_task, js, normalise, ok, run_dir, say, write_plan

# task, its work (written after task-start), and what the run must record as the task's own changes
CHANGES = [
    ("1", {"src/a.py": "A = 1\n"}, ["src/a.py"]),
    # untracked files count; ignored ones (build/) and the plan's Phase line do not; README is only read
    ("2", {"src/b.py": "B = 2\n", "src/a.py": "A = 1\nfrom src.b import B\n", "src/gen/c.json": "{}\n",
           "build/cache.bin": "x"}, ["src/a.py", "src/b.py", "src/gen/c.json"]),
    ("3", {}, []),
    ("4", {"docs/guide.md": "# Guide\n\nHow to use a and b.\n"}, ["docs/guide.md"]),
]


@pytest.fixture
def project(git_project):
    setup(git_project)
    ok(git_project, "start", "plan.md", "--batch-size", "4")
    return git_project


def test_each_task_counts_only_its_own_changes(project):
    (project / "notes.txt").write_text("the user's, before any task\n")   # not any task's
    for task_id, files, expected in CHANGES:
        if task_id == "2":   # the Phase line rewritten mid-task is not a change of the plan
            plan = (project / "plan.md").read_text()
            (project / "plan.md").write_text(plan.replace("**Phase:** executing", "**Phase:** executing "))
        r = task(project, task_id, files)
        assert r.code == 0, r.err
        assert tasks(project)[task_id]["files_changed"] == expected, task_id
        assert (f"{len(expected)} file(s) changed since the task started" if expected else
                "no file changed since the task started") in r.out


def test_the_output_file_written_into_the_project_is_not_the_tasks_change(project):
    ok(project, "task-start", "1")
    work(project, {"src/a.py": "A = 1\n", "out-1.md": "made src/a.py\n"})
    done = js(project, "task-done", "1", "--output", "out-1.md")
    assert done["files_changed"] == ["src/a.py"]
    assert "the output file out-1.md is not counted as a change of the task" in done["notes"][0]


UNTOUCHED = [
    # task, its work, task-done arguments, exit code, what it says
    ("1", {}, [], 1, "task 1 declares file `src/a.py` that it did not change"),
    ("1", {"src/a.py": "A = 1\n"}, [], 0, "1 file(s) changed"),
    ("2", {"src/b.py": "B = 2\n"}, [], 1, "task 2 declares file `src/a.py` that it did not change"),
    ("2", {}, ["--unchanged", "a already imports b"], 0, "left unchanged, with the reason shown to the user"),
    ("3", {}, ["--unchanged", "nothing to keep"], 0, "--unchanged is not recorded: every declared file changed"),
    ("4", {}, [], 1, "--unchanged \"<why>\""),
]


def test_declared_files_left_untouched_are_refused_until_the_model_says_why(project):
    for task_id, files, extra, code, says in UNTOUCHED:
        if tasks(project)[task_id]["status"] == "pending":
            ok(project, "task-start", task_id)
        work(project, files)
        (project / "build").mkdir(exist_ok=True)
        (project / "build" / "out.md").write_text("done\n")
        r = cli(project, "task-done", task_id, "--output", "build/out.md", *extra)
        assert (r.code, says in r.out + r.err) == (code, True), (task_id, r.out, r.err)
        if code:
            assert tasks(project)[task_id]["status"] == "running"       # nothing recorded
            assert "next: clavain-cli run task-done" in r.err
    recorded = tasks(project)
    assert recorded["2"]["unchanged"] == {"files": ["src/a.py"], "reason": "a already imports b"}
    assert recorded["3"].get("unchanged") is None and recorded["2"]["files_changed"] == ["src/b.py"]


def test_outside_git_changes_are_not_measured_and_the_report_says_so_once(tmp_path):
    project = tmp_path / "plain"
    project.mkdir()
    write_plan(project, PLAN)
    ok(project, "start", "plan.md", "--batch-size", "4")
    for task_id in "1234":
        do_task(project, task_id)   # nothing written: outside git the run cannot tell, so it does not refuse
    ok(project, "checkpoint")
    report = (run_dir(project) / "batches" / "batch-1.md").read_text()
    assert report.count("not in a git repository") == 1 and "no git" not in report and "no change" not in report


def test_a_task_with_no_change_reads_no_change(project):
    for task_id, files, _ in CHANGES:
        assert task(project, task_id, files).code == 0
    ok(project, "checkpoint")
    report = (run_dir(project) / "batches" / "batch-1.md").read_text()
    assert "| 3 | Decide | done | " in report and "| no change | - |" in report
    assert "Task 3: Decide\n- no change" in report


def _all_reports_once(project, seen: dict[str, bytes]) -> None:
    """Every report written so far is byte for byte what it was when first seen."""
    for name, body in reports(project).items():
        assert seen.setdefault(name, body) == body, f"{name} was rewritten"


def test_a_report_once_written_is_never_rewritten(project):
    seen: dict[str, bytes] = {}
    steps = [
        lambda: [task(project, t, f) for t, f, _ in CHANGES[:2]],
        lambda: ok(project, "task-start", "3"),
        lambda: ok(project, "task-fail", "3", "--reason", "needs a decision"),     # halt-1.md
        lambda: say(project, "retry task 3"),
        lambda: ok(project, "retry", "3"),
        lambda: task(project, "3"),
        lambda: task(project, "4", {"docs/guide.md": "# Guide\n\nmore\n"}),
        lambda: ok(project, "checkpoint"),                                         # batch-1.md
        lambda: ok(project, "checkpoint"),                                         # again: nothing rewritten
        lambda: say(project, "revise task 4: say more"),
        lambda: ok(project, "revise", "4", "--note", "say more"),
        lambda: task(project, "4", {"docs/guide.md": "# Guide\n\nmuch more\n"}),
        lambda: ok(project, "checkpoint"),                                         # batch-1-2.md
        lambda: ok(project, "status"),
        lambda: say(project, "approve batch 1"),
        lambda: ok(project, "approve"),
        lambda: ok(project, "finish"),                                             # final.md
        lambda: cli(project, "status"),
    ]
    for step in steps:
        step()
        _all_reports_once(project, seen)
    assert sorted(seen) == ["batch-1-2.md", "batch-1.md", "final.md", "halt-1.md"]
    assert b"awaiting your approval" in seen["batch-1.md"] and b"Approved" not in seen["batch-1.md"]
    assert b"revise task 4: say more" in seen["batch-1-2.md"] and b"say more" not in seen["batch-1.md"]


def test_the_final_report_counts_done_skipped_and_failed_apart(project):
    task(project, "1", {"src/a.py": "A = 1\n"})
    fail_and_skip(project, "2", "b comes in the next plan")
    task(project, "3")
    ok(project, "task-start", "4")
    ok(project, "task-fail", "4", "--reason", "the guide is locked")
    say(project, "abort")
    ok(project, "abort")
    final = (run_dir(project) / "batches" / "final.md").read_text()
    assert "[########..] 3/4 tasks (1 skipped)" in final
    assert "Tasks: 2 done · 1 skipped · 1 failed (of 4)" in final
    assert "## Skipped\n- task 2: Make b, extend a (b comes in the next plan)" in final
    assert "## Failed\n- task 4: Docs (the guide is locked)" in final


# ------------------------------------------------------------------------------ the smaller defects

def test_verify_on_a_task_without_entries_says_there_is_nothing_to_run(project):
    ok(project, "task-start", "1")
    r = ok(project, "verify", "1")
    assert "task 1 has no <verify> entries in the plan: nothing was run" in r.out
    assert "0 verify entries passed" not in r.out and "verified" not in [e for e in _events(project)]


def _events(project) -> list[str]:
    import json

    return [json.loads(line)["event"] for line in (run_dir(project) / "journal.jsonl").read_text().splitlines()]


def test_start_with_a_folder_names_the_plans_in_it(git_project):
    (git_project / "docs" / "plans").mkdir(parents=True)
    (git_project / "docs" / "plans" / "feature.md").write_text(PLAN)
    r = cli(git_project, "start", "docs/plans")
    assert r.code == 2 and "docs/plans is a folder, not a plan file; markdown files in it: docs/plans/feature.md" \
        in r.err and "next: clavain-cli run start docs/plans/feature.md" in r.err
    r = cli(git_project, "start", "docs/nothing.md")
    assert r.code == 2 and "docs/nothing.md: no such plan file" in r.err and "plan file not found" not in r.err


def test_a_skipped_task_in_git_is_not_reported_as_outside_git(project):
    task(project, "1", {"src/a.py": "A = 1\n"})
    fail_and_skip(project, "2", "later")
    task(project, "3")
    task(project, "4", {"docs/guide.md": "x\n"})
    ok(project, "checkpoint")
    report = (run_dir(project) / "batches" / "batch-1.md").read_text()
    assert "no git" not in report and "not in a git repository" not in report
    assert "| 2 | Make b, extend a | skipped: later | - | - | - |" in report


# ------------------------------------------------------------------------------ the golden batch report

GOLDEN_PLAN = PLAN + """
### Task 5: Release notes

**Files:**
- Create: `CHANGES.md`

- [ ] **Step 1: Write them**
"""


def test_golden_batch_report_shows_changes_commits_reasons_and_no_change(git_project):
    project = git_project
    setup(project, GOLDEN_PLAN, settings="run: {commit: task, tick_plan: true}\n")
    ok(project, "start", "plan.md", "--batch-size", "5")
    assert task(project, "1", {"src/a.py": "A = 1\n"}).code == 0
    assert task(project, "2", {"src/b.py": "B = 2\n"}, "--unchanged", "src/a.py already imports b").code == 0
    assert task(project, "3").code == 0
    fail_and_skip(project, "4", "the guide belongs to another team")
    assert task(project, "5", {"CHANGES.md": "- a and b\n"}).code == 0
    ok(project, "checkpoint")
    text = (run_dir(project) / "batches" / "batch-1.md").read_text()
    shas = {t["commit"][:12]: f"COMMIT-{t['id']}" for t in state(project)["tasks"] if t.get("commit")}
    for sha, name in shas.items():
        text = text.replace(sha, name)
    check_golden("run", "batch-records.md", normalise(text, project))
    assert git(project, "log", "--format=%s").splitlines() == ["task 5: Release notes", "task 2: Make b, extend a",
                                                               "task 1: Make a", "docs", "init"]
