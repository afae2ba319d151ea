"""The hash-chained journal: append, head, verify; hand edits detected; a crash mid-append never wedges it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clavain.core.chain import entry_hash
from clavain.run.journal import Journal, JournalTampered


def make_journal(tmp_path: Path, n: int = 5) -> Journal:
    journal = Journal(tmp_path / "run" / "journal.jsonl")
    for i in range(1, n + 1):
        journal.append("step", {"i": i, "text": f"entry {i} ünïcode"})
    return journal


def lines_of(journal: Journal) -> list[str]:
    return journal.path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_append_builds_a_chain_and_head_matches(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    assert journal.head() == (0, "") and journal.last() is None
    assert journal.verify() == []
    first = journal.append("start", {"plan": "p.md", "n": 1.5, "tags": ("a", "b")})
    second = journal.append("task-start", {"task": "10a"})
    assert first["seq"] == 1 and first["prev"] == ""
    assert second["seq"] == 2 and second["prev"] == first["hash"]
    assert first["data"] == {"plan": "p.md", "n": 1.5, "tags": ["a", "b"]}  # returned as a reader sees it
    assert first["time"].endswith("Z") and len(first["time"]) == len("2026-11-25T22:01:02.123456Z")
    assert journal.head() == (2, second["hash"])
    assert journal.last() == second
    assert journal.verify() == [first, second]
    assert entry_hash(second) == second["hash"]


def test_the_hash_is_the_documented_canonical_form(tmp_path):
    import hashlib

    entry = make_journal(tmp_path, 1).verify()[0]
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry["hash"] == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_append_refuses_data_that_is_not_plain_json(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    with pytest.raises(ValueError):
        journal.append("x", {"bad": float("nan")})
    with pytest.raises(ValueError):
        journal.append("", {})
    assert journal.head() == (0, "")


def _edit_data(lines):
    entry = json.loads(lines[2])
    entry["data"]["i"] = 99
    lines[2] = json.dumps(entry) + "\n"


def _remove(lines):
    del lines[2]


def _forged_append_no_hash(lines):
    last = json.loads(lines[-1])
    lines.append(json.dumps({"seq": last["seq"] + 1, "time": last["time"], "epoch": last["epoch"],
                             "event": "approve", "data": {}, "prev": last["hash"]}) + "\n")


def _forged_append_wrong_hash(lines):
    last = json.loads(lines[-1])
    lines.append(json.dumps({"seq": last["seq"] + 1, "time": last["time"], "epoch": last["epoch"],
                             "event": "approve", "data": {}, "prev": last["hash"], "hash": "0" * 64}) + "\n")


def _forged_append_wrong_prev(lines):
    last = json.loads(lines[-1])
    forged = {"seq": last["seq"] + 1, "time": last["time"], "epoch": last["epoch"], "event": "approve",
              "data": {}, "prev": "f" * 64}
    forged["hash"] = entry_hash(forged)
    lines.append(json.dumps(forged) + "\n")


def _reorder(lines):
    lines[2], lines[3] = lines[3], lines[2]


def _insert_copy(lines):
    lines.insert(3, lines[2])


def _garbage_line(lines):
    lines.insert(2, "not json at all\n")


def _blank_line(lines):
    lines.insert(2, "\n")


def _rehashed_edit(lines):
    """An edit whose own hash is recomputed still breaks the next entry's prev."""
    entry = json.loads(lines[2])
    entry["data"]["i"] = 99
    entry["hash"] = entry_hash(entry)
    lines[2] = json.dumps(entry) + "\n"


def _extra_key(lines):
    entry = json.loads(lines[1])
    entry["approved_by_user"] = True
    lines[1] = json.dumps(entry) + "\n"


TAMPERING = [
    # (name, edit, first bad line, reason fragment)
    ("line changed", _edit_data, 3, "hash does not match"),
    ("line removed", _remove, 3, "seq is 4, expected 3"),
    ("forged line without hash", _forged_append_no_hash, 6, "wrong keys"),
    ("forged line with wrong hash", _forged_append_wrong_hash, 6, "hash does not match"),
    ("forged line with wrong prev", _forged_append_wrong_prev, 6, "prev does not match"),
    ("lines reordered", _reorder, 3, "expected 3"),
    ("line duplicated", _insert_copy, 4, "expected 4"),
    ("garbage line", _garbage_line, 3, "not valid JSON"),
    ("blank line", _blank_line, 3, "not valid JSON"),
    ("edit with recomputed hash", _rehashed_edit, 4, "prev does not match"),
    ("extra key", _extra_key, 2, "unexpected ['approved_by_user']"),
]


