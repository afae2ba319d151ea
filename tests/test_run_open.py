"""`run open [plan]`: resume the plan's run, start one through the gate, or refuse; with no plan, the active
run or the plans to choose from; a second plan only beside a run it may go on with."""

from __future__ import annotations

import json
import time
import os
import shutil

import pytest

from conftest import ROOT, check_golden, run_cli
from gate_support import decisions, history
from test_run_support import (SMALL_PLAN, cli, js, normalise, ok, run_dir, say, to_checkpoint,
                              transcript_line, write_plan)

CASES = ROOT / "tests" / "cases" / "plan"


def runs(project):
    folder = project / ".clavain" / "execute-plan" / "runs"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def journal(project, run_id=None):
    run = project / ".clavain" / "execute-plan" / "runs" / (run_id or runs(project)[0]) / "journal.jsonl"
    return [json.loads(line) for line in run.read_text().splitlines()]


def run_of(project, plan):
    (found,) = [r for r in runs(project) if journal(project, r)[0]["data"]["plan"] == plan]
    return found


def rows(project, subject):
    """The gate's records for one plan, without ids and times."""
    return [(d.command, d.from_phase, d.target, d.outcome) for d in decisions(project) if d.subject == subject]


# ------------------------------------------------------------------------------ with a plan

def test_open_starts_a_run_recording_the_gate_as_the_gate_commands_do(project, tmp_path):
    write_plan(project)
    r = run_cli(["run", "open", "plan.md", "--batch-size", "2"], cwd=project)
    assert r.code == 0, r.err
    assert "started: plan.md (4 tasks in 2 batches" in r.out and "next: clavain-cli run task-start 1" in r.out
    assert "**Phase:** executing" in (project / "plan.md").read_text()

    by_hand = tmp_path / "by-hand"
    by_hand.mkdir()
    write_plan(by_hand)
    for argv in (["enforce-gate", "", "executing", "plan.md"],
                 ["advance-phase", "", "executing", "Executing: plan.md", "plan.md"]):
        assert run_cli(argv, cwd=by_hand).code == 0
    assert rows(project, "plan.md") == rows(by_hand, "plan.md") == [
        ("enforce-gate", None, "executing", "pass"), ("advance-phase", None, "executing", "pass")]
    assert [(h.from_phase, h.phase, h.reason) for h in history(project, "plan", "plan.md")] == \
        [(h.from_phase, h.phase, h.reason) for h in history(by_hand, "plan", "plan.md")] == \
        [(None, "executing", "Executing: plan.md")]


def test_open_resumes_the_plans_unfinished_run_without_starting_over_or_gating_again(project):
    write_plan(project)
    ok(project, "open", "plan.md", "--batch-size", "2")
    to_checkpoint(project)
    before = (run_dir(project) / "journal.jsonl").read_text(), rows(project, "plan.md")
    r = ok(project, "open", "plan.md")
    assert r.out.startswith(f"resuming run {runs(project)[0]} of plan plan.md (plan plan.md has an unfinished run)")
    assert "batch 1 waits for the user" in r.out and "next: clavain-cli run approve" in r.out
    assert ((run_dir(project) / "journal.jsonl").read_text(), rows(project, "plan.md")) == before
    assert len(runs(project)) == 1


def test_open_refuses_a_plan_the_gate_blocks_and_records_the_block(project):
    write_plan(project, opt_in=False)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text("gate: {default_tier: hard}\n")
    run_cli(["advance-phase", "", "done", "finished earlier", "plan.md"], cwd=project, env={"CLAVAIN_SKIP_GATE": "x"})
    r = run_cli(["run", "open", "plan.md"], cwd=project)
    assert r.code == 1 and "gate blocked" in r.err and "next: show this to the user and stop" in r.err
    assert runs(project) == [] and rows(project, "plan.md")[-1][3] == "block"


def test_a_plan_path_with_spaces_may_come_unquoted_but_two_plans_are_refused(project):
    write_plan(project, name="my plan.md")
    write_plan(project, name="other.md")
    assert js(project, "open", "my", "plan.md")["plan"] == "my plan.md"
    r = cli(project, "open", "other.md", "plan.md")
    assert r.code == 2 and "one plan at a time" in r.err and "next: clavain-cli run open other.md" in r.err


# ------------------------------------------------------------------------------ with no plan

def test_no_plan_resumes_the_one_active_run_and_shows_its_status(project):
    write_plan(project)
    ok(project, "start", "plan.md", "--batch-size", "2")
    to_checkpoint(project)
    out = js(project, "open")
    assert out["opened"] == "resumed" and out["state"] == "awaiting_approval" and out["plan"] == "plan.md"
    text = ok(project, "open").out
    assert "(one run is active)" in text and "run " in text and "1 (current):" in text


def test_no_plan_and_two_runs_asks_which(project):
    for name in ("plan.md", "other.md"):
        write_plan(project, name=name, text=SMALL_PLAN.replace("# Small Plan", f"---\nindependent_of: [plan.md]\n---\n# {name}"))
    ok(project, "open", "plan.md")
    ok(project, "open", "other.md")
    out = js(project, "open")
    assert out["opened"] == "choose-run" and sorted(r["plan"] for r in out["runs"]) == ["other.md", "plan.md"]
    assert out["next"] == "ask the user which run, then clavain-cli run open --run ID"
    assert js(project, "open", "--run", out["runs"][1]["run_id"])["plan"] == out["runs"][1]["plan"]


