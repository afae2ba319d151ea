"""The embedded SQLite store: created on first use, versioned, WAL, and safe for processes writing at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, run_bin, run_cli
from gate_support import history, write_plan
from clavain.core.errors import EnvironmentProblem, Refused
from clavain.gate.store import SCHEMA_VERSION, Store


def test_created_on_first_use_with_wal_and_version(project):
    assert Store.open(project, create=False) is None
    assert not (project / ".clavain").exists()
    with Store.open(project) as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"phase_current", "phase_history", "gate_decision", "cache", "plan_content"} <= tables
    with Store.open(project, create=False) as again:  # reopening migrates nothing and loses nothing
        assert again.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_phase_command_creates_no_store(project):
    write_plan(project)
    assert run_cli(["phase", "demo-abc1", "plan.md"], cwd=project).out == "\n"
    assert not (project / ".clavain").exists()


def test_record_phase_is_refused_inside_the_transaction(project):
    with Store.open(project) as store:
        store.record_phase("bead", "x-1", "planned", "r", None)

        def refuse(current):
            assert current == "planned"
            raise Refused("no")

        with pytest.raises(Refused):
            store.record_phase("bead", "x-1", "done", "r", None, check=refuse)
        assert store.current_phase("bead", "x-1") == "planned"
        assert [row.phase for row in store.history("bead", "x-1")] == ["planned"]


def test_newer_schema_is_an_environment_problem(project):
    Store.open(project).close()
    conn = sqlite3.connect(project / ".clavain" / "execute-plan" / "clavain.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(EnvironmentProblem, match="newer than this clavain knows"):
        Store.open(project)
    write_plan(project)
    r = run_cli(["enforce-gate", "demo-abc1", "planned", "plan.md"], cwd=project)
    assert r.code == 3 and "clavain.db: the store has schema version" in r.err


def test_corrupt_store_exits_3_and_names_the_way_out(project):
    write_plan(project)
    (project / ".clavain" / "execute-plan").mkdir(parents=True)
    (project / ".clavain" / "execute-plan" / "clavain.db").write_bytes(b"this is not a database at all" * 100)
    r = run_cli(["advance-phase", "demo-abc1", "planned", "", "plan.md"], cwd=project)
    assert r.code == 3
    assert "clavain.db: the embedded store cannot be used" in r.err and "next: mv" in r.err
    assert "Traceback" not in r.err


WORKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from clavain.gate.gates import advance_phase
    project, name, count = Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    for i in range(count):
        advance_phase(project, "race-abc1", "executing", f"{name} {i}", Path("plan.md"), {"PATH": ""})
        advance_phase(project, "", "executing", f"{name} {i}", Path("plan.md"), {"PATH": ""})
""")


def test_two_processes_advancing_at_once_lose_no_history_row(project):
    write_plan(project)
    count = 25
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(ROOT), str(project), name, str(count)],
                                stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    for worker in workers:
        assert worker.wait(timeout=300) == 0, worker.stderr.read()
    # the plan's first row starts from the Phase line the bead's first advance wrote into it
    for kind, subject, first in (("bead", "race-abc1", None), ("plan", "plan.md", "executing")):
        rows = history(project, kind, subject)
        assert sorted(row.reason for row in rows) == sorted(f"{n} {i}" for n in "ab" for i in range(count))
        assert [row.from_phase for row in rows] == [first] + ["executing"] * (2 * count - 1)
    text = (project / "plan.md").read_text()
    assert text.count("**Phase:**") == 1 and "### Task 2: Check it" in text


def test_two_cli_processes_at_once(project):
    write_plan(project)
    script = "for i in 1 2 3 4 5 6; do \"$0\" advance-phase cli-abc1 executing \"$1 $i\" plan.md || exit 1; done"
    procs = [subprocess.Popen(["bash", "-c", script, str(ROOT / "bin" / "clavain-cli"), name], cwd=project,
                              env={"PATH": "/usr/bin:/bin", "CLAVAIN_PYTHON": sys.executable},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for name in ("x", "y")]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert len(history(project, "bead", "cli-abc1")) == 12
    assert run_bin(["phase", "cli-abc1"], cwd=project).out == "executing\n"
