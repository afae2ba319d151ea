"""The command line read without argparse (``clavain.commands.args``) reads exactly what argparse reads, and
hands argparse everything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clavain.cli import build_parser, fast_args
from clavain.commands import gate, run
from clavain.core.errors import BadInput

# What the command, the skill and the hooks actually run: each is read without argparse.
TYPICAL = [
    ["infer-bead", "docs/plans/p.md"],
    ["enforce-gate", "demo-abc1", "executing", "docs/plans/p.md"],
    ["enforce-gate", "", "executing", "p.md"],
    ["advance-phase", "demo-abc1", "executing", "Executing: p.md", "p.md"],
    ["advance-phase", "", "shipping"],
    ["phase", "demo-abc1"],
    ["phase", "--graph"],
    ["run", "task-start", "3"],
    ["run", "task-start", "10a", "--json"],
    ["run", "task-done", "3", "--output", "out.md"],
    ["run", "task-done", "3", "--output", "-"],
    ["run", "task-done", "--output=out.md", "2.1"],
    ["run", "verify", "3"],
    ["run", "verify", "3", "--timeout", "60"],
    ["run", "next"],
    ["run", "status", "--run", "20261125-220000-plan-abcd"],
    ["run", "status", "--todos"],
    ["run", "checkpoint", "--json"],
    ["run", "approve"],
    ["run", "approve", "--note", "looks good"],
    ["run", "start", "plan.md", "--batch-size", "5", "--dispatch", "external", "--alongside"],
    ["run", "open"],
    ["run", "open", "docs/plans/my", "plan.md"],
    ["run", "revise", "2", "3", "--note", "use tabs"],
    ["run", "skip", "3", "--reason", "not needed"],
    ["run", "diff"],
    ["run", "diff", "2"],
    ["run", "pause", "--reason", "which database?"],
]

# Left to argparse: help, usage errors, abbreviations, values that look like options, pieces around options.
LEFT_TO_ARGPARSE = [
    ["run", "task-start"],
    ["run", "task-start", "1", "2"],
    ["run", "task-start", "-h"],
    ["run", "task-done", "3"],
    ["run", "task-done", "3", "--out", "f"],
    ["run", "task-done", "3", "--output"],
    ["run", "task-done", "3", "--output", "--json"],
    ["run", "verify", "3", "--timeout", "0"],
    ["run", "verify", "3", "--timeout", "soon"],
    ["run", "start", "plan.md", "--dispatch", "cloud"],
    ["run", "start", "plan.md", "--batch-size", "three"],
    ["run", "diff", "--json", "2"],
    ["run", "open", "a", "--json", "b"],
    ["run", "status", "--json=1"],
    ["run", "status", "--", "x"],
    ["run", "no-such-command"],
    ["run"],
    ["infer-bead"],
    ["infer-bead", "-1"],
    ["enforce-gate", "b", "executing", "p.md", "extra"],
    ["plan", "validate", "p.md"],
    ["hook", "pre-tool-use"],
    ["--help"],
]


def argparse_reading(argv: list[str]):
    """``vars()`` of argparse's reading, or None when argparse refuses the command line."""
    try:
        return vars(build_parser(argv[0] if argv else None).parse_args(argv))
    except (BadInput, SystemExit):
        return None


@pytest.mark.parametrize("argv", TYPICAL, ids=" ".join)
def test_the_commands_a_run_calls_are_read_without_argparse_and_as_argparse_reads_them(argv):
    fast = fast_args(argv)
    assert fast is not None
    assert vars(fast) == argparse_reading(argv)


@pytest.mark.parametrize("argv", LEFT_TO_ARGPARSE, ids=" ".join)
def test_anything_unusual_is_left_to_argparse(argv):
    assert fast_args(argv) is None


WORDS = ["3", "10a", "-", "", "p.md", "demo-abc1", "executing", "--json", "--run", "r1", "--output", "o.md",
         "--output=o.md", "--timeout", "60", "0", "--note", "--reason", "x y", "--batch-size", "2", "--dispatch",
         "local", "--alongside", "--todos", "--graph", "-1", "--", "-h", "--out"]
PREFIXES = [["run", name] for _, name in run.COMMANDS] + [[name] for (name,) in gate.COMMANDS]


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(PREFIXES), st.lists(st.sampled_from(WORDS), max_size=6))
def test_any_command_line_is_read_as_argparse_reads_it_or_left_to_argparse(prefix, words):
    argv = prefix + words
    fast = fast_args(argv)
    if fast is not None:
        assert vars(fast) == argparse_reading(argv), argv
