"""Each plan format reads into the same model: ids, sections, files, steps, verify, dependencies, checkpoints."""

from __future__ import annotations

import hashlib

import pytest

from conftest import ROOT

CASES = ROOT / "tests" / "cases" / "plan"


def read(name: str):
    from clavain.plan.reader import read_plan

    return read_plan(CASES / name if "/" not in name else ROOT / name)


# file, format, ids, parallel ids, done ids, checkpoints_after, bead, title
TABLE = [
    ("examples/sample-plan.md", "superpowers", ["1", "2", "3", "4"], [], [], ["2"], "demo-abc1",
     "Greeting Module Implementation Plan"),
    ("superpowers-features.md", "superpowers", ["1", "2", "2.1", "10a", "10b"], ["2", "2.1"], ["1"], ["2.1"],
     "demo-x9k2.3", "Parser Hardening Plan"),
    ("speckit-tasks.md", "speckit", ["T001", "T002", "T003", "T004", "T005", "T006", "T007", "T008"],
     ["T002", "T003", "T004", "T005", "T006", "T008"], ["T001"], ["T003", "T008"], None, "Tasks: Photo Albums"),
    ("gsd-PLAN.md", "gsd", ["1", "2", "3", "4"], [], [], ["3"], None, "Add email/password login."),
    ("numbered.md", "numbered", ["1", "2", "3"], [], ["2"], [], None, "Tidy the config loader"),
    ("numbered-steps.md", "numbered", ["1", "2", "3"], [], [], [], None, "Rotate the signing key"),
    ("manifest-plan.md", "manifest", ["1", "2", "3", "4"], ["1", "2", "3", "4"], [], ["1"], None, "Interserve modes"),
]


@pytest.mark.parametrize("name, fmt, ids, parallel, done, checkpoints, bead, title", TABLE, ids=[r[0] for r in TABLE])
def test_format_reads_into_the_model(name, fmt, ids, parallel, done, checkpoints, bead, title):
    plan = read(name)
    assert plan.format == fmt
    assert [t.id for t in plan.tasks] == ids
    assert [t.id for t in plan.tasks if t.parallel] == parallel
    assert [t.id for t in plan.tasks if t.done] == done
    assert plan.checkpoints_after == checkpoints
    assert plan.bead == bead
    assert plan.title == title


@pytest.mark.parametrize("name", [r[0] for r in TABLE])
def test_digests(name):
    from clavain.core.digest import plan_digest

    path = CASES / name if "/" not in name else ROOT / name
    text = path.read_text()
    plan = read(name)
    assert plan.sha256 == plan_digest(text)
    lines = text.split("\n")
    for task in plan.tasks:
        if plan.format != "manifest" or task.line <= len(lines):
            own = "\n".join(lines[task.line - 1:task.end_line])
            assert task.text_sha256 == hashlib.sha256(own.encode()).hexdigest()


def test_editing_one_task_changes_only_its_digest():
    from clavain.plan.reader import parse_plan_text

    text = (ROOT / "examples" / "sample-plan.md").read_text()
    before = parse_plan_text(text, "p.md")
    after = parse_plan_text(text.replace("Print `greet(sys.argv[1])`", "Print the greeting"), "p.md")
    changed = [a.id for a, b in zip(before.tasks, after.tasks) if a.text_sha256 != b.text_sha256]
    assert changed == ["3"]
    assert before.sha256 != after.sha256


def test_phase_line_does_not_change_the_plan_digest():
    from clavain.plan.reader import parse_plan_text

    text = (ROOT / "examples" / "sample-plan.md").read_text()
    stamped = text.replace("**Bead:**", "**Phase:** executing (as of 2026-01-01)\n**Bead:**", 1)
    assert parse_plan_text(stamped, "p.md").sha256 == parse_plan_text(text, "p.md").sha256


