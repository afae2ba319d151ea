"""Tampering with a run's files is detected and halts the run; crashes are repaired, not mistaken for it."""

from __future__ import annotations

import json

import pytest

from test_run_support import cli, do_task, to_checkpoint, js, ok, run_dir, say, write_plan


@pytest.fixture
def busy(project):
    """A run with a few recorded steps: batch 1 done, at its checkpoint."""
    write_plan(project)
    ok(project, "start", "plan.md", "--batch-size", "2")
    to_checkpoint(project)
    return project


def journal(project):
    return run_dir(project) / "journal.jsonl"


def lines(project):
    return journal(project).read_text().splitlines(keepends=True)


def change_line(p):
    ls = lines(p)
    entry = json.loads(ls[2])
    entry["data"]["task"] = "2"
    ls[2] = json.dumps(entry) + "\n"
    journal(p).write_text("".join(ls))
    return 3


def remove_line(p):
    ls = lines(p)
    del ls[3]
    journal(p).write_text("".join(ls))
    return 4


def forge_chained_approval(p):
    """A line a forger computed carefully: right seq, prev and hash, an approval without the user's word."""
    from clavain.core.chain import entry_hash

    last = json.loads(lines(p)[-1])
    entry = {"seq": last["seq"] + 1, "time": last["time"], "epoch": last["epoch"] + 1, "event": "approved",
             "data": {"action": "approve", "evidence": {"text": "ok", "time": last["time"], "epoch": last["epoch"] + 1,
                                                        "session_id": None, "source": "transcript",
                                                        "transcript_path": None},
                      "at": last["epoch"] + 1, "time": last["time"], "state_sha256": "0" * 64},
             "prev": last["hash"]}
    entry["hash"] = entry_hash(entry)
    with open(journal(p), "a") as fh:
        fh.write(json.dumps(entry) + "\n")
    return entry["seq"]


def append_unchained(p):
    """A hand-appended entry, hashed on its own but not chained to the entry before it."""
    from clavain.core.chain import entry_hash

    last = json.loads(lines(p)[-1])
    forged = {**last, "seq": last["seq"] + 1, "event": "approved", "prev": "0" * 64}
    forged["hash"] = entry_hash(forged)
    with open(journal(p), "a") as fh:
        fh.write(json.dumps(forged) + "\n")
    return last["seq"] + 1


def drop_last_line(p):
    journal(p).write_text("".join(lines(p)[:-1]))
    return None


@pytest.mark.parametrize("edit", [change_line, remove_line, forge_chained_approval, append_unchained,
                                  drop_last_line])
def test_journal_edit_is_detected_by_status(busy, edit):
    bad = edit(busy)
    r = cli(busy, "status", "--json")
    assert r.code == 0, r.err
    status = json.loads(r.out)
    assert status["state"] == "halted" and status["halt"]["kind"] == "tampered"
    assert any("tampering detected" in n for n in status["notes"])
    if bad is not None:
        assert status["halt"]["bad_seq"] == bad
    report = (run_dir(busy) / status["halt"]["report"]).read_text()
    assert "first bad journal entry" in report or "run.json" in report
    # every progress command is refused now; the way out is abort, with the user's word
    r = cli(busy, "approve")
    assert r.code == 1 and "next: clavain-cli run abort" in r.err
    assert js(busy, "status")["halt"]["n"] == status["halt"]["n"]  # detected once, not again and again
    say(busy, "abort")
    assert js(busy, "abort")["state"] == "aborted"


@pytest.mark.parametrize("recompute_digest", [False, True])
def test_hand_edited_run_json_never_counts(busy, recompute_digest):
    from clavain.run.state import RunState, state_digest

    path = run_dir(busy) / "run.json"
    body = json.loads(path.read_text())
    body["state"]["state"] = "running"
    body["state"]["approved_batches"] = [1]
    body["state"]["batch"] = 2
    if recompute_digest:
        body["state_sha256"] = state_digest(RunState(**body["state"]))
    path.write_text(json.dumps(body))
    r = cli(busy, "task-start", "3")  # a cheap command notices, not only status
    assert r.code == 1 and "run.json does not match journal entry" in r.err + cli(busy, "status").out
    status = js(busy, "status")
    assert status["state"] == "halted" and status["halt"]["kind"] == "tampered"
    assert [t["status"] for t in status["tasks"]] == ["done", "done", "pending", "pending"]


