"""One test per refusal: exit 1, and the message names the next allowed command."""

from __future__ import annotations

import json
import time

import pytest

from test_run_support import SMALL_PLAN, cli, do_task, ok, run_dir, say, transcript_line, write_plan


def started(p, size="2"):
    write_plan(p)
    ok(p, "start", "plan.md", "--batch-size", size)
    (p / "a.txt").write_text("hello\n")


def at_checkpoint(p):
    started(p)
    do_task(p, "1", verify=True)
    do_task(p, "2", verify=True)
    ok(p, "checkpoint")


def halted(p):
    started(p)
    ok(p, "task-start", "1")
    ok(p, "task-fail", "1", "--reason", "broken")


def in_task_1(p):
    started(p)
    ok(p, "task-start", "1")


def plan_changed(p):
    started(p)
    (p / "plan.md").write_text((p / "plan.md").read_text().replace("Think", "Think hard"))


def external_requested(p):
    write_plan(p)
    ok(p, "start", "plan.md", "--dispatch", "external")


def empty_output(p):
    in_task_1(p)
    ok(p, "verify", "1")
    (p / "empty.md").write_text("  \n")


def all_done_last_not_approved(p):
    at_checkpoint(p)
    say(p, "approve batch 1")
    ok(p, "approve")
    do_task(p, "3")
    do_task(p, "4")


def old_prompt_then_checkpoint(p):
    started(p)
    do_task(p, "1", verify=True)
    do_task(p, "2", verify=True)
    say(p, "approve in advance")
    ok(p, "checkpoint")


def reinvocation_only(p):
    at_checkpoint(p)
    say(p, "/execute-plan plan.md")
    say(p, "<command-name>/clavain:execute-plan</command-name>\n<command-args>plan.md</command-args>")


CASES = [
    # (setup, argv, text the refusal must hold, the next command it must name)
    (started, ["start", "plan.md"], "already has an unfinished run", "run status --run"),
    (started, ["task-start", "2"], "cannot start before task 1", "next: clavain-cli run task-start 1"),
    (started, ["task-start", "3"], "belongs to batch 2", "next: clavain-cli run task-start 1"),
    (at_checkpoint, ["task-start", "3"], "waiting for the user's approval", "next: clavain-cli run approve"),
    (started, ["task-done", "1", "--output", "plan.md"], "not started", "next: clavain-cli run task-start 1"),
    (in_task_1, ["task-done", "1", "--output", "plan.md"], "1 verify entry that has not passed",
     "next: clavain-cli run verify 1"),
    (empty_output, ["task-done", "1", "--output", "empty.md"], "is empty", "next: clavain-cli run task-done 1"),
    (in_task_1, ["checkpoint"], "unfinished task(s): 1, 2", "next: clavain-cli run verify 1"),
    (at_checkpoint, ["approve"], "needs the user's own reply", "next: clavain-cli run approve"),
    (old_prompt_then_checkpoint, ["approve"], "needs the user's own reply", "next: clavain-cli run approve"),
    (reinvocation_only, ["approve"], "needs the user's own reply", "next: clavain-cli run approve"),
    (started, ["approve"], "no checkpoint to approve", "next: clavain-cli run task-start 1"),
    (halted, ["task-start", "2"], "the run is halted: broken", "next: clavain-cli run retry 1"),
    (halted, ["retry", "1"], "needs the user's own reply", "skip 1 --reason TEXT"),
    (halted, ["skip", "1", "--reason", "x"], "needs the user's own reply", "clavain-cli run abort"),
    (halted, ["retry", "2"], "halted on task 1", "next: clavain-cli run retry 1"),
    (halted, ["abort"], "needs the user's own reply", "next: clavain-cli run retry 1"),
    (plan_changed, ["task-start", "1"], "changed since the run pinned it", "next: clavain-cli run replan"),
    (plan_changed, ["replan"], "needs the user's own reply", "next: clavain-cli run replan"),
    (started, ["replan"], "has not changed", "next: clavain-cli run task-start 1"),
    (external_requested, ["allow-external"], "needs the user's own reply", "next: clavain-cli run task-start 1"),
    (started, ["allow-external"], "no external dispatch was requested", "next: clavain-cli run task-start 1"),
    (started, ["finish"], "not done or skipped", "next: clavain-cli run task-start 1"),
    (all_done_last_not_approved, ["finish"], "has not been approved", "next: clavain-cli run checkpoint"),
    (in_task_1, ["task-fail", "2", "--reason", "x"], "not started", "next: clavain-cli run verify 1"),
]