def test_superpowers_details():
    plan = read("superpowers-features.md")
    t10a = plan.task("10a")
    assert t10a.depends == ["1"] and plan.task("10b").depends == ["1", "10a"]
    assert t10a.files == ["src/parse.py", "tests/test_parse.py"]
    assert t10a.file_roles == {"src/parse.py": "Modify", "tests/test_parse.py": "Test"}
    assert [(s.number, s.text) for s in t10a.steps] == [("1", "Write the failing test"), ("2", "Implement")]
    assert [(v.run, v.expect_exit, v.expect_contains) for v in t10a.verify] == [
        ("pytest -q tests/test_parse.py", 0, None), ('python -c "import src.parse"', None, "ok")]
    assert plan.task("1").section == "Batch 1" and t10a.section == "Batch 2"
    assert plan.constraints == ["No new dependencies.", "Keep Python 3.10 support."]
    assert plan.task("2.1").title == "Fuzz harness"
    assert plan.task("2.1").end_line == 56          # the fenced example after it belongs to it
    assert "99" not in [t.id for t in plan.tasks]


def test_must_haves_from_markdown():
    mh = read("superpowers-features.md").must_haves
    assert mh.truths == ["Malformed input never crashes the parser"]
    assert [(a.path, a.exports, a.min_lines, a.provides, a.contains) for a in mh.artifacts] == [
        ("src/parse.py", ["parse", "ParseError"], 40, None, None),
        ("src/limits.py", [], None, "the size limits", None),
        ("docs/limits.md", [], None, None, "MAX_DEPTH"),
    ]
    assert [(k.from_, k.to, k.via, k.pattern) for k in mh.key_links] == [
        ("src/cli.py", "src/parse.py", "imports parse and calls parse(", r"parse\("),
        ("src/parse.py", "src/limits.py", "the size check", r"MAX_\w+"),
    ]
    assert [a.line for a in mh.artifacts] == [14, 15, 16]


def test_must_haves_from_gsd_frontmatter():
    plan = read("gsd-PLAN.md")
    mh = plan.must_haves
    assert mh.truths == ["A user can log in with email and password"]
    assert [(a.path, a.exports, a.min_lines) for a in mh.artifacts] == [
        ("src/app/api/auth/login/route.ts", ["POST"], None), ("src/lib/auth.ts", [], 20)]
    assert [(k.from_, k.to, k.pattern) for k in mh.key_links] == [
        ("src/app/api/auth/login/route.ts", "src/lib/auth.ts", r"signToken\(")]
    assert plan.frontmatter["depends_on"] == ["01-01"] and plan.frontmatter["wave"] == 2


def test_gsd_tasks():
    plan = read("gsd-PLAN.md")
    one, two, check, four = plan.tasks
    assert [t.kind for t in plan.tasks] == ["auto", "auto", "checkpoint:human-verify", "auto"]
    assert [(v.run, v.expect_exit) for v in one.verify] == [("npx vitest run src/lib/auth.test.ts", 0)]
    assert two.verify == [] and two.steps[0].text.startswith("Verify: curl -X POST")
    assert two.files == ["src/app/api/auth/login/route.ts", "src/lib/auth.ts"]
    assert check.title == "Login flow in the browser"
    assert (four.title, four.line) == ("Logout", 57)


def test_speckit_tasks():
    plan = read("speckit-tasks.md")
    assert plan.task("T004").files == ["src/models/album.py"]
    assert plan.task("T002").files == ["pyproject.toml"]
    assert plan.task("T006").depends == ["T004", "T005"]
    assert plan.task("T006").title == "Album service in src/services/album_service.py"
    assert plan.task("T007").end_line == plan.task("T007").line + 1
    assert plan.task("T004").section == "Phase 2: User Story 1 - Create albums (Priority: P1)"
    assert "T999" not in [t.id for t in plan.tasks]


def test_numbered_tasks():
    plan = read("numbered.md")
    assert [t.title for t in plan.tasks] == ["Read defaults from one place", "Validate on load", "Document the keys"]
    assert plan.task("1").files == ["config/defaults.py"]
    assert plan.task("2").depends == ["1"]
    assert plan.task("3").end_line == 24


def test_manifest_orders_and_merges():
    plan = read("manifest-plan.md")
    assert plan.task("4").depends == ["2", "3"]
    assert plan.task("2").verify[0].run == "go test ./pkg/..."
    assert [t.section for t in plan.tasks] == ["Foundation", "Implementation", "Implementation", "Implementation"]
    assert plan.frontmatter["exec"]["mode"] == "dependency-driven"


