"""infer-bead: where the bead id comes from, ids read whole, placeholders ignored, several ids warned about."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clavain.plan import bead as beads
from clavain.plan.bead import is_placeholder
from clavain.gate.gates import infer_bead
from conftest import run_bin, run_cli
from gate_support import write_plan

FENCE = "```"


@pytest.mark.parametrize("plan,env,bead,warn", [
    ("# P\n\n**Bead:** my-proj-abc1\n", {}, "my-proj-abc1", ()),
    ("# P\n\n**Bead:** `demo-abc1.2`\n", {}, "demo-abc1.2", ()),
    ("# P\n\nBead: Sylveste-2f8\n", {}, "Sylveste-2f8", ()),
    ("# P\n\nBead: `iv-xk3`.\n", {}, "iv-xk3", ()),
    ("# P\n\n- **Bead:** iv-xk3 (epic)\n", {}, "iv-xk3", ()),
    ("---\nbead: my-proj-abc1\ntitle: x\n---\n# P\n", {}, "my-proj-abc1", ()),
    ("---\nbead: \"demo-abc1.2\"  # the epic\n---\n# P\n", {}, "demo-abc1.2", ()),
    ("---\nbead: 'iv-xk3'\n---\n# P\n", {}, "iv-xk3", ()),
    ("---\nbead: &b iv-xk3\nalias: *b\n---\n# P\n", {}, "iv-xk3", ()),            # YAML library decides
    ("---\n\"bead\": iv-xk3\n---\n# P\n", {}, "iv-xk3", ()),                      # quoted key
    ("---\ntitle: \"a\n  b\"\nbead: iv-xk3\n---\n# P\n", {}, "iv-xk3", ()),        # multi-line string
    ("---\nbead: [iv-xk3\n---\n# P\n", {}, "", ("frontmatter not read",)),
    ("---\nbead:\n  - iv-xk3\n---\n# P\n", {}, "", ("is a list",)),
    ("---\nbead: null\n---\n# P\n", {}, "", ()),
    # placeholders
    ("# P\n\n**Bead:** none\n", {}, "", ()),
    ("# P\n\n**Bead:** <bead_id>\n", {}, "", ()),
    ("# P\n\n**Bead:** Clavain-XXXX\n", {}, "", ()),
    ("# P\n\n**Bead:** `proj-xxx`\n", {}, "", ()),
    ("# P\n\n**Bead:**\n", {}, "", ()),
    ("---\nbead: Clavain-XXXX\n---\n# P\n", {}, "", ()),
    ("---\nbead: TBD\n---\n# P\n", {}, "", ()),
    # nothing inside a code fence is structure
    (f"# P\n\n{FENCE}markdown\n**Bead:** iv-xk3\n{FENCE}\n", {}, "", ()),
    (f"# P\n\n{FENCE}\n**Bead:** iv-xk3\n{FENCE}\n\nBead: demo-abc1\n", {}, "demo-abc1", ()),
    ("# P\n\nno bead here\n", {}, "", ()),
    # several ids: first wins, with a warning naming them
    ("---\nbead: demo-abc1\n---\n# P\n\n**Bead:** iv-xk3\n", {}, "demo-abc1",
     ("several bead ids: demo-abc1 (", "iv-xk3 (", "using demo-abc1")),
    ("# P\n\n**Bead:** iv-xk3\n\nBead: iv-xk3\n", {}, "iv-xk3", ()),                 # same id twice: fine
    # CLAVAIN_BEAD_ID comes first
    ("# P\n", {"CLAVAIN_BEAD_ID": "env-abc9"}, "env-abc9", ()),
    ("# P\n\n**Bead:** iv-xk3\n", {"CLAVAIN_BEAD_ID": "env-abc9"}, "env-abc9",
     ("env-abc9 (CLAVAIN_BEAD_ID)", "using env-abc9")),
    ("# P\n\n**Bead:** iv-xk3\n", {"CLAVAIN_BEAD_ID": "none"}, "iv-xk3", ()),
    ("# P\n\n**Bead:** iv-xk3\n", {"CLAVAIN_BEAD_ID": ""}, "iv-xk3", ()),
    ("# P\n\n**Bead:** iv-xk3\n", {"CLAVAIN_BEAD_ID": "a|b"}, "iv-xk3", ("CLAVAIN_BEAD_ID='a|b' is not a bead id",)),
])
def test_infer_bead(project, plan, env, bead, warn):
    write_plan(project, text=plan)
    r = run_cli(["infer-bead", "plan.md"], cwd=project, env=env)
    assert r.code == 0, r.err
    assert r.out == bead + "\n"
    for fragment in warn:
        assert fragment in r.err
    if not warn:
        assert r.err == ""


def test_several_ids_name_their_lines(project):
    write_plan(project, text="# P\n\n**Bead:** iv-xk3\n\nBead: demo-abc1\n")
    r = run_cli(["infer-bead", "plan.md"], cwd=project)
    assert f"iv-xk3 ({project / 'plan.md'}:3), demo-abc1 ({project / 'plan.md'}:5)" in r.err


@pytest.mark.parametrize("argv,fragment", [
    (["infer-bead", "missing.md"], "missing.md: plan file not found"),
    (["infer-bead", "."], "is a folder"),
    (["infer-bead"], "the following arguments are required: plan"),
])
def test_infer_bead_bad_input(project, argv, fragment):
    r = run_cli(argv, cwd=project)
    assert r.code == 2
    assert fragment in r.err and "next:" in r.err and "Traceback" not in r.err


def test_infer_bead_through_the_real_cli_imports_no_yaml_for_a_simple_plan(project):
    write_plan(project, text="---\nbead: my-proj-abc1\ntitle: \"Plan\"\n---\n# P\n")
    r = run_bin(["infer-bead", "plan.md"], cwd=project, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert r.code == 0 and r.out == "my-proj-abc1\n"
    imported = {line.split("|")[-1].strip() for line in r.err.splitlines() if line.startswith("import time:")}
    assert "clavain.plan.bead" in imported
    assert not imported & {"yaml", "pydantic", "jinja2", "markdown_it", "sqlite3"}


# The patterns ``clavain.plan.bead`` reads by hand (without ``re``), as regular expressions: the specification.
BEAD_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+(?:\.[0-9]+)*")
PLACEHOLDER_PART = re.compile(r"[Xx]{2,}|[Xx]*[?#.]+")
BEAD_LINE = re.compile(r"^\s*(?:[-*+>]\s+)?(?:\*\*Bead:\*\*|\*\*Bead\*\*:|Bead:)(.*)$")
FM_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?$")
FM_QUOTED = re.compile(r"""^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)')\s*(?:#.*)?$""")

