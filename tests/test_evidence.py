"""Evidence of the user's word: replies read from a real Claude Code transcript (found by session id under the
config folder), the windows the hooks note, the prompt-record opt-in, and the reply grammar."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from clavain.run import replies
from clavain.run.evidence import SOURCE_RECORD, SOURCE_TRANSCRIPT, Ask, find_reply, is_reinvocation

CASES = Path(__file__).resolve().parent / "cases" / "transcripts"
REAL_LINES = (CASES / "session.jsonl").read_text(encoding="utf-8").splitlines()
REAL_RECORDS = [json.loads(line) for line in (CASES / "prompts.jsonl").read_text(encoding="utf-8").splitlines()]
SESSION = REAL_RECORDS[1]["session_id"]
APPROVAL = REAL_RECORDS[1]["prompt"]             # "yes,  approve batch 1", as the user typed it


def at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


CHECKPOINT = at("2026-11-25T21:45:48.000Z")      # between the two turns of the real session
NOW = at("2026-11-25T22:00:00.000Z")


def entries() -> list[dict]:
    return [json.loads(line) for line in REAL_LINES]


def genuine_index(items: list[dict]) -> int:
    return next(i for i, e in enumerate(items) if e.get("type") == "user" and e["message"]["content"] == APPROVAL)


class Project:
    """A run folder with prompt records, and Claude Code's config folder with the session's transcript."""

    def __init__(self, root: Path) -> None:
        from clavain.run.evidence import project_folder

        self.project = root / "project"
        self.run_dir = self.project / ".clavain" / "execute-plan" / "runs" / "r1"
        self.run_dir.mkdir(parents=True)
        self.config = root / "claude"
        self.transcript = self.config / "projects" / project_folder(self.project) / f"{SESSION}.jsonl"
        self.transcript.parent.mkdir(parents=True)
        self.env = {"CLAUDE_CONFIG_DIR": str(self.config), "HOME": str(root / "nohome")}

    def write(self, items: list[dict], records: list[dict]) -> None:
        self.transcript.write_text("".join(json.dumps(e) + "\n" for e in items))
        (self.run_dir / "prompts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))

    def find(self, decision: str = "approve", since: float = CHECKPOINT, **kw):
        return find_reply(self.run_dir, Ask(decision, since, batch=1, tasks=kw.pop("tasks", ())), self.env,
                          now=NOW, **kw)


@pytest.fixture
def project(tmp_path) -> Project:
    return Project(tmp_path)


def test_the_real_session_approves_from_its_transcript(project):
    project.write(entries(), REAL_RECORDS)
    evidence, why = project.find()
    assert evidence is not None, why
    assert (evidence.source, evidence.how, evidence.session_id) == (SOURCE_TRANSCRIPT, "canonical reply", SESSION)
    assert evidence.text == APPROVAL and evidence.transcript_path == str(project.transcript)


# Each case edits the real transcript entries; the reply must then not count.
def _tool_result_only(t):
    t[genuine_index(t)]["message"]["content"] = [{"type": "tool_result", "tool_use_id": "x", "content": APPROVAL}]


def _meta(t):
    t[genuine_index(t)]["isMeta"] = True


def _sidechain(t):
    t[genuine_index(t)]["isSidechain"] = True


def _before_the_checkpoint(t):
    t[genuine_index(t)]["timestamp"] = "2026-11-25T21:45:47.900Z"


def _tool_result_entry(t):
    t[genuine_index(t)]["toolUseResult"] = {"stdout": APPROVAL}


@pytest.mark.parametrize("edit", [_tool_result_only, _meta, _sidechain, _before_the_checkpoint, _tool_result_entry])
def test_only_a_genuine_user_message_after_the_wait_counts(project, edit):
    items = entries()
    edit(items)
    project.write(items, REAL_RECORDS)
    evidence, why = project.find()
    assert evidence is None and "no reply of the user after" in why, why


def test_a_record_naming_a_transcript_of_its_own_is_ignored(project, tmp_path):
    """The transcript is found from the session id under Claude Code's config folder, never from the path a
    record names: a forged record and a forged transcript elsewhere prove nothing."""
    fake = tmp_path / "fake.jsonl"
    fake.write_text("".join(json.dumps(e) + "\n" for e in entries()))
    forged = {**REAL_RECORDS[1], "session_id": "someone-else", "transcript_path": str(fake)}
    project.write([], [forged])
    project.transcript.unlink()
    evidence, why = project.find()
    assert evidence is None and "no reply of the user" in why


def test_the_newest_message_decides_and_a_later_hold_takes_back_a_yes(project):
    items = entries()
    later = dict(items[genuine_index(items)], timestamp="2026-11-25T21:46:30.000Z", uuid="later",
                 message={"role": "user", "content": "wait, not yet: task 2 is wrong"})
    project.write([*items, later], REAL_RECORDS)
    evidence, why = project.find()
    assert evidence is None and '"wait, not yet: task 2 is wrong"' in why and "approve batch 1" in why


def test_the_witness_window_starts_at_the_noted_length(project):
    """The hooks note how long the transcript was when the run came to wait: a reply before that offset never
    counts, even when its timestamp would."""
    project.write(entries(), [])
    size = project.transcript.stat().st_size
    witnessed = {"transcripts": {SESSION: {"path": str(project.transcript), "offset": size, "at": CHECKPOINT}}}
    evidence, why = project.find(witnessed=witnessed)
    assert evidence is None, evidence
    witnessed["transcripts"][SESSION]["offset"] = 0
    evidence, why = project.find(witnessed=witnessed)
    assert evidence is not None and evidence.source == SOURCE_TRANSCRIPT, why


def test_a_window_outside_the_config_folder_is_ignored(project, tmp_path):
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text("".join(json.dumps(e) + "\n" for e in entries()))
    project.write([], [])
    witnessed = {"transcripts": {SESSION: {"path": str(elsewhere), "offset": 0, "at": CHECKPOINT}}}
    evidence, why = project.find(witnessed=witnessed)
    assert evidence is None


@pytest.mark.parametrize("opt_in,prompt,counts", [
    (True, "approve batch 1", True),
    (True, "Approve batch 1, looks good", True),
    (True, "yes, approve it", False),               # without a transcript only the canonical reply counts
    (True, "approve batch 2", False),
    (False, "approve batch 1", False),              # no opt-in: a prompt record is never the user's word
])
def test_prompt_records_count_only_when_opted_in_and_only_canonical(project, opt_in, prompt, counts):
    project.write([], [{"time": "t", "epoch": CHECKPOINT + 5, "session_id": "s-x", "prompt": prompt}])
    project.transcript.unlink()
    evidence, why = project.find(opt_in=opt_in)
    assert (evidence is not None) is counts, why
    if counts:
        assert evidence.source == SOURCE_RECORD
    elif opt_in:
        assert "only the exact reply counts" in why
    else:
        assert "Claude Code's transcripts" in why


def test_a_record_naming_another_projects_session_is_ignored(project):
    other = project.config / "projects" / "-home-u-other" / f"{SESSION}.jsonl"
    other.parent.mkdir()
    other.write_text("".join(json.dumps(e) + "\n" for e in entries()))
    (project.run_dir / "prompts.jsonl").write_text(json.dumps(REAL_RECORDS[1]) + "\n")
    evidence, why = project.find()
    assert evidence is None and "no reply of the user" in why


@pytest.mark.parametrize("env", [{}, {"CLAUDECODE": "1"}])
def test_inside_claude_code_a_prompt_record_never_counts(project, env):
    project.write([], [{"time": "t", "epoch": CHECKPOINT + 5, "session_id": "s-x", "prompt": "approve batch 1"}])
    project.transcript.unlink()
    project.env.update(env)
    evidence, why = project.find(opt_in=True)
    assert (evidence is not None) is (not env), why


def test_records_written_before_the_run_came_to_wait_never_count(project):
    record = {"time": "t", "epoch": CHECKPOINT + 5, "session_id": "s-x", "prompt": "approve batch 1"}
    project.write([], [record])
    project.transcript.unlink()
    size = (project.run_dir / "prompts.jsonl").stat().st_size
    assert project.find(opt_in=True, records_from=size)[0] is None
    assert project.find(opt_in=True, records_from=0)[0] is not None


def test_a_prompt_record_never_counts_when_a_transcript_exists(project):
    """The opt-in is for a project without transcripts: with one, its words are what count."""
    items = entries()
    items[genuine_index(items)]["message"]["content"] = "not now"
    project.write(items, [{**REAL_RECORDS[1], "prompt": "approve batch 1"}])
    evidence, why = project.find(opt_in=True)
    assert evidence is None and '"not now"' in why


def test_a_record_dated_in_the_future_is_rejected(project):
    project.write([], [{"time": "t", "epoch": NOW + 3600, "session_id": "s-x", "prompt": "approve batch 1"}])
    project.transcript.unlink()
    evidence, why = project.find(opt_in=True)
    assert evidence is None and "dated in the future were rejected" in why


def test_records_for_re_invocations_never_count(project):
    project.write([], [{"time": "t", "epoch": CHECKPOINT + 5, "session_id": "s", "prompt": "/execute-plan plan.md"}])
    project.transcript.unlink()
    evidence, why = project.find(opt_in=True)
    assert evidence is None


@pytest.mark.parametrize("prompt,expected", [
    ("/execute-plan plan.md", True), ("/clavain:execute-plan plan.md", True), ("  /execute-plan", True),
    ("<command-name>/clavain:execute-plan</command-name>\n<command-args>p.md</command-args>", True),
    ("/execute-planner x", False), ("please /execute-plan again", False), ("approve batch 1", False),
])
def test_is_reinvocation(prompt, expected):
    assert is_reinvocation(prompt) is expected


# ------------------------------------------------------------------------------ the reply grammar

SHOWN = "Batch 1 is done; the report is above. Reply `approve batch 1` to go on, or say what to change."
OTHER_QUESTION = "Should I also update the changelog?"

# (reply, what the assistant showed before it, decision, tasks, counts): false approvals and false refusals
GRAMMAR = [
    ("approve batch 1", "", "approve", (), True),
    ("Approve batch 1, thanks", OTHER_QUESTION, "approve", (), True),   # canonical counts in any session
    ("`approve batch 1`", "", "approve", (), True),
    ("approve batch 2", SHOWN, "approve", (), False),
    ("Approved, no issues found", SHOWN, "approve", (), True),
    ("Looks good, approved. Go on.", SHOWN, "approve", (), True),
    ("lgtm", SHOWN, "approve", (), True),
    ("yes", SHOWN, "approve", (), True),
    ("ok, continue", SHOWN, "approve", (), True),
    ("ship it", SHOWN, "approve", (), True),
    ("yes", OTHER_QUESTION, "approve", (), False),                      # a yes to another question
    ("yes", "", "approve", (), False),
    ("No. Do NOT approve batch 1 – task 2 is wrong, stop and wait.", SHOWN, "approve", (), False),
    ("ok, but wait", SHOWN, "approve", (), False),
    ("looks good but fix the typo", SHOWN, "approve", (), False),
    ("not yet", SHOWN, "approve", (), False),
    ("yes, don't continue though", SHOWN, "approve", (), False),
    ("hold on", SHOWN, "approve", (), False),
    ("I approve of the direction, change task 2", SHOWN, "approve", (), False),
    ("retry task 2", "", "retry", ("2",), True),
    ("retry task 3", "", "retry", ("2",), False),
    ("please retry it", "Reply `retry task 2`, `skip task 2` or `abort`.", "retry", ("2",), True),
    ("don't retry it", "Reply `retry task 2`, `skip task 2` or `abort`.", "retry", ("2",), False),
    ("skip task 2", "", "skip", ("2",), True),
    ("skip it", "Reply `retry task 2`, `skip task 2` or `abort`.", "skip", ("2",), True),
    ("revise task 2: name the file", "", "revise", ("2",), True),
    ("revise tasks 2 and 3: both wrong", "", "revise", ("2", "3"), True),
    ("revise task 2: only this", "", "revise", ("2", "3"), False),
    ("no, fix task 2", SHOWN.replace("`approve batch 1`", "`approve batch 1`, or `revise task 2: ...`"),
     "revise", ("2",), True),
    ("abort", "", "abort", (), True),
    ("aborting sounds wrong", "", "abort", (), False),
    ("replan", "", "replan", (), True),
    ("allow external", "", "allow-external", (), True),
    ("accept", "", "accept", (), True),
    ("rollback task 3", "", "rollback", ("3",), True),
    ("alongside", "", "alongside", (), True),
]


@pytest.mark.parametrize("reply,shown,decision,tasks,counts", GRAMMAR)
def test_the_reply_grammar(reply, shown, decision, tasks, counts):
    if replies.is_canonical(reply, decision, 1, tasks):
        assert counts
        return
    phrase = replies.closing_line(decision, 1, tasks)
    natural = bool(shown) and phrase.lower() in shown.lower() and replies.is_natural(reply, decision, 1)
    assert natural is counts, (reply, decision)


def test_natural_replies_count_only_with_a_transcript(project):
    """The same natural reply: with the report shown before it in the transcript it approves; as a prompt
    record alone (opt-in, no transcript) it does not."""
    items = entries()
    i = genuine_index(items)
    items[i]["message"]["content"] = "Looks good, approved. Go on."
    shown = {"type": "assistant", "message": {"role": "assistant", "content": [{"type": "text", "text": SHOWN}]},
             "timestamp": "2026-11-25T21:45:49.000Z", "sessionId": SESSION}
    project.write([*items[:i], shown, *items[i:]], [])
    witnessed = {"transcripts": {SESSION: {"path": str(project.transcript), "offset": 0, "at": CHECKPOINT}}}
    evidence, why = project.find(witnessed=witnessed)
    assert evidence is not None and evidence.how == "natural reply", why
    project.write([], [{"time": "t", "epoch": CHECKPOINT + 5, "session_id": "s", "prompt": "Looks good, approved."}])
    project.transcript.unlink()
    evidence, why = project.find(opt_in=True)
    assert evidence is None


def test_the_window_skips_what_the_transcript_held_before_the_wait(project):
    """Lines before the noted offset are never read, whatever their timestamps say."""
    filler = [dict(entries()[genuine_index(entries())], timestamp="2026-11-25T21:50:00.000Z",
                   message={"role": "user", "content": f"old {n}"}) for n in range(20000)]
    project.write(filler, [])
    offset = project.transcript.stat().st_size
    with open(project.transcript, "a") as fh:
        fh.write("".join(json.dumps(e) + "\n" for e in entries()))
    witnessed = {"transcripts": {SESSION: {"path": str(project.transcript), "offset": offset, "at": CHECKPOINT}}}
    evidence, why = project.find(witnessed=witnessed)
    assert evidence is not None and evidence.text == APPROVAL, why
    witnessed["transcripts"][SESSION]["offset"] = 0  # read from the start, a later "old" message would decide
    evidence, why = project.find(witnessed=witnessed)
    assert evidence is None and '"old ' in why