def test_manifest_alone_supplies_the_tasks(tmp_path):
    from clavain.plan.reader import read_plan

    (tmp_path / "p.md").write_text("# Only prose\n\nThe manifest has the tasks.\n")
    (tmp_path / "p.exec.yaml").write_text(
        "version: 1\nmode: all-sequential\nstages:\n  - name: A\n    tasks:\n      - id: task-1\n        title: First\n"
        "  - name: B\n    tasks:\n      - id: task-2\n        title: Second\n        depends: [task-1]\n")
    plan = read_plan(tmp_path / "p.md")
    assert plan.format == "manifest"
    assert [(t.id, t.title, t.depends, t.parallel) for t in plan.tasks] == [
        ("task-1", "First", [], False), ("task-2", "Second", ["task-1"], False)]
    assert plan.checkpoints_after == ["task-1"]


@pytest.mark.parametrize("text, ids", [
    ("## Task 3: a\n## Task 10a: b\n## Task 2.1b - c\n### Task 0. d\n", ["3", "10a", "2.1b", "0"]),
    ("### Task 1: a\n```\n### Task 2: fenced\n```\n~~~~\n## Task 3\n```\n~~~~\n### Task 4: b\n", ["1", "4"]),
    ("### Task 1: a\n<!-- hidden\n### Task 2: commented out\n-->\n### Task 3: c\n", ["1", "3"]),
    ("### Task 1: a\n    ```bash\n    ### Task 2: in an indented fence\n    ```\n", ["1"]),
    ("# T\n\n### Task list\n\n### Task 1: real\n", ["1"]),
])
def test_task_headings(text, ids):
    from clavain.plan.reader import parse_plan_text

    assert [t.id for t in parse_plan_text(text, "p.md").tasks] == ids


@pytest.mark.parametrize("text, ids", [
    ("Task 1 GREEN passing, 3 tests", ["1"]),
    ("Tasks 2 and 3", ["2", "3"]),
    ("Task 2, Task 3", ["2", "3"]),
    ("Task 10a & 2.1b.", ["10a", "2.1b"]),
    ("T001, T002", ["T001", "T002"]),
    ("1, 2", ["1", "2"]),
    ("Task 4 (needs 5 files)", ["4"]),
    ("none", []),
    ("None yet.", []),
    ("", []),
])
def test_dependency_ids(text, ids):
    from clavain.plan.body import dependency_ids

    assert dependency_ids(text) == ids


def test_title_heading_is_not_a_section():
    from clavain.plan.reader import parse_plan_text

    plan = parse_plan_text("# Title\n\n## Task 1: a\n\n## Phase 2\n\n### Task 2: b\n", "p.md")
    assert [t.section for t in plan.tasks] == [None, "Phase 2"]


def test_verify_block_outside_tasks_is_reported(tmp_path):
    from conftest import run_cli

    (tmp_path / "p.md").write_text("# P\n\n<verify>\n- run: `true`\n</verify>\n\n### Task 1: a\n\n"
                                   "<verify>\n- run: `make`\n</verify>\n")
    result = run_cli(["plan", "validate", "p.md"], cwd=tmp_path)
    assert result.code == 0
    assert result.err == (f"warning: {tmp_path / 'p.md'}:3: `<verify>` block outside any task; nothing will run it "
                          "(move it into the task it checks)\n")
    (tmp_path / "p.md").write_text("# P\n\n<verify>\n</verify>\n\n### Task 1: a\n")
    result = run_cli(["plan", "validate", "p.md"], cwd=tmp_path)
    assert result.code == 0
    assert f"warning: {tmp_path / 'p.md'}:3: `<verify>` block outside any task" in result.err


