"""`plan show` and `infer-bead` agree on a plan's bead, placeholders included."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli

TASKS = "\n### Task 1: One\n\nDo it.\n"


@pytest.mark.parametrize("header, bead", [
    ("**Bead:** `my-proj-abc1`", "my-proj-abc1"),
    ("**Bead:** demo-abc1.2", "demo-abc1.2"),
    ("**Bead:** Clavain-XXXX", None),
    ("**Bead:** `<bead_id>`", None),
    ("**Bead:** none", None),
    ("Bead: iv-xk3", "iv-xk3"),
    ("", None),
])
def test_plan_show_and_infer_bead_agree(project, header, bead):
    plan = project / "plan.md"
    plan.write_text(f"# Plan\n\n{header}\n{TASKS}")
    shown = run_cli(["plan", "show", plan, "--json"], cwd=project)
    inferred = run_cli(["infer-bead", plan], cwd=project)
    assert shown.code == 0 and inferred.code == 0, shown.err + inferred.err
    assert json.loads(shown.out)["bead"] == bead
    assert inferred.out.strip() == (bead or "")
