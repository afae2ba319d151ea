"""What `run must-haves` says for each kind of result, locked by a golden file.

A found item reads "ok", a missing one "MISSING", and an item the checker cannot decide (``ok`` is None:
prose instead of a file, nothing checkable named) reads "check yourself" with the checker's detail."""

from __future__ import annotations

import pytest

from conftest import check_golden
from test_run_support import js, normalise, ok, write_plan

PLAN = """\
# Must-Haves Plan

**Goal:** one of each kind of Must-Have result.

## Must-Haves

**Truths:**
- The report reads well

**Artifacts:**
- `app/core.py` exports `load`
- `app/missing.py` exports `gone`

**Key Links:**
- `app/cli.py` imports `load` from `app.core` and calls `load(`
- `app/other.py` imports `load` from `app.core`
- `the settings page` -> `app/core.py` via the save button

### Task 1: Only task

- [ ] **Step 1: Nothing**
"""


@pytest.fixture
def checked(project):
    write_plan(project, PLAN)
    (project / "app").mkdir()
    (project / "app" / "core.py").write_text("def load():\n    return 1\n")
    (project / "app" / "cli.py").write_text("from app.core import load\n\nprint(load())\n")
    (project / "app" / "other.py").write_text("print('no import here')\n")
    ok(project, "start", "plan.md")
    return project


def test_each_result_kind_reads_as_it_should(checked):
    out = ok(checked, "must-haves").out
    check_golden("run", "must-haves.txt", normalise(out, checked))
    assert "MISSING · artifact: app/missing.py" in out
    assert "check yourself · key link: the settings page -> app/core.py (from 'the settings page'" in out


def test_undecided_items_do_not_fail_the_report(checked):
    report = js(checked, "must-haves")["must_haves"]
    undecided = [k for k in report["key_links"] if k["ok"] is None]
    assert [k["what"] for k in undecided] == ["the settings page -> app/core.py"]
    assert report["ok"] is False  # the missing artifact and the link without an import fail it


def test_a_state_holding_the_report_is_rebuilt_from_the_journal_unchanged(checked):
    """The report is a free-form dict in the state; replaying the journal must give the same state digest."""
    from test_run_support import run_dir

    ok(checked, "must-haves")
    before = (run_dir(checked) / "run.json").read_text()
    (run_dir(checked) / "run.json").unlink()
    status = js(checked, "status")
    assert status["state"] == "running" and not any("tamper" in n for n in status["notes"])
    assert (run_dir(checked) / "run.json").read_text() == before
