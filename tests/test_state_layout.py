"""This plugin's state lives in .clavain/execute-plan/, beside Clavain's own files in .clavain/; state that
version 0.1 kept directly in .clavain/ moves there on first use, and the move is said."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli
from test_run_support import SMALL_PLAN

from clavain.core.layout import migrate_legacy_state, migration_note

CLAVAINS_OWN = {"learnings/2026-01-01-x.md": "a learning\n", "checkpoint.json": '{"step": 3}\n',
                "interspect/confidence.json": "{}\n", "verdicts/fd-x.json": "{}\n"}


def clavains_files(project):
    for name, text in CLAVAINS_OWN.items():
        path = project / ".clavain" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    sqlite3.connect(project / ".clavain" / "gate.db").close()


def legacy_state(project, run_id="20260101-000000-abcd"):
    """What 0.1 left: a started run, its summary, the store."""
    shared = project / ".clavain"
    (shared / "runs" / run_id / "tasks").mkdir(parents=True)
    (shared / "runs" / run_id / "journal.jsonl").write_text("{}\n")
    (shared / "active").mkdir()
    (shared / "active" / f"{run_id}.json").write_text('{"state": "running"}')
    sqlite3.connect(shared / "clavain.db").execute("create table t (x)").connection.commit()


def test_legacy_state_moves_and_clavains_files_stay(tmp_path):
    clavains_files(tmp_path)
    legacy_state(tmp_path)
    moved, left = migrate_legacy_state(str(tmp_path))
    assert moved == ["runs", "active", "clavain.db"] and left == []
    own = tmp_path / ".clavain" / "execute-plan"
    assert (own / "runs" / "20260101-000000-abcd" / "journal.jsonl").exists()
    assert (own / "active" / "20260101-000000-abcd.json").exists()
    assert sqlite3.connect(own / "clavain.db").execute("select count(*) from t").fetchone() == (0,)
    for name, text in CLAVAINS_OWN.items():
        assert (tmp_path / ".clavain" / name).read_text() == text
    assert (tmp_path / ".clavain" / "gate.db").exists()
    assert sorted(p.name for p in (tmp_path / ".clavain").iterdir()) == [
        "checkpoint.json", "execute-plan", "gate.db", "interspect", "learnings", "verdicts"]
    assert migrate_legacy_state(str(tmp_path)) == ([], [])  # once


@pytest.mark.parametrize("setup,left", [
    # a runs/ folder of Clavain's (run manifests, not our run folders) is not ours to move
    (lambda shared: (shared / "runs").mkdir() or (shared / "runs" / "manifest.yaml").write_text("x: 1\n"), ["runs"]),
    (lambda shared: (shared / "runs" / "sprint-1").mkdir(parents=True), ["runs"]),
    (lambda shared: (shared / "clavain.db").write_text("not sqlite"), ["clavain.db"]),
    # the new place already has it: nothing is overwritten
    (lambda shared: (shared / "active").mkdir() or (shared / "execute-plan" / "active").mkdir(parents=True),
     ["active"]),
])
def test_what_is_not_recognisably_ours_stays_and_is_named(tmp_path, setup, left):
    shared = tmp_path / ".clavain"
    shared.mkdir()
    setup(shared)
    before = sorted(str(p.relative_to(tmp_path)) for p in shared.rglob("*"))
    assert migrate_legacy_state(str(tmp_path)) == ([], left)
    assert sorted(str(p.relative_to(tmp_path)) for p in shared.rglob("*")) == before
    assert "left .clavain/" in migration_note([], left)


def test_a_project_with_no_legacy_state_costs_only_lstat_calls(tmp_path):
    clavains_files(tmp_path)
    assert migrate_legacy_state(str(tmp_path)) == ([], [])
    assert not (tmp_path / ".clavain" / "execute-plan").exists()


def test_the_first_command_moves_0_1_state_says_so_once_and_finds_the_run(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "plan.md").write_text(SMALL_PLAN)
    r = run_cli(["run", "start", "plan.md", "--json"], cwd=project, env={"CLAVAIN_SKIP_GATE": "test"})
    assert r.code == 0, r.err
    run_id = json.loads(r.out)["run_id"]
    own = project / ".clavain" / "execute-plan"
    for name in ("runs", "active", "clavain.db"):  # put it back where 0.1 kept it
        os.rename(own / name, project / ".clavain" / name)
    clavains_files(project)
    r = run_cli(["run", "status"], cwd=project)
    assert r.code == 0, r.err
    assert r.err.startswith("clavain: moved this plugin's state (runs, active, clavain.db) from .clavain/ into "
                            ".clavain/execute-plan/, out of the way of Clavain's own files in .clavain/\n")
    assert run_id in r.out
    again = run_cli(["run", "status"], cwd=project)
    assert again.code == 0 and "moved" not in again.err


def test_the_session_start_hook_moves_it_and_tells_the_model(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    legacy_state(project)
    payload = json.dumps({"hook_event_name": "SessionStart", "cwd": str(project), "source": "startup"})
    proc = subprocess.run([str(ROOT / "hooks" / "clavain-hook"), "session-start"], input=payload, text=True,
                          capture_output=True, env={"PATH": os.environ["PATH"], "CLAVAIN_PYTHON": sys.executable})
    assert proc.returncode == 0, proc.stderr
    context = json.loads(proc.stdout)["hookSpecificOutput"]["additionalContext"]
    assert context.startswith("clavain: moved this plugin's state (runs, active, clavain.db)")
    assert "run 20260101-000000-abcd" in context  # and the moved run is the one the hook now sees
    assert (project / ".clavain" / "execute-plan" / "active" / "20260101-000000-abcd.json").exists()


def test_the_hooks_read_runs_where_the_layout_puts_them(tmp_path):
    from clavain.core import layout
    from clavain.guard import runs

    run = runs.Run("r1", str(tmp_path))
    assert run.folder() == os.path.join(layout.own_state(str(tmp_path)), "runs", "r1")
