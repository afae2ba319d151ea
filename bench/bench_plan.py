"""Parse time of generated plans of 10, 100, 1,000 and 10,000 tasks.

Run: .venv/bin/python bench/bench_plan.py [--repeat N]

Prints, for each size, the best of N in-process parses (wall clock and CPU time) (``clavain.plan.parse_plan_text`` plus
``make_batches``), its ratio to the 10-task plan and per-task cost (linear cost keeps the per-task
figure flat), then one whole ``plan validate`` of the 1,000-task plan in a fresh process, as a ratio to
a bare ``python -I -c pass`` of the same interpreter measured in the same run.
Targets: 1,000 tasks parse in under 0.25 s in one process; cost linear in size (issue 10: 10,000 tasks in at
most 11x the time of 1,000).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = (10, 100, 1_000, 10_000)
TARGET_1000 = 0.25
TARGET_LINEAR = 11.0


def generate(tasks: int) -> str:
    """A superpowers plan with Must-Haves, and per task: files, steps, a fenced block, depends and <verify>."""
    out = ["---", "bead: bench-abc1", "---", "# Generated plan", "", "## Must-Haves", "", "**Artifacts:**",
           "- `src/mod0.py` exports `f0`", "", "## Global Constraints", "", "- Standard library only.", ""]
    for n in range(1, tasks + 1):
        out += [f"### Task {n}: Change module {n}", "", "**Files:**", f"- Modify: `src/mod{n}.py`",
                f"- Test: `tests/test_mod{n}.py`", ""]
        if n > 1:
            out += [f"**Depends on:** Task {n - 1}", ""]
        out += ["- [ ] **Step 1: Write the failing test**", "", "```python",
                f"def test_mod{n}():", f"    assert mod{n}.f() == {n}", "```", "",
                "- [ ] **Step 2: Implement**", "", "<verify>", f"- run: `pytest -q tests/test_mod{n}.py`",
                "  expect: exit 0", "</verify>", ""]
        if n % 5 == 0:
            out += ["<!-- checkpoint -->", ""]
    return "\n".join(out) + "\n"


def best_parse(text: str, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``repeat`` parses (CPU time is steadier on a busy machine)."""
    from clavain.plan.batching import make_batches
    from clavain.plan.reader import parse_plan_text

    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        make_batches(parse_plan_text(text, "bench.md"))
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def best_process(argv: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    best_parse(generate(10), 3)                  # warm up: imports and regex compilation
    base = None
    results = {}
    print(f"{'tasks':>7} {'lines':>8} {'bytes':>10} {'wall s':>8} {'cpu s':>8} {'x 10-task':>10} {'us/task':>8}")
    for size in SIZES:
        text = generate(size)
        wall, seconds = best_parse(text, args.repeat if size < 10_000 else max(1, args.repeat // 2))
        base = base or seconds
        results[size] = seconds
        print(f"{size:>7,} {text.count(chr(10)):>8,} {len(text):>10,} {wall:>8.4f} {seconds:>8.4f} "
              f"{seconds / base:>10.1f} {seconds / size * 1e6:>8.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "plan.md"
        plan.write_text(generate(1_000))
        bare = best_process([sys.executable, "-I", "-c", "pass"], args.repeat)
        whole = best_process([str(ROOT / "bin" / "clavain-cli"), "plan", "validate", str(plan)], args.repeat)
    print(f"bare `{Path(sys.executable).name} -I -c pass`: {bare:.4f} s; "
          f"`clavain-cli plan validate` of 1,000 tasks: {whole:.4f} s = {whole / bare:.1f}x bare")
    linear = results[10_000] / results[1_000]
    verdict = "OK" if results[1_000] < TARGET_1000 else "OVER TARGET"
    print(f"1,000 tasks: {results[1_000]:.4f} s CPU = {results[1_000] / bare:.1f}x bare start (target < {TARGET_1000} s: {verdict}); "
          f"10,000 / 1,000 = {linear:.1f}x (linear is 10x; target <= {TARGET_LINEAR:g}x: "
          f"{'OK' if linear <= TARGET_LINEAR else 'OVER TARGET'})")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs: CPU seconds are steadier than "
          "wall seconds on a busy machine, and the parse times above are CPU seconds")
    return 0 if results[1_000] < TARGET_1000 and linear <= TARGET_LINEAR else 1


if __name__ == "__main__":
    sys.exit(main())
