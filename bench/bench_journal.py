"""Journal.append cost does not grow with the journal: append on a 1-entry vs a 10,000-entry journal.

Run: .venv/bin/python bench/bench_journal.py [--rounds N]
Prints the median append time on each journal, their ratio (should be ~1), and, for scale, the median
start-up time of a bare ``python -I -c pass`` of the same interpreter measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clavain.core.chain import entry_hash  # noqa: E402
from clavain.run.journal import Journal, utc_stamp  # noqa: E402


def build(path: Path, count: int) -> Journal:
    """Write a valid chain of ``count`` entries quickly (one write, no per-line fsync)."""
    prev, lines = "", []
    for seq in range(1, count + 1):
        now = time.time()
        entry = {"seq": seq, "time": utc_stamp(now), "epoch": now, "event": "task-done",
                 "data": {"task": str(seq), "output": f"tasks/task-{seq}.md"}, "prev": prev}
        entry["hash"] = prev = entry_hash(entry)
        lines.append(json.dumps(entry, separators=(",", ":")) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    journal = Journal(path)
    assert journal.head()[0] == count
    return journal


def bare_start(rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent) as tmp:
        small = build(Path(tmp) / "small.jsonl", 1)
        large = build(Path(tmp) / "large.jsonl", 10_000)
        times: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(args.rounds):  # interleaved, so drift in disk speed hits both alike
            for name, journal in (("small", small), ("large", large)):
                t0 = time.perf_counter()
                journal.append("task-done", {"task": "x", "output": "tasks/task-x.md"})
                times[name].append(time.perf_counter() - t0)
        assert len(large.verify()) == 10_000 + args.rounds
        baseline = bare_start(20)
    s, l = statistics.median(times["small"]), statistics.median(times["large"])
    print(f"python -I -c pass (median of 20): {baseline * 1e3:.2f} ms")
    print(f"append, 1-entry journal      (median of {args.rounds}): {s * 1e3:.3f} ms ({s / baseline:.3f}x bare start)")
    print(f"append, 10,000-entry journal (median of {args.rounds}): {l * 1e3:.3f} ms ({l / baseline:.3f}x bare start)")
    print(f"ratio large/small: {l / s:.2f}")


if __name__ == "__main__":
    main()