def _layout(project):
    """Plans where the usual tools write them, with modification times one hour apart (newest last)."""
    files = [("docs/plans/2026-01-01-old.md", CASES / "superpowers-features.md"),
             ("docs/plans/2026-01-02-design.md", None),
             ("specs/001-albums/tasks.md", CASES / "speckit-tasks.md"),
             (".planning/phases/01-foundation/01-02-PLAN.md", CASES / "gsd-PLAN.md"),
             ("docs/superpowers/plans/2026-02-01-new.md", CASES / "numbered.md")]
    for n, (rel, source) in enumerate(files):
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            path.write_text("# A design\n\nNo tasks here, only ideas.\n")
        else:
            shutil.copy(source, path)
        os.utime(path, (1_767_225_600 + 3600 * n,) * 2)
    (project / "notes.md").write_text((CASES / "numbered.md").read_text())  # not in a place plans are kept


def test_no_plan_and_no_run_lists_the_plans_newest_first_and_asks(project):
    _layout(project)
    r = ok(project, "open")
    check_golden("run", "open-list.txt", normalise(r.out, project))
    out = js(project, "open")
    assert [p["path"] for p in out["plans"]] == [
        "docs/superpowers/plans/2026-02-01-new.md", ".planning/phases/01-foundation/01-02-PLAN.md",
        "specs/001-albums/tasks.md", "docs/plans/2026-01-01-old.md"]
    assert [p["tasks"] for p in out["plans"]] == [3, 4, 8, 5]
    assert [p["path"] for p in out["not_plans"]] == ["docs/plans/2026-01-02-design.md"]
    assert runs(project) == [] and not (project / ".clavain" / "execute-plan" / "clavain.db").exists()


def test_no_plan_anywhere_asks_for_a_path(project):
    r = ok(project, "open")
    assert "no plan found" in r.out and "next: ask the user for the plan to run, then clavain-cli run open <plan>" in r.out


def test_the_listing_reads_only_the_newest_files(project, monkeypatch):
    from clavain.run import opening

    monkeypatch.setattr(opening, "LISTED", 2)
    _layout(project)
    out = js(project, "open")
    assert len(out["plans"]) + len(out["not_plans"]) == 2 and out["older"] == 3
    assert "3 older file(s) in those places are not listed" in ok(project, "open").out


# ------------------------------------------------------------------------------ a second plan

OTHER = SMALL_PLAN.replace("# Small Plan", "# Other Plan")


def waiting(p):
    write_plan(p)
    ok(p, "open", "plan.md", "--batch-size", "2")
    to_checkpoint(p)


def halted(p):
    write_plan(p)
    ok(p, "open", "plan.md")
    ok(p, "task-start", "1")
    ok(p, "task-fail", "1", "--reason", "broken")


def running(p):
    write_plan(p)
    ok(p, "open", "plan.md")


def running_then_other_words(p):
    running(p)
    say(p, "/clavain:execute-plan other.md --alongside")
    say(p, "go on with the first plan")


def running_then_alongside_not_in_transcript(p):
    """Without the prompt-record opt-in, a record is not the user's word: Claude Code's transcript must be."""
    write_plan(p, opt_in=False)
    ok(p, "open", "plan.md")
    transcript = p / "session.jsonl"
    transcript.write_text(transcript_line("/clavain:execute-plan other.md --alongside", time.time()) + "\n")
    say(p, "/clavain:execute-plan other.md --alongside", transcript=transcript)


REFUSED = [
    # (setup, argv, the refusal says, its next command names)
    (waiting, ["open", "other.md"], "which waits for the user's approval of batch 1 of 2", "run approve"),
    (waiting, ["open", "other.md", "--alongside"], "One plan waits for the user at a time", "abort --run"),
    (waiting, ["start", "other.md"], "which waits for the user's approval", "abort --run"),
    (halted, ["open", "other.md"], "which is halted", "run retry 1 | clavain-cli run skip 1"),
    (running, ["open", "other.md"], "the plans say they are independent", "open other.md --alongside"),
    (running, ["start", "other.md"], "the plans say they are independent", "open other.md --alongside"),
    (running, ["open", "other.md", "--alongside"], "no prompt recorded", "only after the user has said"),
    (running_then_other_words, ["open", "other.md", "--alongside"],
     '"go on with the first plan", is not the reply `alongside`', "--alongside"),
    (running_then_alongside_not_in_transcript, ["open", "other.md", "--alongside"],
     "no reply of the user after", "--alongside"),
]


