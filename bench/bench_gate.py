"""Wall time of the gate commands through the real bin/clavain-cli (no `bd`), as ratios to a bare start of
the same interpreter, and beside Clavain's own bash `clavain-cli` on the same plan, all interleaved in one run.

Run: .venv/bin/python bench/bench_gate.py [--rounds N] [--python PATH]
     CLAVAIN_CHECKOUT=<a Clavain checkout> .venv/bin/python bench/bench_gate.py   (adds Clavain's column)
Targets (issue 10): infer-bead <= 2x; enforce-gate and advance-phase <= 2.5x; each faster than Clavain's
`clavain-cli` side by side. The floor of any command (`clavain-cli --version`) is shown for scale.

enforce-gate is timed on its repeated call, as a run makes it (the first call on a plan reads it with the plan
reader and keeps the verdict by digest); the first call is shown on its own line. Without CLAVAIN_CHECKOUT the
Clavain column is left out. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import CLI, Case, Table, bare_case, bench_env, bench_python, compiled, interleave  # noqa: E402

TARGETS = {"infer-bead": 2.0, "enforce-gate": 2.5, "advance-phase": 2.5}

PLAN = """---
bead: bench-abc1
title: "Benchmark plan"
---
# Benchmark plan

**Bead:** `bench-abc1`

### Task 1: Write the file

Create `out.txt` with the greeting.

### Task 2: Check it

Run `cat out.txt`.
"""

ARGS = {
    "infer-bead": ["infer-bead", "plan.md"],
    "enforce-gate": ["enforce-gate", "bench-abc1", "executing", "plan.md"],
    "advance-phase": ["advance-phase", "bench-abc1", "executing", "bench", "plan.md"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--python", help="the interpreter to measure (default: the plugin's own environment)")
    args = parser.parse_args()
    python = bench_python(args.python)
    compiled(python)
    env = bench_env(python, PATH="/usr/bin:/bin")
    assert not any(Path(folder, "bd").exists() for folder in env["PATH"].split(":")), "bd must be absent"
    checkout = os.environ.get("CLAVAIN_CHECKOUT")
    theirs = Path(checkout) / "bin" / "clavain-cli" if checkout else None

    table = Table("gate commands", python, args.rounds)   # notes the load average before the runs
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "plan.md").write_text(PLAN)
        cases = {"bare": bare_case(python, project, env), "--version": Case([CLI, "--version"], project, env)}
        first_env = dict(env)

        def fresh_store() -> None:  # the first enforce-gate on a plan: no verdict kept yet
            for name in ("clavain.db", "clavain.db-wal", "clavain.db-shm"):
                (project / ".clavain" / "execute-plan" / name).unlink(missing_ok=True)

        cases["enforce-gate, first call"] = Case([CLI, *ARGS["enforce-gate"]], project, first_env,
                                                 prepare=fresh_store)
        for name, argv in ARGS.items():
            cases[name] = Case([CLI, *argv], project, env)
            if theirs is not None:
                cases[f"{name} (Clavain)"] = Case(["bash", theirs, *argv], project, env, ok=None)
        interleave(cases, args.rounds)

    bare = cases["bare"]
    table.add("python -I -c pass", bare, bare)
    table.add("clavain-cli --version", cases["--version"], bare, note="the CLI's floor")
    for name in ARGS:
        ours = statistics.median(cases[name].wall)
        note = ""
        if theirs is not None:
            clavain = statistics.median(cases[f"{name} (Clavain)"].wall)
            note = f"ours / Clavain {ours / clavain:.2f} ({'faster' if ours < clavain else 'NOT faster'})"
            if ours >= clavain:
                table.missed.append(f"{name} vs Clavain")
        table.add(name, cases[name], bare, TARGETS[name], note)
        if theirs is not None:
            table.add(f"{name} (Clavain's bash)", cases[f"{name} (Clavain)"], bare)
    table.add("enforce-gate, first call", cases["enforce-gate, first call"], bare, note="reads the plan once")
    table.print()
    if theirs is None:
        print("Clavain's column left out: set CLAVAIN_CHECKOUT to a Clavain checkout to add it")
    return 1 if table.missed else 0


if __name__ == "__main__":
    sys.exit(main())
