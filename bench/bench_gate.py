"""Wall time of infer-bead, enforce-gate and advance-phase through the real bin/clavain-cli, without `bd`,
as a ratio to a bare start of the same interpreter (``python -I -c pass``), measured in one run.

Run: .venv/bin/python bench/bench_gate.py [--rounds N] [--python PATH]
Targets (issue 3): infer-bead <= 2x, enforce-gate and advance-phase <= 3x.

The commands are interleaved with the bare start round by round, so load on the machine hits both
alike. Each command is run once before timing (the first enforce-gate on a plan reads it with the plan
reader and caches the verdict by digest; the benchmark measures the repeated call, as a run makes it).
The first, uncached call is reported on its own line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "bin" / "clavain-cli"
TARGETS = {"infer-bead": 2.0, "enforce-gate": 3.0, "advance-phase": 3.0}

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




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    args = parser.parse_args()

    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "CLAVAIN_PYTHON": args.python}
    assert not any(Path(folder, "bd").exists() for folder in env["PATH"].split(":")), "bd must be absent"
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "plan.md").write_text(PLAN)
        commands = {
            "infer-bead": [str(CLI), "infer-bead", "plan.md"],
            "enforce-gate": [str(CLI), "enforce-gate", "bench-abc1", "executing", "plan.md"],
            "advance-phase": [str(CLI), "advance-phase", "bench-abc1", "executing", "bench", "plan.md"],
        }
        bare = [args.python, "-I", "-c", "pass"]
        floor = [str(CLI), "--version"]  # the wrapper, the CLI module and its parser: the floor of any command
        first = timed(commands["enforce-gate"], project, env)  # the uncached first call
        for argv in commands.values():
            timed(argv, project, env)
        samples: dict[str, list[float]] = {"bare": [], "floor": [], **{name: [] for name in commands}}
        for _ in range(args.rounds):
            samples["bare"].append(timed(bare, project, env))
            samples["floor"].append(timed(floor, project, env))
            for name, argv in commands.items():
                samples[name].append(timed(argv, project, env))

    base = statistics.median(samples["bare"])
    print(f"python: {args.python}; rounds: {args.rounds}; medians")
    print(f"{'command':<28}{'ms':>8}{'ratio':>8}{'target':>8}")
    print(f"{'python -I -c pass':<28}{base * 1000:>8.1f}{1.0:>8.2f}")
    floor_ms = statistics.median(samples["floor"])
    print(f"{'clavain-cli --version':<28}{floor_ms * 1000:>8.1f}{floor_ms / base:>8.2f}   (the CLI's own start)")
    failed = []
    for name in commands:
        median = statistics.median(samples[name])
        ratio = median / base
        verdict = "ok" if ratio <= TARGETS[name] else "OVER"
        if verdict != "ok":
            failed.append(name)
        print(f"{name:<28}{median * 1000:>8.1f}{ratio:>8.2f}{TARGETS[name]:>7.1f}x {verdict}")
    print(f"{'enforce-gate, first call':<28}{first * 1000:>8.1f}{first / base:>8.2f}   (reads the plan once)")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
