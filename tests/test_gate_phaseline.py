"""The `**Phase:**` line: where it goes, that it is updated in place, and that writing it never changes
the plan's digest (so a run does not see a recorded phase as a change of the plan)."""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clavain.core.digest import plan_digest
from clavain.gate.phaseline import read_phase, with_phase, write_phase

AT = "2026-01-02T03:04:05Z"
LINE = f"**Phase:** executing (as of {AT})"
FENCE = "```"


@pytest.mark.parametrize("before,after", [
    ("# T\n\nbody\n", f"# T\n{LINE}\n\nbody\n"),
    ("# T\n\n**Bead:** x-1\n\nbody\n", f"# T\n\n**Bead:** x-1\n{LINE}\n\nbody\n"),
    ("# T\n**Phase:** planned (as of then)\n**Bead:** x-1\n", f"# T\n{LINE}\n**Bead:** x-1\n"),
    ("---\nbead: x-1\n---\n# T\n", f"---\nbead: x-1\n---\n# T\n{LINE}\n"),
    ("---\nbead: x-1\n---\nno title\n", f"---\nbead: x-1\n---\n{LINE}\nno title\n"),
    ("no title at all\n", f"{LINE}\nno title at all\n"),
    ("", f"{LINE}\n"),
    ("# T", f"{LINE}\n# T"),                                           # unterminated title: go before it
    ("# T\r\n\r\nbody\r\n", f"# T\r\n{LINE}\r\n\r\nbody\r\n"),
    ("# T\r\n**Phase:** planned\r\n", f"# T\r\n{LINE}\r\n"),
    (f"# T\n\n{FENCE}\n**Phase:** planned\n# not a title\n{FENCE}\n", f"# T\n{LINE}\n\n{FENCE}\n**Phase:** planned\n"
     f"# not a title\n{FENCE}\n"),
    (f"{FENCE}\n# fenced\n{FENCE}\n# Real\n", f"{FENCE}\n# fenced\n{FENCE}\n# Real\n{LINE}\n"),
    ("# T\n\n  **Bead:** x-1\n", f"# T\n\n  **Bead:** x-1\n{LINE}\n"),
])
def test_with_phase(before, after):
    assert with_phase(before, "executing", AT) == after
    assert plan_digest(after) == plan_digest(before)
    assert read_phase(after) == "executing"
    assert with_phase(after, "executing", AT) == after


@pytest.mark.parametrize("text,phase", [
    ("# T\n**Phase:** planned (as of x)\n", "planned"),
    ("# T\n**Phase:** `plan-reviewed`\n", "plan-reviewed"),
    (f"# T\n{FENCE}\n**Phase:** planned\n{FENCE}\n", None),
    ("---\n**Phase:** planned\n---\n# T\n", None),
    ("# T\n", None),
])
def test_read_phase(text, phase):
    assert read_phase(text) == phase


lines = st.sampled_from(["# Title", "...", "**Bead:** x-1", "**Phase:** planned", "```", "~~~", "---", "", "text",
                         "### Task 1: a", "  indented", "# Other", "bead: y-2", "\r", "**Phase:**"])


@settings(max_examples=400, deadline=None)
@given(st.lists(lines, max_size=12), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_digest_is_unchanged_and_one_line_is_added(parts, newline, terminated):
    text = newline.join(parts) + (newline if terminated and parts else "")
    after = with_phase(text, "shipping", AT)
    # The one documented exception: nothing but an unterminated frontmatter block gains a line ending.
    closing = next((i for i, part in enumerate(parts[1:], 1) if part in ("---", "...")), None)
    frontmatter_only = parts[:1] == ["---"] and closing == len(parts) - 1 and not terminated
    assert after.count("\n") - text.count("\n") in ((2,) if frontmatter_only else (0, 1))
    if not frontmatter_only:
        assert plan_digest(after) == plan_digest(text)
    assert read_phase(after) == "shipping"
    assert with_phase(after, "shipping", AT) == after


def test_write_phase_is_atomic_and_keeps_mode_and_reports_last_change(tmp_path):
    plan = tmp_path / "plan.md"
    plan.write_text("# T\n\nbody\n")
    os.chmod(plan, 0o664)
    os.utime(plan, (1_000_000, 1_000_000))
    changed_at, text = write_phase(plan, "planned", AT)
    assert changed_at == 1_000_000 and text == "# T\n\nbody\n"
    assert plan.read_text() == f"# T\n**Phase:** planned (as of {AT})\n\nbody\n"
    assert stat.S_IMODE(plan.stat().st_mode) == 0o664
    assert [p.name for p in tmp_path.iterdir()] == ["plan.md"]  # no temporary file left behind


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(lines, st.text(max_size=20)), max_size=10), st.sampled_from(["\n", "\r\n", "\r"]))
def test_digest_is_sha256_of_the_text_without_phase_lines(parts, newline):
    import hashlib
    import re

    text = newline.join(parts)
    reference = re.sub(r"^\*\*Phase:\*\*.*$\n?", "", text, flags=re.MULTILINE)
    assert plan_digest(text) == hashlib.sha256(reference.encode("utf-8")).hexdigest()
