"""Whatever the bytes, the reader returns a Plan or raises BadInput: never any other exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clavain.core.errors import BadInput

FRAGMENTS = [
    "---", "...", "bead: x", "must_haves:", "  artifacts:", "    - path: a.py", "      min_lines: 3", "wave: 1",
    "depends_on: [01-01]", "title: [", "a: &x 1", "b: *x", "# Title", "## Task 1: one", "### Task 2: two",
    "### Task 2.1 [P]: x", "## Task 10a", "#### Task 0.", "## Step 1: s", "## Changes", "### 1. first", "### 2) second",
    "```", "````markdown", "~~~", "    ```bash", "<!-- checkpoint -->", "<!--", "-->", "<verify>", "</verify>",
    "- run: `make`", "- run: make", "  expect: exit 1", "  expect: contains \"ok\"", "  expect: exit any",
    "expect: nope", "**Depends on:** Task 1", "**Depends on:** Task 9, Task 2", "**Depends on:** none",
    "**Files:**", "- Create: `a.py`", "- Modify: `b.py:1-3`", "- [ ] **Step 1: do**", "- [x] **Step 2: done**",
    "**Parallel:** yes", "## Must-Haves", "**Truths:**", "**Artifacts:**", "**Key Links:**", "- `a.py` exports `f`",
    "- plain bullet", "- `a.py` imports `f` from `b.py` and calls `f(`", "- `a` -> `b` pattern `(`",
    "## Global Constraints", "## Batch 1", "## Phase 1: Setup", "- [ ] T001 [P] [US1] Do src/a.py",
    "- [X] T002 Build (depends on T001)", "- [ ] T001 again", "**Checkpoint**: ok", '<task type="auto">',
    '<task type="checkpoint:decision">', '<task type="weird">', "<name>Task 1: n</name>", "<files>a, b</files>",
    "<verify>npm test</verify>", "<done>d</done>", "</task>", "<objective>", "</objective>", "**Bead:** `b-1`",
    "", "   ", "\t", "\r", "text with `code` and /paths/x.py",
]

lines = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=40)


def parse_or_bad_input(text: str) -> None:
    from clavain.plan.model import Plan
    from clavain.plan.reader import parse_plan_text

    try:
        plan = parse_plan_text(text, "p.md")
    except BadInput as exc:
        assert exc.path == "p.md" and exc.message
        return
    assert isinstance(plan, Plan) and plan.tasks
    plan.model_dump_json()
    from clavain.plan.batching import make_batches

    assert [t for b in make_batches(plan) for t in b.tasks] == [t.id for t in plan.tasks]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text(text):
    parse_or_bad_input(text)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines, st.sampled_from(["\n", "\r\n"]))
def test_plan_shaped_text(parts, newline):
    parse_or_bad_input(newline.join(parts))


@settings(max_examples=200, deadline=None)
@given(lines, st.text(max_size=300))
def test_with_arbitrary_manifest(parts, manifest):
    from clavain.plan.reader import parse_plan_text

    try:
        parse_plan_text("\n".join(parts), "p.md", manifest_text=manifest, manifest_path="p.exec.yaml")
    except BadInput as exc:
        assert exc.path in ("p.md", "p.exec.yaml")


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bytes")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_from_disk(plan_dir, data):
    from clavain.plan.reader import read_plan

    path = plan_dir / "plan.md"
    path.write_bytes(data)
    try:
        read_plan(path)
    except BadInput as exc:
        assert exc.path == str(path)


ids = st.from_regex(r"\A(0|[1-9][0-9]{0,2})([a-h]|\.[1-9][a-c]?)?\Z")
blocks = st.lists(st.one_of(
    st.tuples(st.just("task"), ids),
    st.tuples(st.just("fenced"), ids),
    st.tuples(st.just("prose"), st.text(alphabet="abc xyz*-`#\n", max_size=30)),
), max_size=25)


def render(parts) -> tuple[str, list[str]]:
    lines, expected = ["# Plan", ""], []
    for kind, value in parts:
        if kind == "task":
            lines += [f"### Task {value}: do {value}", "", "- [ ] **Step 1: work**", ""]
            expected.append(value)
        elif kind == "fenced":
            lines += ["````markdown", f"### Task {value}: example", "```bash", "echo", "```", "````", ""]
        else:
            lines += [" " + line.replace("`", "'") for line in value.split("\n")] + [""]
    return "\n".join(lines), expected


@settings(max_examples=300, deadline=None)
@given(blocks)
def test_task_ids_are_read_as_written_and_fences_hide_tasks(parts):
    from clavain.plan.reader import parse_plan_text

    text, expected = render(parts)
    try:
        plan = parse_plan_text(text, "p.md")
    except BadInput as exc:
        assert not expected and "no tasks found" in exc.message
        return
    seen: dict[str, int] = {}
    named = []
    for task_id in expected:                      # a repeated id is read as id-2, id-3, ... (with a warning)
        seen[task_id] = seen.get(task_id, 0) + 1
        named.append(task_id if seen[task_id] == 1 else f"{task_id}-{seen[task_id]}")
    assert [t.id for t in plan.tasks] == named
    assert all(t.title == f"do {task_id}" for t, task_id in zip(plan.tasks, expected))
    assert any("is used" in w for w in plan.warnings) == (len(set(expected)) != len(expected))


# Mis-nested fences as LLM-written plans have them: a ```markdown block holding a ```bash block whose bare
# closing line ends the outer block by the CommonMark rule, so the author's own closing line opens a fence.
nested_parts = st.lists(st.sampled_from(["task", "example", "misnested", "prose", "bare"]), max_size=14)


def render_nested(parts) -> tuple[str, list[str]]:
    lines, expected = ["# Plan", ""], []
    for kind in parts:
        if kind == "task":
            task_id = str(len(expected) + 1)
            lines += [f"### Task {task_id}: do {task_id}", "", "- [ ] **Step 1: work**", ""]
            expected.append(task_id)
        elif kind == "example":
            lines += ["````markdown", "### Task 99: example", "```bash", "echo", "```", "````", ""]
        elif kind == "misnested":
            lines += ["```markdown", "### Task 98: example", "```bash", "echo", "```", "more of the example", "```", ""]
        elif kind == "bare":
            lines += ["```", "plain output", "```", ""]
        else:
            lines += ["Some prose.", ""]
    return "\n".join(lines), expected


@settings(max_examples=400, deadline=None)
@given(nested_parts)
def test_no_task_is_lost_when_fences_are_misnested(parts):
    """Every task heading the author wrote outside their (nested) fences is read; none from inside them; and when
    the CommonMark rule alone would have hidden one, a warning names the fence that explains it."""
    from clavain.plan.lines import split_lines, structural_lines
    from clavain.plan.reader import parse_plan_text
    from clavain.plan.source import load_source

    text, expected = render_nested(parts)
    try:
        plan = parse_plan_text(text, "p.md")
    except BadInput as exc:
        assert not expected and "no tasks found" in exc.message
        return
    assert [t.id for t in plan.tasks] == expected
    rescued = [w for w in plan.warnings if "read as nested so that" in w]
    if _commonmark_task_lines(text) != {t.line for t in plan.tasks}:
        assert rescued
    for warning in rescued:
        line = int(warning.split(":")[1])
        assert text.split("\n")[line - 1] == "```markdown"
    source = load_source(text, "p.md")
    assert [i + 1 for i, _ in structural_lines(split_lines(text))] == [n for n, _ in source.rows]


def _commonmark_task_lines(text: str) -> set[int]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    return {tok.map[0] + 1 for i, tok in enumerate(tokens)
            if tok.type == "heading_open" and tokens[i + 1].content.startswith("Task ")}
