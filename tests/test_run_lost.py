"""A run whose journal holds no trusted entry (the first line is corrupt, run.json cannot stand in) has no
state: every command names `run abort`, which retires it after the user's word, keeping the journal as
evidence, so the plan can be started again."""

from __future__ import annotations

import json

import pytest

from test_run_support import cli, do_task, ok, run_dir, say, write_plan


def one_line_run_json_kept(project):
    """Only the start entry, and it is garbage; run.json is still there but cannot be trusted alone."""


def many_lines_run_json_missing(project):
    (project / "a.txt").write_text("hello\n")
    say(project, "sure, start")  # before the last step: does not count for retiring
    do_task(project, "1", verify=True)
    (run_dir(project) / "run.json").unlink()


CASES = {"only line, run.json kept": one_line_run_json_kept, "first of many, run.json missing": many_lines_run_json_missing}


@pytest.fixture(params=CASES)
def lost(request, project):
    write_plan(project)
    ok(project, "start", "plan.md", "--batch-size", "2")
    CASES[request.param](project)
    journal = run_dir(project) / "journal.jsonl"
    lines = journal.read_bytes().split(b"\n")
    lines[0] = b'{"seq": 1, "garbage": true}'
    journal.write_bytes(b"\n".join(lines))
    return project, run_dir(project).name, journal.read_bytes()


def test_every_command_names_abort(lost):
    project, run_id, _ = lost
    for argv in (["status"], ["next"], ["task-start", "1"]):
        r = cli(project, *argv)
        assert r.code == 3, (argv, r.out, r.err)
        assert "no trusted journal entry" in r.err and f"journal.jsonl:1" in r.err
        assert f"next: clavain-cli run abort --run {run_id}" in r.err
    r = cli(project, "start", "plan.md")
    assert r.code == 1 and "abort --run" in r.err


def test_abort_retires_the_run_after_the_users_word(lost):
    project, run_id, before = lost
    folder = project / ".clavain" / "execute-plan" / "runs" / run_id
    r = cli(project, "abort")
    assert r.code == 1, (r.out, r.err)
    assert "needs the user's own reply" in r.err and f"next: clavain-cli run abort --run {run_id}" in r.err
    assert (project / ".clavain" / "execute-plan" / "active" / f"{run_id}.json").exists()

    say(project, "abort: the run is broken")
    r = cli(project, "abort", "--json")
    assert r.code == 0, (r.out, r.err)
    out = json.loads(r.out)
    assert out["state"] == "retired" and out["evidence"]["text"] == "abort: the run is broken"
    assert out["next"] == "clavain-cli run start <plan>"
    assert (folder / "journal.rejected-1.jsonl").read_bytes() == before      # kept, byte for byte
    assert (folder / "journal.jsonl").read_bytes() == b""
    assert json.loads((folder / "retired.json").read_text())["journal_moved_to"].endswith("journal.rejected-1.jsonl")
    assert not (project / ".clavain" / "execute-plan" / "active" / f"{run_id}.json").exists()

    again = cli(project, "abort", "--run", run_id)
    assert again.code == 1 and "already retired" in again.err
    status = cli(project, "status", "--run", run_id)
    assert status.code == 3 and "next: clavain-cli run start <plan>" in status.err
    ok(project, "start", "plan.md")


def test_retire_text(lost):
    project, run_id, _ = lost
    say(project, "abort")
    out = ok(project, "abort").out
    assert f"run {run_id} retired by the user" in out
    assert f".clavain/execute-plan/runs/{run_id}/journal.rejected-1.jsonl as evidence" in out
    assert out.rstrip().splitlines()[-1] == "next: clavain-cli run start <plan>"