@pytest.mark.parametrize("name, edit, bad_line, reason", TAMPERING, ids=[t[0] for t in TAMPERING])
def test_verify_names_the_first_bad_entry(tmp_path, name, edit, bad_line, reason):
    journal = make_journal(tmp_path)
    lines = lines_of(journal)
    edit(lines)
    journal.path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(JournalTampered) as info:
        journal.verify()
    assert info.value.line == bad_line
    assert info.value.seq == bad_line
    assert [e["seq"] for e in info.value.valid] == list(range(1, bad_line))  # the trusted prefix
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{journal.path}:{bad_line}: journal entry {bad_line}: ")


@pytest.mark.parametrize("edit", [_forged_append_no_hash, _forged_append_wrong_hash, _garbage_line, _blank_line],
                         ids=["no hash", "wrong hash", "garbage before the end", "blank line"])
def test_append_and_head_refuse_a_journal_whose_end_is_bad(tmp_path, edit):
    journal = make_journal(tmp_path)
    lines = lines_of(journal)
    if edit in (_garbage_line, _blank_line):
        lines.append("not json at all\n" if edit is _garbage_line else "\n")
    else:
        edit(lines)
    journal.path.write_text("".join(lines), encoding="utf-8")
    before = journal.path.read_bytes()
    with pytest.raises(JournalTampered) as info:
        journal.append("next", {})
    assert info.value.line == 6
    with pytest.raises(JournalTampered):
        journal.head()
    assert journal.path.read_bytes() == before  # nothing appended onto a broken chain


def test_expected_head_catches_lines_cut_from_the_end(tmp_path):
    journal = make_journal(tmp_path)
    recorded = journal.head()
    lines = lines_of(journal)
    journal.path.write_text("".join(lines[:-2]), encoding="utf-8")
    assert len(journal.verify()) == 3  # the chain alone cannot see a cut end
    with pytest.raises(JournalTampered) as info:
        journal.verify(expect_head=recorded)
    assert "removed from the end" in info.value.reason and info.value.line == 4
    assert len(info.value.valid) == 3


def test_expected_head_catches_a_rewritten_journal_and_allows_one_step_ahead(tmp_path):
    journal = make_journal(tmp_path, 3)
    recorded = journal.head()
    journal.append("later", {})  # state file not yet rewritten after a crash: journal one step ahead
    assert len(journal.verify(expect_head=recorded)) == 4
    other = make_journal(tmp_path / "other", 4)
    journal.path.write_bytes(other.path.read_bytes())  # a whole, valid, different chain
    with pytest.raises(JournalTampered) as info:
        journal.verify(expect_head=recorded)
    assert "rewritten" in info.value.reason and info.value.line == 3
    assert [e["seq"] for e in info.value.valid] == [1, 2]


def _json_bytes(entry: dict) -> bytes:
    return json.dumps(entry, ensure_ascii=False).encode("utf-8")


