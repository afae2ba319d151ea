"""The benchmark scripts still run to their table: each is run once, with the fewest rounds and the smallest sizes,
against the test interpreter (no timing is asserted: the figures of a run this short mean nothing).

A script that dies before its table (a command it drives refused, a changed option) would otherwise be found only
by the next person who measures. A script exits 1 when a target is missed, so the exit code alone cannot tell a
miss from a crash: the test reads the table's last line instead.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

PY = ["--python", sys.executable]

# script, its arguments, a text of the table's end that only a finished run prints
SCRIPTS = [
    ("bench_gate.py", ["--rounds", "1", *PY], "enforce-gate, first call"),
    ("bench_hooks.py", ["--rounds", "1", *PY], "via the CLI: clavain-cli hook pre-tool-use Bash, no run"),
    ("bench_run.py", ["--rounds", "1", "--tasks", "20", *PY], "task-start 1, right after start (20 tasks)"),
    ("bench_records.py", ["--rounds", "1", "--files", "20", *PY], "task-done, commit: task"),
    ("bench_journal.py", ["--rounds", "3"], "ratio large/small:"),
    ("bench_plan.py", ["--repeat", "1"], "10,000 / 1,000 ="),
]


@pytest.mark.parametrize("script,args,last", SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_the_benchmark_runs_to_its_table(script, args, last):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert last in proc.stdout, f"{script} ended before its table:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}"