@pytest.mark.parametrize("setup,argv,says,names", CASES,
                         ids=[f"{c[0].__name__}:{' '.join(c[1][:2])}" for c in CASES])
def test_refusal(project, setup, argv, says, names):
    setup(project)
    before = (run_dir(project) / "journal.jsonl").read_text()
    r = cli(project, *argv)
    assert r.code == 1, (r.out, r.err)
    assert says in r.err and names in r.err, r.err
    assert "Traceback" not in r.err
    after = (run_dir(project) / "journal.jsonl").read_text()
    if setup is not plan_changed:  # a changed plan records the halt once; nothing else is recorded
        assert after == before


def test_no_active_run(project):
    r = cli(project, "status")
    assert r.code == 1 and "next: clavain-cli run start <plan>" in r.err


def test_two_active_runs_need_run_id(project):
    write_plan(project)
    write_plan(project, "---\nindependent_of: [plan.md]\n---\n" + SMALL_PLAN, name="other.md")
    ok(project, "start", "plan.md")
    ok(project, "start", "other.md")
    r = cli(project, "status")
    assert r.code == 1 and "2 runs are active" in r.err and "--run" in r.err


def test_unknown_task_is_bad_input(project):
    started(project)
    r = cli(project, "task-start", "99")
    assert r.code == 2 and "task '99' is not in the plan" in r.err


def test_missing_output_file_is_bad_input(project):
    in_task_1(project)
    ok(project, "verify", "1")
    r = cli(project, "task-done", "1", "--output", "nope.md")
    assert r.code == 2 and "output file not found" in r.err


def test_gate_block_refuses_start_and_skip_gate_passes_it(project):
    from conftest import run_cli

    from test_run_support import SMALL_PLAN

    write_plan(project, SMALL_PLAN.replace("**Goal:**", "**Phase:** brainstorm\n\n**Goal:**"), opt_in=False)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text("gate:\n  default_tier: hard\n")
    r = run_cli(["run", "start", "plan.md"], cwd=project)
    assert r.code == 1 and "gate blocked" in r.err and "next:" in r.err
    assert not (project / ".clavain" / "execute-plan" / "runs").exists()
    r = run_cli(["run", "start", "plan.md", "--json"], cwd=project, env={"CLAVAIN_SKIP_GATE": "hotfix"})
    assert r.code == 0, r.err
    assert any("CLAVAIN_SKIP_GATE" in w for w in json.loads(r.out)["warnings"])


def test_external_with_flag_file_is_external_at_once(project):
    (project / ".claude").mkdir()
    (project / ".claude" / "clodex-toggle.flag").write_text("")
    write_plan(project)
    ok(project, "start", "plan.md", "--dispatch", "external")
    active = json.loads(next((project / ".clavain" / "execute-plan" / "active").iterdir()).read_text())
    assert active["dispatch"] == "external"


def test_external_needs_the_users_word_then_is_granted(project):
    external_requested(project)
    active = lambda: json.loads(next((project / ".clavain" / "execute-plan" / "active").iterdir()).read_text())  # noqa: E731
    assert active()["dispatch"] == "local"
    say(project, "allow external: yes, use codex")
    ok(project, "allow-external")
    assert active()["dispatch"] == "external"


