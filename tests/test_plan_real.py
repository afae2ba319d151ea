"""Every real plan reads with exactly the task count the plans' README gives; those without tasks get the clear error."""

from __future__ import annotations

import re

import pytest

from conftest import SHARED, SHARED_PLANS, run_cli


def expected_counts() -> dict[str, int]:
    table = (SHARED / "plans" / "README.md").read_text()
    return {name: int(count) for name, count in re.findall(r"^\|\s*(\S+\.md)\s*\|\s*(\d+)\s*\|", table, re.MULTILINE)}


COUNTS = expected_counts()


def test_the_readme_table_covers_every_plan_file():
    assert len(COUNTS) >= 17
    assert set(COUNTS) == {p.name for p in SHARED_PLANS.glob("*.md")}


@pytest.mark.parametrize("name", sorted(n for n, c in COUNTS.items() if c))
def test_real_plan_task_count(name):
    from clavain.plan.reader import read_plan

    plan = read_plan(SHARED_PLANS / name)
    assert len(plan.tasks) == COUNTS[name]
    assert plan.format == "superpowers"
    lines = (SHARED_PLANS / name).read_text().split("\n")
    for task in plan.tasks:
        heading = lines[task.line - 1]
        assert re.match(rf"#{{2,3}} Task {re.escape(task.id)}\b", heading), heading
        assert task.line <= task.end_line
    assert [t.line for t in plan.tasks] == sorted(t.line for t in plan.tasks)


@pytest.mark.parametrize("name", sorted(n for n, c in COUNTS.items() if not c))
def test_real_plan_without_tasks_gets_the_clear_error(name, tmp_path):
    result = run_cli(["plan", "validate", str(SHARED_PLANS / name)], cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith(f"{SHARED_PLANS / name}:1: no tasks found; looked for ")
    for shape in ("## Task N", "- [ ] T001", "<task type=", "### 1. Title", ".exec.yaml"):
        assert shape in result.err


def test_ids_as_written_in_the_plan_with_lettered_tasks():
    from clavain.plan.reader import read_plan

    plan = read_plan(SHARED_PLANS / "2026-05-06-lift-drill-into-evals.md")
    ids = [t.id for t in plan.tasks]
    assert ids[9:18] == ["10", "10a", "10b", "10c", "10d", "10e", "10f", "10g", "10h"]
    assert read_plan(SHARED_PLANS / "2026-06-11-visual-companion-final-hardening-fixup.md").tasks[0].id == "0"


def test_fenced_example_plans_are_not_tasks():
    """This plan shows a `### Task N:` template inside a fence; it must not count."""
    from clavain.plan.reader import read_plan

    plan = read_plan(SHARED_PLANS / "2026-01-22-document-review-system.md")
    assert "N" not in [t.id for t in plan.tasks]


@pytest.mark.parametrize("name", sorted(n for n, c in COUNTS.items() if c))
def test_fence_scanner_agrees_with_commonmark(name):
    """Our line scanner and markdown-it-py see the same headings outside fences."""
    from markdown_it import MarkdownIt

    from clavain.plan.source import load_source

    text = (SHARED_PLANS / name).read_text()
    tokens = MarkdownIt("commonmark").parse(text)
    commonmark = {tok.map[0] + 1 for tok in tokens if tok.type == "heading_open"}
    ours = {h.line for h in load_source(text, name).headings}
    assert ours == commonmark
