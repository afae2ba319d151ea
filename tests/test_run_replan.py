"""`run replan`: the user's reply to a changed plan confirms the change; it never passes a checkpoint."""

from __future__ import annotations

import json

import pytest

from test_run_support import cli, do_task, js, ok, run_dir, say, to_checkpoint, write_plan


def edit_plan(project, old: str, new: str) -> None:
    text = (project / "plan.md").read_text()
    assert old in text
    (project / "plan.md").write_text(text.replace(old, new))


def at_first_checkpoint(p):
    to_checkpoint(p)


def at_last_checkpoint(p):
    to_checkpoint(p)
    say(p, "approve batch 1")
    ok(p, "approve")
    do_task(p, "3")
    do_task(p, "4")
    ok(p, "checkpoint")


def in_batch_2(p):
    to_checkpoint(p)
    say(p, "approve batch 1")
    ok(p, "approve")
    do_task(p, "3")


CASES = [
    # (where the run is, what changes in the plan, state after replan, batch, approved batches, next command)
    (at_first_checkpoint, ("Wrap up", "Wrap up neatly"), "awaiting_approval", 1, [], "run approve"),
    (at_first_checkpoint, ("exercise the run", "exercise the run well"), "awaiting_approval", 1, [], "run approve"),
    (at_first_checkpoint, ("Put hello in a.txt", "Put hello twice in a.txt"), "running", 1, [], "run task-start 2"),
    (at_last_checkpoint, ("exercise the run", "exercise it"), "awaiting_approval", 2, [1], "run approve"),
    (at_last_checkpoint, ("Wrap up", "Wrap up neatly"), "running", 2, [1], "run task-start 4"),
    (in_batch_2, ("Wrap up", "Wrap up neatly"), "running", 2, [1], "run task-start 4"),
]


@pytest.mark.parametrize("where, change, state, batch, approved, next_cmd", CASES,
                         ids=[f"{c[0].__name__}:{c[1][1]}" for c in CASES])
def test_replan_returns_to_the_checkpoint_it_was_waiting_at(project, where, change, state, batch, approved,
                                                            next_cmd):
    write_plan(project)
    ok(project, "start", "plan.md", "--batch-size", "2")
    where(project)
    edit_plan(project, *change)
    assert cli(project, "status").code == 0 and js(project, "status")["halt"]["kind"] == "plan_changed"
    say(project, "replan: yes, I changed the plan; go on with it")
    r = js(project, "replan")
    assert (r["state"], r["batch"], f"clavain-cli {next_cmd}" in r["next"]) == (state, batch, True), r
    assert json.loads((run_dir(project) / "run.json").read_text())["state"]["approved_batches"] == approved
    if state != "awaiting_approval":
        return
    first = (run_dir(project) / "batches" / f"batch-{batch}.md").read_text()
    report = (project / r["report"]).read_text()   # a checkpoint of its own: the first report stays as written
    assert r["report"].endswith(f"batch-{batch}-2.md") and "replan" not in first
    assert "replan" in report  # the batch report lists the decision taken while it waited
    refused = cli(project, "approve")  # the reply to the changed plan does not count for the batch
    assert refused.code == 1 and "needs the user's own reply" in refused.err
    assert cli(project, "task-start", "3" if batch == 1 else "4").code == 1
    say(project, f"approve batch {batch}")
    after = js(project, "approve")
    assert after["approved_batch"] == batch
    assert after["next"].startswith("clavain-cli run task-start 3" if batch == 1 else "clavain-cli run finish")


def test_replan_does_not_lift_a_tamper_halt(project):
    write_plan(project)
    ok(project, "start", "plan.md", "--batch-size", "2")
    to_checkpoint(project)
    path = run_dir(project) / "run.json"
    body = json.loads(path.read_text())
    body["state"]["approved_batches"] = [1]
    path.write_text(json.dumps(body))
    assert js(project, "status")["halt"]["kind"] == "tampered"
    edit_plan(project, "Wrap up", "Wrap up neatly")
    say(project, "replan")
    r = cli(project, "replan")
    assert r.code == 1 and "this run is halted (tampered)" in r.err and "next: clavain-cli run abort" in r.err