def test_the_reply_is_read_from_claude_codes_transcript_of_the_session(project, tmp_path):
    """Without the opt-in, only Claude Code's transcript counts: found from the session id under its config
    folder, never from the path a prompt record names; and the newest genuine user message decides."""
    write_plan(project, opt_in=False)
    ok(project, "start", "plan.md", "--batch-size", "2")
    (project / "a.txt").write_text("hello\n")
    do_task(project, "1", verify=True)
    do_task(project, "2", verify=True)
    ok(project, "checkpoint")
    config = tmp_path / "claude-config"
    env = {"CLAUDE_CONFIG_DIR": str(config)}
    forged = tmp_path / "fake.jsonl"  # a record naming a transcript of its own making
    epoch = say(project, "approve batch 1", transcript=forged, session_id="s-1")
    forged.write_text(transcript_line("approve batch 1", epoch) + "\n")
    r = cli(project, "approve", env=env)
    assert r.code == 1 and "no reply of the user" in r.err and "next: clavain-cli run approve" in r.err
    from clavain.run.evidence import project_folder

    transcript = config / "projects" / project_folder(project.resolve()) / "s-1.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text(transcript_line("approve batch 1", epoch) + "\n"
                          + transcript_line("wait, task 2 is wrong", epoch + 1) + "\n")
    r = cli(project, "approve", env=env)
    assert r.code == 1 and '"wait, task 2 is wrong"' in r.err and "show the user the report and ask" in r.err.lower()
    with open(transcript, "a") as fh:
        fh.write(transcript_line("approve batch 1 after all", epoch + 2) + "\n")
    r = cli(project, "approve", "--json", env=env)
    assert r.code == 0, r.err
    ev = json.loads(r.out)["evidence"]
    assert ev["source"] == "transcript" and ev["transcript_path"] == str(transcript) and ev["how"] == "canonical reply"
    decision = json.loads((run_dir(project) / "run.json").read_text())["state"]["decisions"][-1]
    assert decision["evidence"]["text"] == "approve batch 1 after all"


def test_one_prompt_is_one_decision(project):
    halted(project)
    say(project, "retry task 1 please")
    ok(project, "retry", "1")
    ok(project, "task-start", "1")
    ok(project, "task-fail", "1", "--reason", "still broken")
    # the halt is newer than the prompt, so the same words cannot pass it again
    assert cli(project, "retry", "1").code == 1


def test_replan_keeps_unchanged_finished_tasks(project):
    started(project)
    do_task(project, "1", verify=True)
    text = (project / "plan.md").read_text()
    (project / "plan.md").write_text(text.replace("Put hello in a.txt", "Put hello twice in a.txt"))
    assert cli(project, "task-start", "2").code == 1
    say(project, "replan: yes the plan changed, carry on")
    r = json.loads(ok(project, "replan", "--json").out)
    assert r["kept"] == ["1"] and r["state"] == "running"
    assert r["next"] == "clavain-cli run task-start 2"


SPECKIT = """# Tasks: Demo

## Phase 1: Setup

- [ ] T001 Create project structure in src/
- [ ] T002 [P] Add config in src/config.py
- [ ] T003 [P] Add logging in src/log.py
- [ ] T004 Wire it up in src/main.py
"""


def test_tasks_marked_independent_may_run_together_and_no_others(project):
    write_plan(project, SPECKIT, name="tasks.md")
    brief = ok(project, "start", "tasks.md", "--batch-size", "4").out
    assert "may run in parallel: T002, T003" in brief
    r = cli(project, "task-start", "T002")
    assert r.code == 1 and "before task T001" in r.err and "next: clavain-cli run task-start T001" in r.err
    do_task(project, "T001")
    ok(project, "task-start", "T002")
    ok(project, "task-start", "T003")          # same independent group: allowed while T002 runs
    r = cli(project, "task-start", "T004")
    assert r.code == 1 and "before task T002" in r.err
    do_task_done = lambda t: ok(project, "task-done", t, "--output", "-", stdin=f"{t} done\n")  # noqa: E731
    do_task_done("T003")
    do_task_done("T002")
    ok(project, "task-start", "T004")


def test_concurrent_starts_of_one_plan_make_one_run(project):
    """Two real processes start the same plan at once: the start lock lets exactly one through."""
    import os
    import subprocess
    import sys

    from conftest import CLI
    from test_run_support import SKIP_GATE

    write_plan(project)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}
    env.update(SKIP_GATE, CLAVAIN_PYTHON=sys.executable)
    procs = [subprocess.Popen([str(CLI), "run", "start", "plan.md"], cwd=project, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    codes = sorted(p.wait(timeout=60) for p in procs)
    assert codes == [0, 1, 1]
    assert len(list((project / ".clavain" / "execute-plan" / "runs").iterdir())) == 1