# text made of the characters the patterns care about, Unicode spaces and word characters included
PIECES = st.lists(st.sampled_from(list("aZx_X9-.?#*+>:`'\" \t\\") + ["\x1c", "\u00a0", "\u2028", "\u00e9", "\u0663",
                                                                        "\r", "**Bead:**", "**Bead**:", "Bead:"]),
                  max_size=12).map("".join)


@settings(max_examples=1500, deadline=None)
@given(PIECES)
def test_the_hand_readings_agree_with_the_patterns_they_replace(text):
    assert beads.is_bead_id(text) == bool(BEAD_ID.fullmatch(text))
    for part in text.split("-"):
        assert beads._is_placeholder_part(part) == bool(PLACEHOLDER_PART.fullmatch(part))
    line = BEAD_LINE.match(text)
    assert beads.bead_line_value(text) == (line.group(1) if line else None)
    key = FM_KEY.match(text)
    assert beads.frontmatter_key(text) == ((key.group(1), key.group(2)) if key else None)
    quoted = FM_QUOTED.match(text)
    expected = None if quoted is None else quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    assert beads.quoted_value(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.from_regex(BEAD_ID, fullmatch=True).filter(lambda b: not is_placeholder(b)),
       st.sampled_from(["**Bead:** {}", "**Bead:** `{}`", "Bead: {}", "- **Bead:** `{}` (epic)", "Bead: {}."]))
def test_any_bead_id_is_read_whole(tmp_path_factory, bead, form):
    folder = tmp_path_factory.mktemp("p")
    write_plan(folder, text=f"# P\n\n{form.format(bead)}\n")
    assert infer_bead(folder / "plan.md", {}) == (bead, [])
