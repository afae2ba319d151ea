"""`plan show` output (human and --json) of one plan of each format, locked by golden files.

Rewrite the golden files after an intended change with: CLAVAIN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_plan_golden.py
"""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, check_golden, run_cli

CASES = ROOT / "tests" / "cases" / "plan"

PLANS = ["superpowers-features.md", "speckit-tasks.md", "gsd-PLAN.md", "numbered.md", "manifest-plan.md"]
VARIANTS = [("show.txt", []), ("show.json", ["--json"]), ("show-batch-2.txt", ["--batch-size", "2"])]




@pytest.mark.parametrize("variant, extra", VARIANTS, ids=[v[0] for v in VARIANTS])
@pytest.mark.parametrize("plan", PLANS)
def test_plan_show_golden(plan, variant, extra):
    result = run_cli(["plan", "show", plan, *extra], cwd=CASES)
    assert result.code == 0, result.err
    check_golden("plan", f"{plan.rsplit('.', 1)[0]}.{variant}", result.out)


def test_sample_plan_golden():
    result = run_cli(["plan", "show", "examples/sample-plan.md"], cwd=ROOT)
    assert result.code == 0, result.err
    check_golden("plan", "sample-plan.show.txt", result.out)


@pytest.mark.parametrize("plan", PLANS)
def test_json_has_the_promised_fields(plan):
    data = json.loads(run_cli(["plan", "show", plan, "--json"], cwd=CASES).out)
    for key in ("title", "bead", "format", "must_haves", "tasks", "batches"):
        assert key in data
    for task in data["tasks"]:
        for key in ("id", "title", "line", "files", "verify", "depends"):
            assert key in task
    listed = [task_id for batch in data["batches"] for task_id in batch["tasks"]]
    assert listed == [task["id"] for task in data["tasks"]]


@pytest.mark.parametrize("plan", PLANS)
def test_validate_prints_one_ok_line(plan):
    result = run_cli(["plan", "validate", plan], cwd=CASES)
    assert result.code == 0
    assert result.out.startswith(f"OK {plan}: ") and result.out.count("\n") == 1
