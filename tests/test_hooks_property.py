"""Whatever Bash line the model sends, the scanner and the hook answer without raising, and a line that
writes a protected place is never let through because of what surrounds it."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from clavain.guard.bashscan import scan
from clavain.guard.hooks import pre_tool_use
from clavain.guard.places import STATE, TRANSCRIPTS, WITNESS, Places

PLACES = Places(project="/p", cwd="/p", home="/home/u", transcript="/home/u/.claude/projects/-p/s-1.jsonl")
SHELL_BITS = st.sampled_from([" ", ";", "&&", "|", "||", ">", ">>", "<", "<<", "2>&1", "$(", ")", "`", "'", '"',
                              "\\", "\n", "cd ", "echo ", "sed -i ", "git commit", "python3 -c ", "bash -c ",
                              ".clavain/execute-plan/", "~/.claude/projects/", "$HOME", "x", "/tmp/", "EOF", "-"])
LINES = st.lists(st.one_of(SHELL_BITS, st.text(max_size=6)), max_size=25).map("".join)
SAFE_PREFIX = st.sampled_from(["", "ls; ", "cat a | grep b && ", "cd src; ", "echo ok\n", "git status || "])


@settings(max_examples=400, deadline=None)
@given(LINES)
def test_the_scanner_reads_any_line(line):
    result = scan(line, PLACES)
    assert result.protected in ("", STATE, TRANSCRIPTS, WITNESS)
    assert bool(result.protected) == bool(result.writes_protected)


PROTECTED_WRITES = st.sampled_from(["echo x >> ~/.claude/projects/-p/s-1.jsonl", "rm -rf .clavain",
                                    "sed -i s/a/b/ /p/.clavain/execute-plan/runs/r/run.json", "cp /tmp/f $HOME/.claude/projects/"])


@settings(max_examples=200, deadline=None)
@given(SAFE_PREFIX, PROTECTED_WRITES, st.sampled_from(["", "; ls", " && echo done", "\nls"]))
def test_a_protected_write_is_seen_wherever_it_stands(prefix, write, suffix):
    line = prefix + write + suffix
    assert PLACES.might_name_protected(line)
    assert scan(line, PLACES).protected, line


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["tool_name", "tool_input", "cwd", "transcript_path"]),
                       st.one_of(st.none(), st.integers(), st.text(max_size=20), LINES,
                                 st.dictionaries(st.sampled_from(["command", "file_path"]), st.one_of(LINES, st.none())))))
def test_pre_tool_use_answers_any_payload_without_raising(payload):
    code, out, err = pre_tool_use(payload, [], {"HOME": "/home/u"})
    assert code in (0, 2) and out == ""


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_a_line_settled_without_the_scan_is_one_the_scan_reads_the_same(line):
    """The hook's fast path (``_plain``: a plain reading command or an external agent by name) says only what
    the scan would: the one program it runs, and no write the hook could see."""
    from clavain.guard.hooks import _plain

    for candidate in (line, "cat " + line, "grep -n " + line, "codex " + line, "tail " + line):
        plain = _plain(candidate)
        if plain is None:
            continue
        full = scan(candidate, PLACES)
        assert full.runs == plain.runs and not full.protected and not full.hook_call, candidate