def append_bytes(p, junk: bytes):
    """Hand-appended junk; returns (the bytes that must end up moved aside, the first bad line)."""
    first_bad = len(lines(p)) + 1
    with open(journal(p), "ab") as fh:
        fh.write(junk)
    return junk, first_bad


def edit_and_garbage(p):
    """A changed line in the middle and junk at the end: everything from the first bad line is moved aside."""
    first_bad = change_line(p)
    _, _ = append_bytes(p, b"tail junk\n")
    return "".join(lines(p)[first_bad - 1:]).encode(), first_bad


GARBAGE_ENDS = {
    "json object": lambda p: append_bytes(p, b'{"seq": 99, "event": "approved"}\n'),
    "plain text": lambda p: append_bytes(p, b"approved by the user, honest\n"),
    "two bad lines": lambda p: append_bytes(p, b'junk one\n{"seq": 1}\n'),
    "edit and junk": edit_and_garbage,
}


@pytest.mark.parametrize("end", GARBAGE_ENDS.values(), ids=GARBAGE_ENDS.keys())
def test_a_garbage_last_line_is_moved_aside_and_the_run_halts(busy, end):
    """Nothing can be appended after a bad last line, so it is kept aside as evidence and the halt recorded."""
    rejected, first_bad = end(busy)
    r = cli(busy, "approve")
    assert r.code == 1, r.err
    assert "next: clavain-cli run abort" in r.err
    status = js(busy, "status")
    assert status["state"] == "halted" and status["halt"]["kind"] == "tampered"
    assert status["halt"]["bad_seq"] == first_bad
    moved = run_dir(busy) / "journal.rejected-1.jsonl"
    assert moved.read_bytes() == rejected  # the bad lines, byte for byte
    from clavain.run.journal import Journal

    chain = Journal(journal(busy)).verify()
    assert [e["seq"] for e in chain] == list(range(1, first_bad + 1)) and chain[-1]["event"] == "halted"
    report = (run_dir(busy) / status["halt"]["report"]).read_text()
    assert f"first bad journal entry: {first_bad}" in report
    assert f"journal.jsonl:{first_bad}" in report and "journal.rejected-1.jsonl" in report
    assert cli(busy, "task-start", "3").code == 1
    say(busy, "abort")
    assert js(busy, "abort")["state"] == "aborted"


def test_missing_run_json_is_rebuilt_from_the_journal(busy):
    before = json.loads((run_dir(busy) / "run.json").read_text())
    (run_dir(busy) / "run.json").unlink()
    status = js(busy, "status")
    assert any("rebuilt from the journal" in n for n in status["notes"])
    assert status["state"] == "awaiting_approval"
    assert json.loads((run_dir(busy) / "run.json").read_text()) == before


def test_corrupt_run_json_is_rebuilt_and_said_so(busy):
    (run_dir(busy) / "run.json").write_text("{not json")
    r = ok(busy, "status")
    assert "note: run.json is corrupt" in r.out and "rebuilt from the journal" in r.out


def test_crash_between_journal_and_run_json_is_completed(busy):
    """The journal is one step ahead of run.json: the step was recorded, so it is folded in, not rejected."""
    path = run_dir(busy) / "run.json"
    behind = path.read_text()
    say(busy, "approve batch 1")
    ok(busy, "approve")
    path.write_text(behind)  # as if the process died after the journal append
    status = js(busy, "status")
    assert status["state"] == "running" and status["batch"] == 2
    assert any("completed the interrupted step 'approved'" in n for n in status["notes"])
    ok(busy, "task-start", "3")