def test_must_haves_with_heading_labels_and_unlabelled_truths():
    from clavain.plan.reader import parse_plan_text

    text = ("# P\n\n## Must-Haves\n\n- the CLI starts\n\n### Artifacts\n\n- `a.py` provides the entry point\n"
            "- `b.py` (120+ lines)\n\n### Key Links\n\n- `a.py` → `b.py`\n\n### Task 1: x\n\n- #not-a-heading\n")
    plan = parse_plan_text(text, "p.md")
    mh = plan.must_haves
    assert mh.truths == ["the CLI starts"]
    assert [(a.path, a.provides, a.min_lines) for a in mh.artifacts] == [("a.py", "the entry point", None),
                                                                        ("b.py", None, 120)]
    assert [(k.from_, k.to, k.via, k.pattern) for k in mh.key_links] == [("a.py", "b.py", None, None)]
    assert [t.id for t in plan.tasks] == ["1"]


@pytest.mark.parametrize("body, files, roles", [
    ("**File:** `src/a.py`\n", ["src/a.py"], {"src/a.py": "Touch"}),
    ("**File**: `src/a.py:10-20`\n", ["src/a.py"], {"src/a.py": "Touch"}),
    ("Create: `src/new.py`\nModify: `src/old.py`\nTest: `tests/test_new.py`\n",
     ["src/new.py", "src/old.py", "tests/test_new.py"], {"src/new.py": "Create", "src/old.py": "Modify",
                                                        "tests/test_new.py": "Test"}),
    ("- **Delete:** `src/gone.py`\n", ["src/gone.py"], {"src/gone.py": "Delete"}),
    ("**Files:**\n- Modify: `package.json` (add `zod` and `@types/node`)\n- Create: `Makefile`\n",
     ["package.json", "Makefile"], {"package.json": "Modify", "Makefile": "Create"}),
    ("**Files:** `@scope/pkg`, `lodash`, `src/x.ts`\n", ["src/x.ts"], {"src/x.ts": "Touch"}),
], ids=["file-singular", "file-colon-outside", "role-lines", "bold-role", "no-packages", "inline-no-packages"])
def test_task_files(body, files, roles):
    from clavain.plan.reader import parse_plan_text

    task = parse_plan_text(f"# P\n\n### Task 1: a\n\n{body}", "p.md").tasks[0]
    assert (task.files, task.file_roles) == (files, roles)


def test_speckit_files_are_paths_not_packages_or_prose():
    from clavain.plan.reader import parse_plan_text

    task = parse_plan_text("# T\n\n- [ ] T001 Add `@heroicons/react` and/or the theme in src/theme/app.js and docs/guides/\n",
                           "t.md").tasks[0]
    assert task.files == ["src/theme/app.js", "docs/guides/"]


@pytest.mark.parametrize("text, batches", [
    ("# P\n\n## F1: Parser\n\n### Task 1.1: a\n\n### Task 1.2: b\n\n### Task 1.3: c\n\n### Task 1.4: d\n\n"
     "## F2: Printer\n\n### Task 2.1: e\n", [["1.1", "1.2", "1.3"], ["1.4"], ["2.1"]]),
    ("# T\n\n## Phase 1: Setup\n\n- [ ] T001 a\n- [ ] T002 b\n\n## Phase 3: User Story 1\n\n"
     "### Tests for User Story 1\n\n- [ ] T003 c\n\n### Implementation for User Story 1\n\n- [ ] T004 d\n"
     "- [ ] T004a e\n", [["T001", "T002"], ["T003"], ["T004", "T004a"]]),
    ("# P\n\n## Tasks\n\n### Task 1: a\n\n### Task 2: b\n\n## Notes\n\n### Task 3: c\n", [["1", "2"], ["3"]]),
    ("# P\n\n## Task 1: a\n\n## Aside\n\ntext\n\n## Task 2: b\n\n## Task 3: c\n", [["1", "2", "3"]]),
], ids=["features", "speckit-phases", "container-then-notes", "siblings-do-not-group"])
def test_batches_never_cross_grouping_headings(text, batches):
    from clavain.plan.batching import make_batches
    from clavain.plan.reader import parse_plan_text

    assert [b.tasks for b in make_batches(parse_plan_text(text, "p.md"), 3)] == batches


def test_a_task_carries_its_whole_text():
    plan = read("superpowers-features.md")
    lines = (CASES / "superpowers-features.md").read_text().split("\n")
    for task in plan.tasks:
        assert task.text == "\n".join(lines[task.line - 1:task.end_line])
