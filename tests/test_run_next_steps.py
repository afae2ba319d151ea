"""The next command each output names at the end of a run and on repeated steps."""

from __future__ import annotations

import pytest

from test_run_support import SMALL_PLAN, cli, do_task, js, ok, say, write_plan

MUST_HAVES = "## Must-Haves\n\n**Truths:**\n- The file says hello\n\n"
WITH_MUST_HAVES = SMALL_PLAN.replace("### Task 1:", MUST_HAVES + "### Task 1:", 1)


def all_approved(project, text):
    write_plan(project, text)
    ok(project, "start", "plan.md", "--batch-size", "2")
    (project / "a.txt").write_text("hello\n")
    for batch, first in enumerate((1, 3), start=1):
        for task in (first, first + 1):
            do_task(project, str(task), verify=task <= 2)
        ok(project, "checkpoint")
        say(project, f"approve batch {batch}")
        last = ok(project, "approve")
    return last.out


@pytest.mark.parametrize("plan,after_approve", [
    (WITH_MUST_HAVES, "clavain-cli run must-haves"),
    (SMALL_PLAN, "clavain-cli run finish"),
])
def test_the_last_approval_names_must_haves_when_the_plan_has_them(project, plan, after_approve):
    out = all_approved(project, plan)
    assert out.rstrip().splitlines()[-1] == f"next: {after_approve}"
    assert js(project, "status")["next"] == after_approve
    ok(project, "must-haves")
    assert js(project, "status")["next"] == "clavain-cli run finish"
    ok(project, "finish")


@pytest.mark.parametrize("plan,then", [(WITH_MUST_HAVES, "must-haves"), (SMALL_PLAN, "finish")])
def test_next_after_every_batch_is_approved_says_so(project, plan, then):
    all_approved(project, plan)
    out = ok(project, "next").out
    assert "all batches approved" in out
    assert "### Task" not in out and "Task 4" not in out   # no brief of the last batch again
    assert out.rstrip().splitlines()[-1] == f"next: clavain-cli run {then}"
    assert out.count("next:") == 1


@pytest.mark.parametrize("again", ["same output", "other output"])
def test_a_repeated_task_done_says_the_task_is_done(project, again):
    write_plan(project)
    ok(project, "start", "plan.md", "--batch-size", "2")
    (project / "a.txt").write_text("hello\n")
    do_task(project, "1", "did it\n", verify=True)
    out = project / "again.md"
    out.write_text("did it\n" if again == "same output" else "something else\n")
    r = cli(project, "task-done", "1", "--output", str(out))
    if again == "same output":
        assert r.code == 0 and "already recorded as done with this output" in r.out
        return
    assert r.code == 1, (r.out, r.err)
    assert "task 1 is already done" in r.err
    assert "record it done only after" not in r.err
    assert "next: clavain-cli run task-start 2" in r.err


# the fields of the first recorded runs, in order: a state that sets nothing newer dumps exactly these
FIRST_STATE_FIELDS = ["run_id", "plan", "plan_sha256", "bead", "batch_size", "dispatch", "external_requested_epoch",
                      "state", "batch", "batches", "groups", "tasks", "approved_batches", "checkpoint_epoch", "halt",
                      "halts", "decisions", "last_evidence_epoch", "must_haves", "started_epoch", "created",
                      "updated"]
FIRST_TASK_FIELDS = ["id", "title", "line", "text_sha256", "batch", "status", "checked_in_plan", "verify_count",
                     "attempts", "head_at_start", "output", "output_sha256", "files_changed", "verify", "verified",
                     "reason"]


def test_a_state_without_the_newer_fields_digests_as_before_they_existed():
    """Runs recorded before ``has_must_haves``, ``checklist`` and the tasks' ``ask_user`` existed keep their digests
    (else they would read as tampered); once set, each counts."""
    import hashlib
    import json

    from clavain.run.state import RunState, TaskState, state_digest

    state = RunState(run_id="r", plan="p.md", plan_sha256="0" * 64, batch_size=1, batches=[["1"]], groups=[[["1"]]],
                     tasks=[TaskState(id="1", title="t", line=3, batch=1)], started_epoch=1.0, created="t",
                     updated="t")
    dumped = json.loads(state.model_dump_json())
    assert list(dumped) == FIRST_STATE_FIELDS and list(dumped["tasks"][0]) == FIRST_TASK_FIELDS
    assert state_digest(state) == hashlib.sha256(json.dumps(dumped, separators=(",", ":")).encode()).hexdigest()
    task = state.tasks[0]
    changed_tasks = [state.model_copy(update={"tasks": [task.model_copy(update={name: value})]})
                     for name, value in (("ask_user", "look"), ("snapshot_start", "a" * 40),
                                         ("snapshot_done", "b" * 40))]
    changed = [state.model_copy(update={name: value}) for name, value in (
        ("has_must_haves", True), ("checklist", ["x"]), ("approval_evidence", "prompt-record"),
        ("pause", {"reason": "?"}), ("checkpoint_snapshot", "c" * 40), ("changes_seen", {"paths": []}),
        ("verdicts_seen", 1), ("plugin", {"version": "0.1.0"}), ("feedback", [{"note": "x"}]))]
    for other in (*changed_tasks, *changed):
        assert state_digest(state) != state_digest(other)


def test_one_git_process_tells_the_top_the_git_folder_and_head_in_every_kind_of_folder(tmp_path, git_project):
    """``snapshot.repo``: a repository with commits, one without any yet, and a folder outside git."""
    import subprocess

    from clavain.run import snapshot

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=git_project, capture_output=True, text=True).stdout.strip()
    assert snapshot.repo(git_project) == (git_project.resolve(), (git_project / ".git").resolve(), head)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=fresh, check=True)
    assert snapshot.repo(fresh) == (fresh.resolve(), (fresh / ".git").resolve(), None)
    assert snapshot.take(fresh) is not None   # a tree of the files, before any commit
    outside = tmp_path / "outside"
    outside.mkdir()
    assert snapshot.repo(outside) is None and snapshot.take(outside) is None
