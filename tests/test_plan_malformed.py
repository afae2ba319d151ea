"""Every malformed plan exits 2 with `path:line: message` and a `next:` hint on stderr, never a traceback."""

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
    ("verify-without-run.md", 5, "without a `- run:` entry", None),
    ("verify-expect-first.md", 6, "`expect:` before any", None),
    ("verify-unclosed.md", 5, "never closed with `</verify>`", None),
    ("verify-run-no-backticks.md", 6, "command in backticks", None),
    ("verify-bad-expect.md", 7, "unknown expectation 'success'", None),
    ("bad-frontmatter.md", 3, "invalid YAML in frontmatter", None),
    ("unclosed-frontmatter.md", 1, "frontmatter opened on line 1 is never closed", None),
    ("frontmatter-not-mapping.md", 2, "must be a mapping", None),
    ("yaml-alias.md", 3, "aliases", None),
    ("empty.md", 1, "the plan is empty", None),
    ("blank.md", 1, "the plan is empty", None),
    ("no-tasks.md", 1, "no tasks found; looked for `## Task N: title`", None),
    ("unknown-dependency.md", 7, "depends on unknown task '7'", None),
    ("duplicate-id.md", 5, "duplicate task id '1' (first on line 3)", None),
    ("cycle.md", 9, "dependency cycle: 1 -> 2 -> 1", None),
    ("self-dependency.md", 5, "dependency cycle: 1 -> 1", None),
    ("forward-dependency.md", 5, "depends on task 2, which comes after it", None),
    ("artifact-without-path.md", 6, "artifact must start with its path in backticks", None),
    ("key-link-unparsed.md", 6, "key link not understood", None),
    ("gsd-unclosed-task.md", 3, "never closed with `</task>`", None),
    ("gsd-unknown-type.md", 3, "unknown GSD task type 'magic'", None),
    ("gsd-bad-wave.md", 2, "`wave` must be a whole number", None),
    ("gsd-bad-must-haves.md", 2, "min_lines", None),
    ("speckit-unknown-dependency.md", 4, "T002 depends on unknown task 'T009'", None),
    ("manifest-unknown-dependency.md", 7, "depends on unknown task 'task-5'", "manifest-unknown-dependency.exec.yaml"),
    ("manifest-bad-mode.md", 2, "unknown mode 'sometimes'", "manifest-bad-mode.exec.yaml"),
    ("manifest-bad-yaml.md", 3, "invalid YAML in manifest", "manifest-bad-yaml.exec.yaml"),
    ("manifest-extra-task.md", 7, "manifest task 'task-9' has no `Task 9` in the plan", "manifest-extra-task.exec.yaml"),
    ("manifest-missing-task.md", 5, "task 2 is in the plan but not in the manifest", None),
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


@pytest.mark.parametrize("files, named, what", [
    ({"plan.md": "---\n" + NESTED + "---\n# Plan\n\n### Task 1: One\n"}, "plan.md", "frontmatter"),
    ({"plan.md": "# Plan\n\n### Task 1: One\n", "plan.exec.yaml": NESTED}, "plan.exec.yaml", "manifest"),
], ids=["frontmatter", "manifest"])
def test_too_deeply_nested_yaml_names_the_way_out(tmp_path, files, named, what):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = run_cli(["plan", "validate", "plan.md"], cwd=tmp_path)
    first = result.err.splitlines()[0]
    assert result.code == 2 and "nested more than" in first and first.startswith(f"{tmp_path / named}:"), result.err
    assert f"next: fix the {what}, then: clavain-cli plan validate {tmp_path / named}" in result.err
