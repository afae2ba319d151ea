"""Wall time of `clavain-cli run task-done` on task 1 and on task 1,000 of a generated 1,000-task plan,
through the real bin/clavain-cli, each as a ratio to a bare start of the same interpreter
(``python -I -c pass``), all measured in one run.

Run: .venv/bin/python bench/bench_run.py [--rounds N] [--tasks N] [--python PATH]
Target (issue 4): task-done on task 1,000 / task-done on task 1 < 2 (cost does not grow with history).

Two prepared run folders are built with the engine itself (every event journaled and hash-chained as a
real run writes it): one where task 1 is started, one where tasks 1..999 are done and task 1,000 is
started (so its journal holds ~2,000 entries). Before each timed call the prepared `.clavain/` folder is
copied back, so every round records the same step. Rounds interleave the three commands so load on the
machine hits them alike; the median of each is reported. Then the same two calls run in this process
(``clavain.cli.main``), to show the command's own work without the interpreter start and imports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _timing import timed  # noqa: E402  (the same timing helper as the other benchmarks)
CLI = ROOT / "bin" / "clavain-cli"
TARGET = 2.0


def plan_text(n: int) -> str:
    parts = ["# Generated plan\n\n**Goal:** many tasks.\n"]
    parts += [f"\n### Task {i}: Step {i}\n\n- [ ] **Step 1: do step {i}**\n" for i in range(1, n + 1)]
    return "".join(parts)


def prepare(project: Path, tasks: int, done_before: int) -> None:
    """A run of the generated plan (one batch) with ``done_before`` tasks done and the next one started."""
    from clavain.run.engine import start
    from clavain.run.folder import RunFolder

    (project / "plan.md").write_text(plan_text(tasks))
    env = {"CLAVAIN_SKIP_GATE": "benchmark", "PATH": os.environ.get("PATH", "")}
    outcome = start(project, project / "plan.md", env, batch_size=tasks)
    folder = RunFolder(project, outcome.state.run_id)
    state = outcome.state
    with folder.lock():
        for i in range(1, done_before + 1):
            state, _ = folder.record(state, "task_started", {"task": str(i), "head": None})
            state, _ = folder.record(state, "task_done", {"task": str(i), "output": f"tasks/task-{i}.md",
                                                          "output_sha256": "0" * 64, "files_changed": None})
        folder.record(state, "task_started", {"task": str(done_before + 1), "head": None})
    (project / "out.md").write_text("the task's output\n")


def in_process(project: Path, task: str, rounds: int) -> float:
    """Median wall time of ``clavain.cli.main`` for the same task-done, in this process (imports paid once)."""
    import io

    from clavain.cli import main as cli_main
    from clavain.commands import Context

    times = []
    for _ in range(rounds + 1):  # the first round warms the lazy imports and is dropped
        shutil.rmtree(project / ".clavain")
        shutil.copytree(project / "prepared", project / ".clavain")
        ctx = Context(cwd=project, env={"CLAVAIN_SKIP_GATE": "benchmark", "PATH": os.environ.get("PATH", "")},
                      stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
        t0 = time.perf_counter()
        code = cli_main(["run", "task-done", task, "--output", "out.md"], ctx=ctx)
        times.append(time.perf_counter() - t0)
        assert code == 0, ctx.stderr.getvalue()
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}
    env.update(CLAVAIN_PYTHON=args.python, CLAVAIN_SKIP_GATE="benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        cases = {}
        for label, done_before in (("task 1", 0), (f"task {args.tasks}", args.tasks - 1)):
            project = base / label.replace(" ", "-")
            project.mkdir()
            t0 = time.perf_counter()
            prepare(project, args.tasks, done_before)
            print(f"prepared {label}: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
            shutil.copytree(project / ".clavain", project / "prepared")
            cases[label] = (project, str(done_before + 1))
        samples: dict[str, list[float]] = {"python -I -c pass": [], **{k: [] for k in cases}}
        for _ in range(args.rounds):
            samples["python -I -c pass"].append(timed([args.python, "-I", "-c", "pass"], base, env))
            for label, (project, task) in cases.items():
                shutil.rmtree(project / ".clavain")
                shutil.copytree(project / "prepared", project / ".clavain")
                samples[label].append(timed([CLI, "run", "task-done", task, "--output", "out.md"], project, env))
        own = {label: in_process(project, task, args.rounds) for label, (project, task) in cases.items()}
    bare = statistics.median(samples["python -I -c pass"])
    print(f"{'command':<28} {'median ms':>10} {'x bare':>8}")
    for label, values in samples.items():
        med = statistics.median(values)
        print(f"{label:<28} {med * 1000:>10.1f} {med / bare:>8.2f}")
    for label, seconds in own.items():
        print(f"{label + ' own work':<28} {seconds * 1000:>10.1f}   (in process, imports excluded)")
    first, last = (statistics.median(samples[k]) for k in cases)
    ratio = last / first
    print(f"task-done on task {args.tasks} / on task 1: {ratio:.2f} (target < {TARGET}) "
          f"{'ok' if ratio < TARGET else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
