"""enforce-gate and advance-phase through the in-process CLI: tiers, environment variables, transitions,
the executing gate (missing, malformed, stale-reviewed plans) and `bd` absent / present / failing / slow."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Optional

import pytest

from conftest import run_cli
from gate_support import PLAN, bd_env, bd_state, decisions, history, set_phase, write_plan

BEAD = "demo-abc1"


@dataclass
class Case:
    id: str
    target: str
    current: Optional[str] = None          # phase in the store before the call
    priority: Optional[object] = None      # the bead's priority in the stand-in bd; None: bd absent
    config: Optional[str] = None           # .clavain/config.yaml
    env: dict = field(default_factory=dict)
    bd: dict = field(default_factory=dict)  # stand-in behaviour: shape, fail, sleep
    bead: str = BEAD
    code: int = 0
    err: tuple = ()                         # fragments stderr must contain
    no_err: tuple = ()                      # fragments stderr must not contain
    outcome: Optional[str] = None           # the recorded gate decision


CASES = [
    # tiers from the bead's priority
    Case("P0-hard-blocks", "shipping", "brainstorm", 0, code=1, err=("gate blocked", "tier hard from bead priority P0",
         "CLAVAIN_SKIP_GATE='<reason>'", "brainstorm-reviewed, strategized"), outcome="block"),
    Case("P1-hard-blocks", "done", "planned", 1, code=1, err=("gate blocked",), outcome="block"),
    Case("P1-string-priority", "done", "planned", "P1", code=1, err=("tier hard from bead priority P1",),
         outcome="block"),
    Case("P2-soft-warns", "shipping", "brainstorm", 2, err=("warning:", "tier soft from bead priority P2"),
         outcome="warn"),
    Case("P3-soft-warns", "shipping", "brainstorm", 3, err=("warning:",), outcome="warn"),
    Case("P4-none-passes", "shipping", "brainstorm", 4, no_err=("warning",), outcome="pass"),
    Case("hard-allows-lifecycle", "plan-reviewed", "planned", 1, no_err=("warning",), outcome="pass"),
    # tiers from the config
    Case("default-soft", "shipping", "brainstorm", err=("tier soft from config gate.default_tier",), outcome="warn"),
    Case("config-hard", "shipping", "brainstorm", config="gate:\n  default_tier: hard\n", code=1,
         err=("tier hard from config",), outcome="block"),
    Case("config-none", "shipping", "brainstorm", config="gate:\n  default_tier: none\n", no_err=("warning",),
         outcome="pass"),
    Case("bead-without-priority-uses-config", "shipping", "brainstorm", "", config="gate: {default_tier: hard}\n",
         code=1, outcome="block"),
    # transitions
    Case("resume-executing", "executing", "executing", 0, no_err=("warning",), outcome="pass"),
    Case("skip-planned-executing", "executing", "planned", 0, outcome="pass"),
    Case("skip-executing-done", "done", "executing", 0, outcome="pass"),
    Case("reentry-done-planned", "planned", "done", 0, outcome="pass"),
    Case("first-touch-executing", "executing", None, 0, outcome="pass"),
    Case("first-touch-done-blocked", "done", None, 0, code=1, err=("(none) -> done",), outcome="block"),
    Case("backwards-blocked", "brainstorm", "executing", 1, code=1, outcome="block"),
    Case("unknown-phase", "a|b", "planned", 0, code=2, err=("unknown phase 'a|b'", "next: clavain-cli phase --graph")),
    Case("unknown-phase-case", "Executing", "planned", 0, code=2, err=("unknown phase",)),
    # environment variables
    Case("skip-gate", "shipping", "brainstorm", 0, env={"CLAVAIN_SKIP_GATE": "hotfix approved"},
         err=("gate skipped by CLAVAIN_SKIP_GATE (hotfix approved)",), outcome="skip"),
    Case("skip-gate-blank-is-not-a-reason", "shipping", "brainstorm", 0, env={"CLAVAIN_SKIP_GATE": "  "}, code=1,
         outcome="block"),
    Case("disable-true", "shipping", "brainstorm", 0, env={"CLAVAIN_DISABLE_GATES": "true"},
         err=("gates disabled by CLAVAIN_DISABLE_GATES",), outcome="bypass"),
    Case("disable-1", "shipping", "brainstorm", 0, env={"CLAVAIN_DISABLE_GATES": "1"}, outcome="bypass"),
    Case("disable-false", "shipping", "brainstorm", 0, env={"CLAVAIN_DISABLE_GATES": "false"}, code=1,
         outcome="block"),
    Case("disable-still-checks-phase-names", "a|b", None, 0, env={"CLAVAIN_DISABLE_GATES": "1"}, code=2),
    Case("bd-fails-passes-open", "executing", "planned", 0, bd={"fail": "1"}, err=("bd: `bd show", "exited 1"),
         outcome="pass"),
    Case("bd-fails-fail-closed", "executing", "planned", 0, bd={"fail": "1"},
         env={"CLAVAIN_GATE_FAIL_CLOSED": "true"}, code=1, err=("cannot be determined", "CLAVAIN_GATE_FAIL_CLOSED"),
         outcome="block"),
    Case("fail-closed-skip-overrides", "executing", "planned", 0, bd={"fail": "1"},
         env={"CLAVAIN_GATE_FAIL_CLOSED": "1", "CLAVAIN_SKIP_GATE": "bd down"}, outcome="skip"),
    Case("fail-closed-bd-healthy", "executing", "planned", 1, env={"CLAVAIN_GATE_FAIL_CLOSED": "true"},
         outcome="pass"),
    Case("fail-closed-without-bd", "executing", "planned", env={"CLAVAIN_GATE_FAIL_CLOSED": "true"}, outcome="pass"),
    # bd output shapes
    Case("bd-object", "done", "planned", 1, bd={"shape": "object"}, code=1, err=("bead priority P1",),
         outcome="block"),
    Case("bd-garbage", "done", "planned", 1, bd={"shape": "garbage"}, err=("printed no JSON", "tier soft from config"),
         outcome="warn"),
    Case("bd-empty-array", "done", "planned", 1, bd={"shape": "empty"}, err=("empty list",), outcome="warn"),
    Case("bd-garbage-fail-closed", "done", "planned", 1, bd={"shape": "garbage"},
         env={"CLAVAIN_GATE_FAIL_CLOSED": "yes"}, code=1, outcome="block"),
    # no bead: the plan alone
    Case("no-bead-plan-alone", "shipping", "brainstorm", 0, bead="", config="gate: {default_tier: hard}\n", code=1,
         err=("plan plan.md is at phase brainstorm",), outcome="block"),
    Case("placeholder-bead-is-no-bead", "executing", None, 0, bead="none", err=("placeholder",), outcome="pass"),
    Case("malformed-bead", "executing", None, 0, bead="a b|c", code=2, err=("not a bead id",)),
]


def _setup(project, tmp_path, case: Case) -> tuple[dict, Optional[object]]:
    write_plan(project)
    env = dict(case.env)
    state = None
    if case.priority is not None:
        issue = {} if case.priority == "" else {"priority": case.priority}
        bd, state = bd_env(tmp_path, {BEAD: issue}, **case.bd)
        env.update(bd)
    if case.config is not None:
        (project / ".clavain").mkdir(exist_ok=True)
        (project / ".clavain" / "config.yaml").write_text(case.config)
    if case.current is not None:
        kind, subject = ("bead", BEAD) if case.bead else ("plan", "plan.md")
        set_phase(project, kind, subject, case.current)
    return env, state


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_enforce_gate(project, tmp_path, case: Case):
    env, _ = _setup(project, tmp_path, case)
    r = run_cli(["enforce-gate", case.bead, case.target, "plan.md"], cwd=project, env=env)
    assert r.code == case.code, r.err
    assert r.out == ""
    for fragment in case.err:
        assert fragment in r.err
    for fragment in case.no_err:
        assert fragment not in r.err
    assert "Traceback" not in r.err
    recorded = [d.outcome for d in decisions(project)] if (project / ".clavain" / "execute-plan" / "clavain.db").exists() else []
    assert recorded == ([case.outcome] if case.outcome else [])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_advance_phase_refuses_what_the_gate_blocks(project, tmp_path, case: Case):
    env, state = _setup(project, tmp_path, case)
    before = (project / "plan.md").read_text()
    r = run_cli(["advance-phase", case.bead, case.target, "why", "plan.md"], cwd=project, env=env)
    assert r.code == case.code, r.err
    kind, subject = ("bead", BEAD) if case.bead and case.bead != "none" else ("plan", "plan.md")
    rows = history(project, kind, subject) if (project / ".clavain" / "execute-plan" / "clavain.db").exists() else []
    setup_rows = 1 if case.current is not None else 0
    if case.code == 0:
        assert [row.phase for row in rows][setup_rows:] == [case.target]
        assert rows[-1].from_phase == case.current and rows[-1].reason == "why"
        assert f"**Phase:** {case.target} (as of " in (project / "plan.md").read_text()
        assert r.out.strip() == f"{subject}: {case.current or '(none)'} -> {case.target}"
        assert [(d.command, d.outcome) for d in decisions(project)] == [("advance-phase", case.outcome)]
    else:
        assert len(rows) == setup_rows
        assert (project / "plan.md").read_text() == before
        if state is not None:
            assert not any(call[0] == "set-state" for call in bd_state(state).get("calls", []))


def test_skip_gate_is_audited_and_noted_in_beads(project, tmp_path):
    env, state = _setup(project, tmp_path, CASES[0])
    env["CLAVAIN_SKIP_GATE"] = "release train"
    assert run_cli(["advance-phase", BEAD, "shipping", "ship it", "plan.md"], cwd=project, env=env).code == 0
    (skipped,) = [d for d in decisions(project) if d.outcome == "skip"]
    assert skipped.skip_reason == "release train" and skipped.from_phase == "brainstorm"
    issue = bd_state(state)["issues"][BEAD]
    assert any("release train" in note for note in issue["notes"])
    assert issue["phase"] == "shipping" and issue["reasons"] == ["ship it"]


def test_slow_bd_is_bounded_and_costs_one_timeout(project, tmp_path):
    write_plan(project)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text("gate:\n  bd_timeout: 0.5\n")
    env, _ = bd_env(tmp_path, {BEAD: {"priority": 0}}, sleep="20")
    start = time.monotonic()
    r = run_cli(["advance-phase", BEAD, "executing", "go", "plan.md"], cwd=project, env=env)
    elapsed = time.monotonic() - start
    assert r.code == 0, r.err
    assert "timed out after 0.5s" in r.err and "skipped: bd did not answer" in r.err
    assert elapsed < 5
    assert [row.phase for row in history(project, "bead", BEAD)] == ["executing"]


def test_failing_bd_never_costs_the_local_record(project, tmp_path):
    write_plan(project)
    env, state = bd_env(tmp_path, {BEAD: {"priority": 2}}, fail="set-state")
    r = run_cli(["advance-phase", BEAD, "planned", "plan written", "plan.md"], cwd=project, env=env)
    assert r.code == 0, r.err
    assert "Re-sync with: bd set-state demo-abc1 phase=planned" in r.err
    assert [row.phase for row in history(project, "bead", BEAD)] == ["planned"]
    assert "phase" not in bd_state(state)["issues"][BEAD]
    assert run_cli(["phase", BEAD], cwd=project, env=env).out == "planned\n"


def test_desync_between_beads_and_plan_header_is_reported(project, tmp_path):
    write_plan(project, text=PLAN.replace("**Bead:** `demo-abc1`\n", "**Bead:** `demo-abc1`\n**Phase:** brainstorm\n"))
    env, _ = bd_env(tmp_path, {BEAD: {"priority": 2, "phase": "planned"}})
    r = run_cli(["enforce-gate", BEAD, "executing", "plan.md"], cwd=project, env=env)
    assert r.code == 0
    assert "desync: bd holds phase 'planned' for demo-abc1 but plan.md says 'brainstorm'" in r.err
    # in step: no report
    env2, _ = bd_env(tmp_path, {BEAD: {"priority": 2, "phase": "brainstorm"}})
    assert "desync" not in run_cli(["enforce-gate", BEAD, "executing", "plan.md"], cwd=project, env=env2).err


def test_bd_phase_is_used_when_the_store_has_none(project, tmp_path):
    write_plan(project)
    env, _ = bd_env(tmp_path, {BEAD: {"priority": 1, "phase": "brainstorm"}})
    r = run_cli(["enforce-gate", BEAD, "executing", "plan.md"], cwd=project, env=env)
    assert r.code == 1 and "is at phase brainstorm" in r.err


@pytest.mark.parametrize("name,text,fragment", [
    ("missing", None, "plan.md: plan file not found"),
    ("malformed", "# Title\n\njust prose, no tasks\n", "plan.md:1: no tasks found"),
    ("not-utf8", b"\xff\xfe# x\n", "not UTF-8"),
])
def test_executing_needs_a_plan_that_reads(project, name, text, fragment):
    if isinstance(text, bytes):
        (project / "plan.md").write_bytes(text)
    elif text is not None:
        write_plan(project, text=text)
    for command in (["enforce-gate", BEAD, "executing", "plan.md"],
                    ["advance-phase", BEAD, "executing", "go", "plan.md"]):
        r = run_cli(command, cwd=project)
        assert r.code == 2, r.err
        assert fragment in r.err and "next:" in r.err and "Traceback" not in r.err
    assert not (project / ".clavain" / "execute-plan" / "clavain.db").exists() or history(project, "bead", BEAD) == []


def test_executing_without_a_plan_argument_is_bad_input(project):
    r = run_cli(["enforce-gate", BEAD, "executing"], cwd=project)
    assert r.code == 2 and "needs the plan file" in r.err


def test_no_bead_and_no_plan_is_bad_input(project):
    r = run_cli(["advance-phase", "", "planned"], cwd=project)
    assert r.code == 2 and "a bead id or a plan file is needed" in r.err


def test_plan_verdict_is_cached_by_digest_and_follows_edits(project):
    plan = write_plan(project)
    assert run_cli(["enforce-gate", "", "executing", "plan.md"], cwd=project).code == 0
    from clavain.gate.store import Store

    with Store.open(project) as store:
        cached = store.conn.execute("SELECT count(*) FROM cache WHERE kind = 'plan-reads-ok'").fetchone()[0]
    assert cached == 1
    plan.write_text("# broken\n\nno tasks any more\n")
    r = run_cli(["enforce-gate", "", "executing", "plan.md"], cwd=project)
    assert r.code == 2 and "no tasks found" in r.err
    plan.write_text(PLAN)
    assert run_cli(["enforce-gate", "", "executing", "plan.md"], cwd=project).code == 0


def _review(project, name: str, text: str, age: float) -> None:
    path = project / "docs" / "research" / "flux-drive" / name / "findings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))


@pytest.mark.parametrize("review,stale", [
    (None, False),
    (("r1", '{"plan": "plan.md"}', 3600), True),          # older than the plan
    (("r1", '{"plan": "plan.md"}', -60), False),          # newer than the plan
    (("r1", '{"bead": "demo-abc1"}', 3600), True),        # names the bead
    (("r1", '{"plan": "other.md"}', 3600), False),        # about another plan
])
def test_stale_review_warns_but_does_not_block(project, review, stale):
    write_plan(project)
    if review:
        _review(project, *review)
    r = run_cli(["enforce-gate", BEAD, "executing", "plan.md"], cwd=project)
    assert r.code == 0
    assert ("stale review: docs/research/flux-drive/r1/findings.json" in r.err) == stale


def test_recording_a_phase_does_not_make_a_review_stale(project):
    plan = write_plan(project)
    stamp = time.time() - 7200
    os.utime(plan, (stamp, stamp))
    _review(project, "r1", '{"plan": "plan.md"}', 3600)
    assert run_cli(["advance-phase", BEAD, "plan-reviewed", "reviewed", "plan.md"], cwd=project).code == 0
    r = run_cli(["enforce-gate", BEAD, "executing", "plan.md"], cwd=project)
    assert r.code == 0 and "stale" not in r.err
    plan.write_text(plan.read_text() + "\n### Task 3: More\n\nAnother step.\n")
    assert "stale review" in run_cli(["enforce-gate", BEAD, "executing", "plan.md"], cwd=project).err


def test_review_glob_comes_from_config(project):
    write_plan(project)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text("gate:\n  review_glob: reviews/*.md\n")
    path = project / "reviews" / "r.md"
    path.parent.mkdir()
    path.write_text("review of plan.md")
    os.utime(path, (time.time() - 3600,) * 2)
    assert "stale review: reviews/r.md" in run_cli(["enforce-gate", "", "executing", "plan.md"], cwd=project).err


@pytest.mark.parametrize("config,fragment", [
    ("gate:\n  default_tier: strict\n", "config.yaml:2: gate.default_tier is 'strict'"),
    ("gate:\n  nope: 1\n", "config.yaml:2: unknown setting gate.nope"),
    ("gate: [1, 2\n", "config is not valid YAML"),
    ("gate:\n  bd_timeout: -1\n", "gate.bd_timeout"),
    ("gate:\n  review_glob: ../x/*.json\n", "gate.review_glob"),
])
def test_bad_config_is_bad_input_with_location(project, config, fragment):
    write_plan(project)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text(config)
    r = run_cli(["enforce-gate", BEAD, "planned", "plan.md"], cwd=project)
    assert r.code == 2 and fragment in r.err and "next: fix" in r.err


def test_empty_bead_records_the_phase_against_the_plan_path(project):
    write_plan(project, "docs/plans/p.md")
    r = run_cli(["advance-phase", "", "executing", "start", "docs/plans/p.md"], cwd=project)
    assert r.code == 0, r.err
    assert r.out == "docs/plans/p.md: (none) -> executing\n"
    assert [row.phase for row in history(project, "plan", "docs/plans/p.md")] == ["executing"]
    assert run_cli(["phase", "", "docs/plans/p.md"], cwd=project).out == "executing\n"
    assert run_cli(["phase", BEAD], cwd=project).out == "\n"


def test_a_phase_moved_by_another_process_during_the_gate_is_judged_again(project, tmp_path):
    """The gate reads the phase (planned -> executing is allowed), then waits on a slow bd; meanwhile
    another writer moves the phase back to brainstorm. The write transaction judges again and refuses."""
    import subprocess
    import sys

    from conftest import CLI

    write_plan(project)
    set_phase(project, "bead", BEAD, "planned")
    started = tmp_path / "bd-started"
    env, _ = bd_env(tmp_path, {BEAD: {"priority": 1}}, sleep="1", started=str(started))
    proc = subprocess.Popen([str(CLI), "advance-phase", BEAD, "executing", "go", "plan.md"], cwd=project,
                            env={**os.environ, **env, "CLAVAIN_PYTHON": sys.executable}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    set_phase(project, "bead", BEAD, "brainstorm")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "brainstorm -> executing is not an allowed transition" in err
    assert [row.phase for row in history(project, "bead", BEAD)] == ["planned", "brainstorm"]
    last = decisions(project)[-1]
    assert (last.command, last.outcome, last.from_phase) == ("advance-phase", "block", "brainstorm")
    assert "**Phase:**" not in (project / "plan.md").read_text()
