"""The gate commands as the execute-plan command's gate sequence runs them, through the real bin/clavain-cli,
and their rendered text (the transition table, a refusal) locked by golden files."""

from __future__ import annotations

import pytest

import re

from conftest import ROOT, run_bin, run_cli
from conftest import check_golden
from gate_support import PLAN, bd_env, bd_state, write_plan


def test_phase_graph_golden(project):
    r = run_cli(["phase", "--graph"], cwd=project)
    assert r.code == 0 and r.err == ""
    check_golden("gate", "graph.txt", r.out)


def test_hard_refusal_golden(project):
    write_plan(project)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text("gate:\n  default_tier: hard\n")
    assert run_cli(["advance-phase", "demo-abc1", "brainstorm", "idea", "plan.md"], cwd=project).code == 0
    r = run_cli(["enforce-gate", "demo-abc1", "executing", "plan.md"], cwd=project)
    assert r.code == 1
    next_step = r.err.split("next: ", 1)[1]
    # the model is told to stop; the ways out are the user's, not commands for the model to run next
    assert next_step.startswith("show this to the user and stop")
    assert "the user sets CLAVAIN_SKIP_GATE='<reason>' themselves" in next_step
    assert "the user reviews the plan" in next_step
    check_golden("gate", "refusal-hard.txt", r.err)


def test_gate_sequence_through_the_real_cli_with_bd(project, tmp_path):
    write_plan(project)
    env, state = bd_env(tmp_path, {"demo-abc1": {"priority": 1, "phase": "plan-reviewed"}})
    bead = run_bin(["infer-bead", "plan.md"], cwd=project, env=env)
    assert (bead.code, bead.out) == (0, "demo-abc1\n")
    gate = run_bin(["enforce-gate", "demo-abc1", "executing", "plan.md"], cwd=project, env=env)
    assert gate.code == 0, gate.err
    advance = run_bin(["advance-phase", "demo-abc1", "executing", "Executing: plan.md", "plan.md"], cwd=project,
                      env=env)
    assert advance.code == 0, advance.err
    assert advance.out == "demo-abc1: plan-reviewed -> executing\n"
    issue = bd_state(state)["issues"]["demo-abc1"]
    assert issue["phase"] == "executing" and issue["reasons"] == ["Executing: plan.md"]
    assert "**Bead:** `demo-abc1`\n**Phase:** executing (as of " in (project / "plan.md").read_text()
    assert run_bin(["phase", "demo-abc1"], cwd=project, env=env).out == "executing\n"
    # resuming the run later is not a violation, even at a hard tier
    again = run_bin(["enforce-gate", "demo-abc1", "executing", "plan.md"], cwd=project, env=env)
    assert again.code == 0 and again.err == ""


@pytest.mark.parametrize("argv,code,fragment", [
    (["enforce-gate", "demo-abc1", "a|b", "plan.md"], 2, "unknown phase 'a|b'"),
    (["advance-phase", "demo-abc1", "done", "", "plan.md"], 1, "gate blocked: bead demo-abc1 is at phase (none)"),
    (["enforce-gate", "demo-abc1", "executing", "missing.md"], 2, "missing.md: plan file not found"),
    (["infer-bead", "missing.md"], 2, "plan file not found"),
    (["phase", "--graph", "demo-abc1"], 2, "phase --graph takes no bead"),
    (["phase"], 2, "phase needs a bead id"),
])
def test_exit_codes_through_the_real_cli(project, argv, code, fragment):
    write_plan(project)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text("gate: {default_tier: hard}\n")
    r = run_bin(argv, cwd=project)
    assert r.code == code, r.err
    assert fragment in r.err and "next:" in r.err and "Traceback" not in r.err


@pytest.mark.parametrize("store,bd,header,expected", [
    (None, None, None, ""),
    ("planned", "brainstorm", "done", "planned"),      # the store leads
    (None, "strategized", "done", "strategized"),      # then bd
    (None, None, "done", "done"),                      # then the plan's Phase line
])
def test_phase_reads_store_then_bd_then_plan(project, tmp_path, store, bd, header, expected):
    text = PLAN if header is None else PLAN.replace("# Demo plan\n", f"# Demo plan\n**Phase:** {header}\n")
    write_plan(project, text=text)
    env, _ = bd_env(tmp_path, {"demo-abc1": {"phase": bd} if bd else {}})
    if store:
        from gate_support import set_phase

        set_phase(project, "bead", "demo-abc1", store)
    r = run_cli(["phase", "demo-abc1", "plan.md"], cwd=project, env=env)
    assert (r.code, r.out) == (0, expected + "\n")


def test_repeated_gate_calls_import_no_heavy_library(project):
    write_plan(project)
    assert run_bin(["enforce-gate", "demo-abc1", "executing", "plan.md"], cwd=project).code == 0  # reads the plan
    for argv in (["enforce-gate", "demo-abc1", "executing", "plan.md"],
                 ["advance-phase", "demo-abc1", "executing", "resume", "plan.md"]):
        r = run_bin(argv, cwd=project, env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert r.code == 0, r.err
        imported = {line.split("|")[-1].strip() for line in r.err.splitlines() if line.startswith("import time:")}
        assert "clavain.gate.gates" in imported and "_sqlite3" in imported
        assert not imported & {"yaml", "pydantic", "jinja2", "markdown_it", "subprocess"}


@pytest.mark.parametrize("path", ["tests/standin/bd", "clavain/commands/gate.py", "examples/demo.sh",
                                  "tests/test_gate_cli.py"])
def test_gate_texts_point_nowhere_outside_the_repository(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    assert not re.search(r"\bs[e]ed\b|DESIGN[.]md", text), path  # notes kept outside this repository


def test_bd_standin_states_the_contract_inline():
    doc = (ROOT / "tests" / "standin" / "bd").read_text(encoding="utf-8").split('"""')[1]
    for words in ("bd show <id> --json", "JSON array", "first element", "object", "bd state <id> phase",
                  "bd set-state <id> phase=<p> --reason <r>", "bd update <id> --append-notes <text>"):
        assert words in doc, words
