"""Details that do not change what to execute never refuse a plan: it reads, and each leniency is a
`path:line: text` warning that `plan validate`, `plan show` and `run start` print. No task is lost in silence.

The fixtures under tests/cases/plan/degraded are written from the shapes real plans take (prose Must-Haves and
<verify> expectations, GSD extra keys and types, repeated spec-kit ids, mis-nested fences, numbering gaps)."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT, run_cli

CASES = ROOT / "tests" / "cases" / "plan" / "degraded"

# fixture, line of the warning, words it holds, task ids read, file the warning names (None: the plan)
TABLE = [
    ("verify-without-run.md", 5, "`<verify>` block without a `- run:` entry", ["1"], None),
    ("verify-expect-first.md", 6, "`expect:` before any `- run:` entry is left out", ["1"], None),
    ("verify-unclosed.md", 5, "never closed with `</verify>`; it ends with its task", ["1"], None),
    ("verify-run-no-backticks.md", 6, "`run:` without backticks: the command run is `make test`", ["1"], None),
    ("verify-bad-expect.md", 7, "expectation 'success' is not `exit N`", ["1"], None),
    ("verify-prose.md", 10, "expectation 'contains a non-zero number' is not `exit N`", ["1"], None),
    ("bad-frontmatter.md", 3, "invalid YAML in frontmatter: expected ',' or ']'", ["1"], None),
    ("frontmatter-not-mapping.md", 2, "frontmatter must be a mapping", ["1"], None),
    ("yaml-alias.md", 3, "aliases (*name) are not allowed here; the frontmatter is ignored", ["1"], None),
    ("duplicate-id.md", 5, "task id 1 is used 2 times (lines 3, 5); they are read as 1, 1-2", ["1", "1-2"], None),
    ("speckit-repeated-ids.md", 7, "task id T010 is used 5 times (lines 6, 7, 11, 14, 15); they are read as T010, "
     "T010-2, T010-3, T010-4, T010-5", ["T001", "T010", "T010-2", "T010-3", "T018", "T018a", "T010-4", "T010-5"], None),
    ("numbering-gap.md", 7, "task numbering jumps from 2 to 4", ["1", "2", "4", "5"], None),
    ("misnested-fence.md", 12, "read as nested so that `### Task 3: Examples page` on line 22 counts",
     ["1", "2", "3", "4"], None),
    ("unclosed-fence-tail.md", 9, "code fence ``` opened on this line is never closed; the rest of the plan",
     ["1"], None),
    ("unclosed-comment-tail.md", 5, "HTML comment `<!--` opened on this line is never closed", ["1"], None),
    ("artifact-without-path.md", 6, "artifact cannot be checked by machine", ["1"], None),
    ("key-link-unparsed.md", 6, "key link cannot be checked by machine", ["1"], None),
    ("prose-must-haves.md", 13, "artifact cannot be checked by machine", ["1", "2"], None),
    ("must-haves-not-mapping.md", 2, "frontmatter `must_haves` is not a mapping", ["1"], None),
    ("gsd-bad-must-haves.md", 2, "must-have artifact 'a.py' is malformed (min_lines", ["1"], None),
    ("gsd-extra-keys.md", 7, "keys ['modified_lines'] are left out", ["1", "2", "3"], None),
    ("gsd-unknown-type.md", 3, "GSD task type 'magic' read as 'auto'", ["1"], None),
    ("gsd-bad-wave.md", 2, "frontmatter `wave` is not a whole number", ["1"], None),
    ("gsd-unclosed-task.md", 3, "`<task>` element is never closed with `</task>`; read up to line 4", ["1", "2"],
     None),
    ("manifest-bad-mode.md", 2, "unknown mode 'sometimes' read as all-sequential", ["1", "2"],
     "manifest-bad-mode.exec.yaml"),
    ("manifest-bad-yaml.md", 3, "invalid YAML in manifest", ["1"], "manifest-bad-yaml.exec.yaml"),
    ("manifest-extra-task.md", 7, "manifest task 'task-9' has no `Task 9` in the plan; it is read from the manifest "
     "alone", ["1", "task-9"], "manifest-extra-task.exec.yaml"),
    ("manifest-missing-task.md", 5, "task(s) 2 of the plan are not in the manifest", ["1", "2"], None),
]


def test_every_degraded_fixture_is_in_the_table():
    assert {p.name for p in CASES.glob("*.md")} == {row[0] for row in TABLE}


@pytest.mark.parametrize("name, line, words, ids, named", TABLE, ids=[row[0] for row in TABLE])
def test_degraded_plan_reads_with_a_warning(name, line, words, ids, named):
    expected = f"warning: {CASES / (named or name)}:{line}: "
    validate = run_cli(["plan", "validate", name], cwd=CASES)
    assert validate.code == 0, validate.err
    assert validate.out.startswith(f"OK {name}: ")
    assert any(w.startswith(expected) and words in w for w in validate.err.splitlines()), validate.err
    show = run_cli(["plan", "show", name, "--json"], cwd=CASES)
    assert show.code == 0 and show.err == validate.err
    data = json.loads(show.out)
    assert [t["id"] for t in data["tasks"]] == ids
    assert [w.removeprefix(f"warning: {CASES}/") for w in validate.err.splitlines()] == data["warnings"]
    assert all(re.match(r"\S+:\d+: \S", w) for w in data["warnings"])


def test_run_start_prints_the_plan_warnings(project):
    from test_run_support import ok

    (project / "plan.md").write_text((CASES / "numbering-gap.md").read_text())
    out = ok(project, "start", "plan.md").out
    # the Phase line that the start writes below the title moves the task one line down
    assert "\nwarning: plan.md:8: task numbering jumps from 2 to 4" in out


def read(name: str):
    from clavain.plan.reader import read_plan

    return read_plan(CASES / name)


def test_prose_verify_expectations_run_and_are_judged():
    entries = read("verify-prose.md").task("1").verify
    assert [(v.run, v.expect_exit, v.expect_contains, v.expect_prose) for v in entries] == [
        ("grep -c TODO src/count.py", None, None, "contains a non-zero number"),
        ("go test ./...", 0, None, None),
        ("make test", None, None, "PASS"),
    ]


def test_prose_must_haves_become_the_users_checklist():
    mh = read("prose-must-haves.md").must_haves
    assert [a.path for a in mh.artifacts] == ["tests/shell/runner.bats", "src/collect.py", "src/summary.py"]
    assert [a.provides for a in mh.artifacts] == ["the runner's behaviour tests", "the two halves of the report",
                                                  "the two halves of the report"]
    assert [(k.from_, k.to) for k in mh.key_links] == [("src/cli.py", "src/collect.py")]
    assert mh.checklist == ["Go and Bats tests cover the new runner.",
                            "Runner `scripts/suite-report.py`: validated counts and summaries.",
                            "Installer fixture → shared template → the real sync script."]


def test_gsd_extra_keys_and_types_read_as_the_nearest_known():
    plan = read("gsd-extra-keys.md")
    assert [t.kind for t in plan.tasks] == ["auto", "auto", "checkpoint:human-verify"]
    assert plan.checkpoints_after == ["3"]
    assert [(a.path, a.provides) for a in plan.must_haves.artifacts] == [("src/search.ts", "ranked search")]
    assert plan.must_haves.checklist == ["the search page feels fast"]
    assert plan.task("3").ask_user == ('1. Open the search page\n2. Type "lab" and check the lab is first\n\n'
                                       'Reply: Type "approved" or describe issues')


def test_repeated_ids_keep_dependencies_on_every_earlier_copy():
    plan = read("speckit-repeated-ids.md")
    assert plan.task("T018a").depends == ["T010", "T010-2", "T010-3"]
    assert plan.task("T010-3").section == "Phase 2: User Story 1 - Sync files (Priority: P1)"


def test_the_gate_reads_a_misnested_plan_as_the_reader_does():
    """The gate's fast path (Phase line, bead) and the reader agree on what is inside a fence."""
    from clavain.plan.lines import split_lines, structural_lines
    from clavain.plan.source import load_source

    text = (CASES / "misnested-fence.md").read_text()
    source = load_source(text, "p.md")
    assert [i + 1 for i, _ in structural_lines(split_lines(text))] == [n for n, _ in source.rows]
