"""What makes execution ambiguous or impossible exits 2 with `path:line: message` and a `next:` hint on stderr,
never a traceback: no tasks, a dependency on an unknown or later task, a cycle, unclosed frontmatter, an unclosed
fence or comment that hides a task, an unreadable file, a manifest that cannot be applied. Everything else
degrades with a warning (tests/test_plan_degraded.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT, run_bin, run_cli

CASES = ROOT / "tests" / "cases" / "plan" / "malformed"

# fixture file, line the error points at (None: no line), words the message must hold,
# file the error names when it is not the plan itself
TABLE = [
    ("unclosed-fence.md", 5, "code fence", None),
    ("unclosed-comment.md", 3, "never closed with `-->`", None),
    ("unclosed-frontmatter.md", 1, "frontmatter opened on line 1 is never closed", None),
    ("empty.md", 1, "the plan is empty", None),
    ("blank.md", 1, "the plan is empty", None),
    ("no-tasks.md", 1, "no tasks found; looked for `## Task N: title`", None),
    ("unknown-dependency.md", 7, "depends on unknown task '7'", None),
    ("cycle.md", 9, "dependency cycle: 1 -> 2 -> 1", None),
    ("self-dependency.md", 5, "dependency cycle: 1 -> 1", None),
    ("forward-dependency.md", 5, "depends on task 2, which comes after it", None),
    ("speckit-unknown-dependency.md", 4, "T002 depends on unknown task 'T009'", None),
    ("manifest-unknown-dependency.md", 7, "depends on unknown task 'task-5'", "manifest-unknown-dependency.exec.yaml"),
]


def assert_bad_input(result, path: Path, line: int | None, words: str) -> None:
    assert result.code == 2, result
    assert "Traceback" not in result.err
    first = result.err.splitlines()[0]
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert first.startswith(where), first
    assert words in first
    assert re.search(r"^next: \S", result.err, re.MULTILINE), result.err
    assert result.out == ""


@pytest.mark.parametrize("name, line, words, named", TABLE, ids=[row[0] for row in TABLE])
@pytest.mark.parametrize("verb", ["validate", "show"])
def test_malformed_fixture_exits_2_with_location(name, line, words, named, verb):
    result = run_cli(["plan", verb, name], cwd=CASES)
    assert_bad_input(result, CASES / (named or name), line, words)


def test_every_malformed_fixture_is_in_the_table():
    listed = {row[0] for row in TABLE}
    assert {p.name for p in CASES.glob("*.md")} == listed


@pytest.mark.parametrize("make, line, words", [
    (lambda p: None, None, "no such file"),
    (lambda p: p.mkdir(), None, "is a folder, not a plan file"),
    (lambda p: p.write_bytes(b"# Plan\n\n\x00\x01\x02binary"), 3, "binary"),
    (lambda p: p.write_bytes(b"# Plan\n\xff\xfe not utf-8\n"), 2, "not UTF-8 text"),
    (lambda p: p.write_text("# Plan\n\n### Task 1: One\n" + "x" * (10 * 1024 * 1024) + "\n"), 4, "characters long"),
], ids=["missing", "directory", "binary", "not-utf8", "10MB-line"])
def test_unreadable_inputs_exit_2(tmp_path, make, line, words):
    plan = tmp_path / "plan.md"
    make(plan)
    assert_bad_input(run_cli(["plan", "validate", "plan.md"], cwd=tmp_path), plan, line, words)


def test_device_is_refused_without_reading_it(tmp_path):
    result = run_cli(["plan", "validate", "/dev/zero"], cwd=tmp_path)
    assert_bad_input(result, Path("/dev/zero"), None, "not a regular file")


def test_oversized_file_is_refused_before_reading(tmp_path):
    plan = tmp_path / "big.md"
    with plan.open("wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    assert_bad_input(run_cli(["plan", "validate", "big.md"], cwd=tmp_path), plan, 1, "a plan must be under")


@pytest.mark.parametrize("argv, words", [
    (["plan", "show", "x.md", "--batch-size", "0"], "batch size must be a whole number of at least 1"),
    (["plan", "show", "x.md", "--batch-size", "three"], "invalid int value"),
    (["plan"], ""),
])
def test_bad_usage_exits_2(tmp_path, argv, words):
    (tmp_path / "x.md").write_text("# P\n\n### Task 1: One\n")
    result = run_cli(argv, cwd=tmp_path)
    assert result.code == 2
    assert words in result.err
    assert "Traceback" not in result.err


def test_real_binary_reports_bad_plan_on_stderr(tmp_path):
    """The installed entry point (a real subprocess) keeps the same contract."""
    result = run_bin(["plan", "validate", str(CASES / "unclosed-fence.md")], cwd=tmp_path)
    assert_bad_input(result, CASES / "unclosed-fence.md", 5, "code fence")


NESTED = "deep: " + "[" * 60 + "]" * 60 + "\n"


@pytest.mark.parametrize("files, named, what, code", [
    ({"plan.md": "---\n" + NESTED + "---\n# Plan\n\n### Task 1: One\n"}, "plan.md", "frontmatter", 0),
    ({"plan.md": "# Plan\n\n### Task 1: One\n", "plan.exec.yaml": NESTED}, "plan.exec.yaml", "manifest", 0),
    ({"plan.md": "# Plan\n", "plan.exec.yaml": NESTED}, "plan.exec.yaml", "manifest", 2),
], ids=["frontmatter", "manifest", "manifest-of-a-plan-without-tasks"])
def test_too_deeply_nested_yaml(tmp_path, files, named, what, code):
    """Ignored with a warning when the plan has tasks of its own; refused when nothing else says what to run."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = run_cli(["plan", "validate", "plan.md"], cwd=tmp_path)
    assert result.code == code, result.err
    first = result.err.splitlines()[0]
    assert "nested more than" in first
    if code:
        assert first.startswith(f"{tmp_path / named}:")
        assert f"next: fix the {what}, then: clavain-cli plan validate {tmp_path / named}" in result.err
    else:
        assert first.startswith(f"warning: {tmp_path / named}:") and first.endswith("ignored" if what == "frontmatter"
                                                                                   else "the plan's order counts")