TORN_TAILS = [
    ("half an entry", lambda e: _json_bytes(e)[: len(_json_bytes(e)) // 2]),
    ("whole entry but no newline", _json_bytes),
    ("a single byte", lambda e: b"{"),
    ("cut inside a multibyte character", lambda e: _json_bytes(e)[: _json_bytes(e).index("ü".encode()) + 1]),
]


@pytest.mark.parametrize("name, tail", TORN_TAILS, ids=[t[0] for t in TORN_TAILS])
@pytest.mark.parametrize("count", [0, 1, 4])
def test_a_torn_last_line_is_never_written(tmp_path, name, tail, count):
    journal = make_journal(tmp_path, count)
    journal.path.parent.mkdir(parents=True, exist_ok=True)
    head = journal.head()
    pending = {"seq": count + 1, "time": "t", "epoch": 0.0, "event": "task-done", "data": {"s": "ü"}, "prev": head[1]}
    raw = tail(pending)
    with open(journal.path, "ab") as fh:
        fh.write(raw)
    assert len(journal.verify()) == count
    assert journal.torn == raw
    assert journal.head() == head
    assert (journal.last() or {}).get("seq", 0) == count
    entry = journal.append("task-done", {"task": "1"})
    assert journal.repaired == raw
    assert entry["seq"] == count + 1 and entry["prev"] == head[1]
    assert [e["seq"] for e in journal.verify()] == list(range(1, count + 2))
    assert journal.torn is None
    journal.append("again", {})
    assert journal.repaired is None


def test_head_and_append_read_only_the_tail(tmp_path):
    """A corrupt line far from the end does not slow or stop append (verify is what reads it all)."""
    journal = make_journal(tmp_path, 3)
    lines = lines_of(journal)
    lines[0] = lines[0].replace('"i":1', '"i":7')
    big = "x" * 20000
    journal.path.write_text("".join(lines), encoding="utf-8")
    journal.append("big", {"blob": big})
    entry = journal.append("after", {})
    assert entry["seq"] == 5
    with pytest.raises(JournalTampered) as info:
        journal.verify()
    assert info.value.line == 1


CHILD = r"""
import os, sys
from clavain.run.journal import Journal
journal = Journal(sys.argv[1])
for i in range(int(sys.argv[2])):
    journal.append("step", {"i": i, "pad": "y" * 3000, "text": "ünïcode"})
os.environ["CLAVAIN_CRASH_AT"] = "mid-append"
journal.append("step", {"i": "torn", "pad": "y" * 3000, "text": "ünïcode"})
print("not killed", flush=True)
"""


@pytest.mark.parametrize("before", [0, 1, 3])
def test_a_process_killed_mid_append_leaves_a_torn_line_that_the_next_append_cuts_off(tmp_path, before):
    """A real appending process dies in the middle of writing a line (the crash point ``mid-append``), twice
    over: the torn line is there, it is not an entry, and the next append cuts it off and chains on."""
    from clavain.core.files import CRASHED

    path = tmp_path / "journal.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    acknowledged = 0
    for _ in range(2):
        child = subprocess.run([sys.executable, "-c", CHILD, str(path), str(before)], env=env, capture_output=True)
        assert child.returncode == CRASHED and child.stdout == b"", child.stderr
        acknowledged += before
        raw = path.read_bytes()
        torn = raw[raw.rfind(b"\n") + 1:]
        # the line was torn: the file ends in part of an entry, without its newline
        assert torn and not raw.endswith(b"\n")
        assert torn.startswith(b'{"seq":%d,' % (acknowledged + 1)) and b'"torn"' in torn and not torn.endswith(b"}")
        journal = Journal(path)
        assert len(journal.verify()) == acknowledged  # nothing acknowledged is lost, the torn line is no entry
        assert journal.torn == torn and journal.head()[0] == acknowledged
        entry = journal.append("resume", {})
        acknowledged += 1
        assert journal.repaired == torn and entry["seq"] == acknowledged
        after = path.read_bytes()
        assert after.startswith(raw[: len(raw) - len(torn)]) and torn not in after  # cut off, the rest kept
        assert [e["seq"] for e in journal.verify()] == list(range(1, acknowledged + 1)) and journal.torn is None


def test_a_cut_at_any_byte_leaves_a_verifiable_prefix_that_appending_resumes(tmp_path_factory):
    """Whatever byte a crash stops at, verify returns the entries before it and append carries on."""
    from hypothesis import given, settings, strategies as st

    base = make_journal(tmp_path_factory.mktemp("base"), 6)
    raw = base.path.read_bytes()
    ends = [i + 1 for i, b in enumerate(raw) if b == ord("\n")]

    @settings(max_examples=80, deadline=None)
    @given(cut=st.integers(min_value=0, max_value=len(raw)))
    def check(cut):
        folder = tmp_path_factory.mktemp("cut")
        journal = Journal(folder / "journal.jsonl")
        journal.path.write_bytes(raw[:cut])
        whole = sum(1 for end in ends if end <= cut)
        assert len(journal.verify()) == whole
        assert journal.head()[0] == whole
        assert journal.append("resume", {})["seq"] == whole + 1
        assert len(journal.verify()) == whole + 1

    check()


@pytest.mark.parametrize("junk", [b"not json\n", b'{"seq": 6}\n', b"one\ntwo\n", b"one\ntorn tail"],
                         ids=["garbage line", "bad entry", "two lines", "with a torn tail"])
def test_quarantine_moves_the_bad_end_aside_and_appending_resumes(tmp_path, junk):
    journal = make_journal(tmp_path)
    good = journal.path.read_bytes()
    with open(journal.path, "ab") as fh:
        fh.write(junk)
    with pytest.raises(JournalTampered) as info:
        journal.append("next", {})
    assert info.value.line == 6 and len(info.value.valid) == 5
    moved = journal.quarantine_from(info.value.line)
    assert moved == journal.path.parent / "journal.rejected-1.jsonl"
    assert moved.read_bytes() == junk and journal.path.read_bytes() == good
    assert journal.append("halted", {})["seq"] == 6
    with open(journal.path, "ab") as fh:
        fh.write(b"again\n")
    second = journal.quarantine_from(7)
    assert second.name == "journal.rejected-2.jsonl" and second.read_bytes() == b"again\n"
    assert moved.read_bytes() == junk  # an earlier file is never overwritten
    assert [e["seq"] for e in journal.verify()] == list(range(1, 7))


def test_quarantine_from_a_middle_line_keeps_the_prefix(tmp_path):
    journal = make_journal(tmp_path)
    lines = lines_of(journal)
    moved = journal.quarantine_from(3)
    assert moved.read_text(encoding="utf-8") == "".join(lines[2:])
    assert journal.verify() == [json.loads(line) for line in lines[:2]]
    with pytest.raises(ValueError):
        journal.quarantine_from(9)
    with pytest.raises(ValueError):
        journal.quarantine_from(0)