@pytest.mark.parametrize("setup,argv,says,names", REFUSED, ids=[f"{c[0].__name__}:{' '.join(c[1])}" for c in REFUSED])
def test_a_second_plan_is_refused_naming_the_run_and_the_way_on(project, setup, argv, says, names):
    setup(project)
    write_plan(project, OTHER, "other.md", opt_in=setup is not running_then_alongside_not_in_transcript)
    (first,) = runs(project)
    before = (project / ".clavain" / "execute-plan" / "runs" / first / "journal.jsonl").read_text()
    r = cli(project, *argv)
    assert r.code == 1, (r.out, r.err)
    assert says in r.err and names in r.err and f"run {first} (plan plan.md)" in r.err, r.err
    assert runs(project) == [first]
    assert (project / ".clavain" / "execute-plan" / "runs" / first / "journal.jsonl").read_text() == before
    assert (project / "other.md").read_text() == OTHER and rows(project, "other.md") == []  # nothing recorded


def _front(text: str, front: str) -> str:
    return f"---\n{front}\n---\n{text}"


@pytest.mark.parametrize("first_front,second_front,argv_extra", [
    ("", "independent_of: [plan.md]", []),            # the new plan says it
    ("independent_of: other.md", "", []),             # the running plan says it
    ("", "independent_of: [./sub/../plan.md]", []),   # relative to the plan's folder
    ("", "", ["--alongside"]),                        # the user says it (below)
])
def test_a_second_plan_starts_beside_a_running_one_where_the_plans_or_the_user_say_so(
        project, first_front, second_front, argv_extra):
    write_plan(project, _front(SMALL_PLAN, first_front) if first_front else SMALL_PLAN)
    ok(project, "open", "plan.md")
    if argv_extra:
        say(project, "/clavain:execute-plan other.md --alongside")
    write_plan(project, _front(OTHER, second_front) if second_front else OTHER, "other.md")
    r = ok(project, "open", "other.md", *argv_extra)
    first, second = run_of(project, "plan.md"), run_of(project, "other.md")
    assert f"alongside run {first} (plan.md):" in r.out and f"(--run {second} for this one)" in r.out
    (beside,) = journal(project, second)[0]["data"]["alongside"]
    assert beside["run_id"] == first
    assert ("the user said" in beside["because"]) == bool(argv_extra)
    assert rows(project, "other.md")[-1][:3] == ("advance-phase", None, "executing")


def _gsd(phase: str, plan: int, wave: int, depends: list[str]) -> str:
    text = (CASES / "gsd-PLAN.md").read_text()
    head, body = text.split("\n---\n", 1)
    return (f"---\nphase: {phase}\nplan: {plan:02d}\ntype: execute\nwave: {wave}\ndepends_on: {json.dumps(depends)}\n"
            f"---\n{body}")


@pytest.mark.parametrize("other,starts", [
    (("01-foundation", 3, 1, []), True),               # the same phase and wave
    (("01-foundation", 3, 1, ["01-02"]), False),        # depends on the running plan
    (("01-foundation", 3, 2, []), False),               # a later wave
    (("02-next", 4, 1, []), False),                     # another phase
])
def test_gsd_plans_of_one_wave_run_side_by_side(project, other, starts):
    folder = project / ".planning" / "phases" / "01-foundation"
    folder.mkdir(parents=True)
    (folder / "01-02-PLAN.md").write_text(_gsd("01-foundation", 2, 1, []))
    (folder / f"01-{other[1]:02d}-PLAN.md").write_text(_gsd(*other))
    ok(project, "open", ".planning/phases/01-foundation/01-02-PLAN.md")
    r = cli(project, "open", f".planning/phases/01-foundation/01-{other[1]:02d}-PLAN.md")
    assert (r.code == 0) == starts, (r.out, r.err)
    if starts:
        assert "GSD plans of phase 01-foundation, wave 1, and neither depends on the other" in r.out


def test_plans_with_equal_times_list_by_name_newest_date_first(project):
    folder = project / "docs" / "plans"
    folder.mkdir(parents=True)
    for name in ("2026-01-01-a.md", "2026-03-01-c.md", "2026-02-01-b.md"):
        (folder / name).write_text(SMALL_PLAN)
        os.utime(folder / name, (1_767_225_600, 1_767_225_600))
    assert [p["path"].rsplit("/", 1)[1] for p in js(project, "open")["plans"]] == [
        "2026-03-01-c.md", "2026-02-01-b.md", "2026-01-01-a.md"]


def test_resuming_says_which_start_options_it_ignored(project):
    write_plan(project)
    ok(project, "open", "plan.md")
    out = ok(project, "open", "plan.md", "--batch-size", "2", "--dispatch", "external").out
    assert "note: --batch-size 2 --dispatch external ignored: the run keeps what it started with (batch size 3, " \
           "local dispatch)" in out
    assert "ignored" not in ok(project, "open", "plan.md").out


def test_a_run_id_and_another_plan_disagree(project):
    write_plan(project)
    write_plan(project, OTHER, "other.md")
    ok(project, "open", "plan.md")
    (run_id,) = runs(project)
    r = cli(project, "open", "other.md", "--run", run_id)
    assert r.code == 2 and f"run {run_id} executes plan.md, not other.md" in r.err and "next: clavain-cli run open" in r.err
    assert js(project, "open", "plan.md", "--run", run_id)["opened"] == "resumed"
