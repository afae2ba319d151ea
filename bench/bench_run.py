"""Wall time of every `clavain-cli run` command a run makes, through the real bin/clavain-cli in a real git
project, as ratios to a bare start of the same interpreter; and the per-task commands on a 5,000-task plan
against the same commands on a 10-task plan. All interleaved in one run.

Run: .venv/bin/python bench/bench_run.py [--rounds N] [--tasks N] [--python PATH]
Targets (issue 10): the commands a model calls per task (task-start, verify apart from the commands it runs,
task-done, next, status) <= 6x; start, checkpoint and the user's decisions (approve) <= 12x; each per-task
command on the 5,000-task plan within 1.5x of its cost on the 10-task plan.

The per-task commands are timed on task 2 (task 1 done), in the middle of a batch; the first command after start
is timed on its own (its journal's last entry is the run's first, which holds the whole plan).

Each project is a git repository with a generated plan (every task has a `<verify>` entry that runs `true`,
whose own start is part of the verify figure) and `approval: {evidence: prompt-record}` in its config, so the
user's reply recorded by the real UserPromptSubmit hook lets `run approve` pass. The states are made once with
the real CLI and copied back before every timed call (the project's `.clavain/`, the plan, the hooks' witness
folder), so each round times the same step. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import CLI, ROOT, Case, Table, bare_case, bench_env, bench_python, compiled, interleave  # noqa: E402

PER_TASK = ("task-start", "verify", "task-done", "next", "status")


def plan_text(tasks: int) -> str:
    parts = ["# Generated plan\n\n**Goal:** many tasks.\n\n## Global Constraints\n\n- Standard library only.\n"]
    for i in range(1, tasks + 1):
        parts.append(f"\n### Task {i}: Step {i}\n\n**Files:**\n- Modify: `src/f{i}.txt`\n\n"
                     f"- [ ] **Step 1: change f{i}**\n\n<verify>\n- run: `true`\n  expect: exit 0\n</verify>\n")
    return "".join(parts)


class Project:
    """A git project with a generated plan, and the run's states saved as the real CLI leaves them."""

    def __init__(self, base: Path, name: str, tasks: int, env: dict) -> None:
        self.dir = base / name
        self.saved = base / f"{name}-states"
        self.state_home = base / f"{name}-state-home"
        self.plan = plan_text(tasks)
        self.env = {**env, "XDG_STATE_HOME": str(self.state_home)}
        self.dir.mkdir()
        (self.dir / ".clavain").mkdir()
        (self.dir / ".clavain" / "config.yaml").write_text("approval: {evidence: prompt-record}\n")
        (self.dir / "plan.md").write_text(self.plan)
        (self.dir / "out.md").write_text("what the task did\n")
        git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
        subprocess.run(["git", "init", "-q"], cwd=self.dir, check=True)
        subprocess.run([*git, "add", "-A"], cwd=self.dir, check=True)
        subprocess.run([*git, "commit", "-qm", "plan"], cwd=self.dir, check=True)
        self.save("fresh")

    def cli(self, *argv: str) -> None:
        proc = subprocess.run([str(CLI), *argv], cwd=self.dir, env=self.env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{self.dir.name}: clavain-cli {' '.join(argv)} exited {proc.returncode}: {proc.stderr}")

    def work(self, task: int) -> None:
        """The model's work on a started task: the file the task declares changes (task-done checks that it did)."""
        (self.dir / "src").mkdir(exist_ok=True)
        with open(self.dir / "src" / f"f{task}.txt", "a") as f:
            f.write("done\n")

    def say(self, prompt: str) -> None:
        """The user's reply, recorded by the real UserPromptSubmit hook."""
        payload = {"session_id": "bench", "transcript_path": str(self.dir / "no-transcript.jsonl"),
                   "cwd": str(self.dir), "permission_mode": "default", "hook_event_name": "UserPromptSubmit",
                   "prompt": prompt}
        proc = subprocess.run([str(ROOT / "hooks" / "clavain-hook"), "user-prompt-submit"], cwd=self.dir,
                              env={**self.env, "CLAUDE_PLUGIN_ROOT": str(ROOT)}, input=json.dumps(payload),
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr

    def save(self, label: str) -> None:
        where = self.saved / label
        shutil.copytree(self.dir / ".clavain", where / "clavain")
        (where / "plan.md").write_text((self.dir / "plan.md").read_text())
        if self.state_home.exists():
            shutil.copytree(self.state_home, where / "state-home")

    def restorer(self, label: str):
        where = self.saved / label

        def restore() -> None:
            shutil.rmtree(self.dir / ".clavain")
            shutil.copytree(where / "clavain", self.dir / ".clavain")
            saved = (where / "plan.md").read_text()
            if (self.dir / "plan.md").read_text() != saved:   # as a user's plan: rewritten only when it changed
                (self.dir / "plan.md").write_text(saved)
            shutil.rmtree(self.state_home, ignore_errors=True)
            if (where / "state-home").exists():
                shutil.copytree(where / "state-home", self.state_home)
        return restore

    def prepare(self, full: bool) -> None:
        """The states each timed command starts from (``full``: through the first checkpoint too). The per-task
        commands are timed on task 2, in the middle of a batch, as a run makes most of them; ``just-started``
        is the state right after start, whose journal's last entry is the run's first (it holds the whole plan)."""
        self.cli("run", "start", "plan.md")
        self.save("just-started")
        self.cli("run", "task-start", "1")
        self.work(1)
        self.cli("run", "verify", "1")
        self.cli("run", "task-done", "1", "--output", "out.md")
        self.save("started")
        self.cli("run", "task-start", "2")
        self.work(2)
        self.save("running")
        self.cli("run", "verify", "2")
        self.save("verified")
        if not full:
            return
        self.cli("run", "task-done", "2", "--output", "out.md")
        self.cli("run", "task-start", "3")
        self.work(3)
        self.cli("run", "verify", "3")
        self.cli("run", "task-done", "3", "--output", "out.md")
        self.save("batch-done")
        self.cli("run", "checkpoint")
        self.say("approve batch 1")
        self.save("approvable")

    def cases(self, suffix: str = "") -> dict[str, Case]:
        def case(label: str, state: str, *argv: str) -> tuple[str, Case]:
            return label + suffix, Case([CLI, "run", *argv], self.dir, self.env, prepare=self.restorer(state))

        return dict((case("task-start", "started", "task-start", "2"),
                     case("verify", "running", "verify", "2"),
                     case("task-done", "verified", "task-done", "2", "--output", "out.md"),
                     case("next", "started", "next"),
                     case("status", "started", "status"),
                     case("task-start 1, right after start", "just-started", "task-start", "1")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tasks", type=int, default=5000, help="the large plan's tasks (default 5,000)")
    parser.add_argument("--python", help="the interpreter to measure (default: the plugin's own environment)")
    args = parser.parse_args()
    python = bench_python(args.python)
    compiled(python)
    env = bench_env(python)
    table = Table("run commands", python, args.rounds)   # notes the load average before the runs
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        small, sample, large = (Project(base, "ten", 10, env), Project(base, "nine", 9, env),
                                Project(base, "large", args.tasks, env))
        for project, full in ((small, False), (sample, True), (large, False)):
            project.prepare(full)
        cases = {"bare": bare_case(python, base, env)}
        cases.update(sample.cases())
        cases["start"] = Case([CLI, "run", "start", "plan.md"], sample.dir, sample.env,
                              prepare=sample.restorer("fresh"))
        cases["checkpoint"] = Case([CLI, "run", "checkpoint"], sample.dir, sample.env,
                                   prepare=sample.restorer("batch-done"))
        cases["approve"] = Case([CLI, "run", "approve"], sample.dir, sample.env, prepare=sample.restorer("approvable"))
        cases.update(small.cases(" (10 tasks)"))
        cases.update(large.cases(f" ({args.tasks:,} tasks)"))
        interleave(cases, args.rounds)

    bare = cases["bare"]
    table.add("python -I -c pass", bare, bare)
    for name in PER_TASK:
        table.add(f"{name} (9-task plan)", cases[name], bare, 6.0)
    table.add("task-start 1, right after start (9-task plan)", cases["task-start 1, right after start"], bare, 6.0)
    for name in ("start", "checkpoint", "approve"):
        table.add(f"{name} (9-task plan)", cases[name], bare, 12.0)
    for name in (*PER_TASK, "task-start 1, right after start"):
        one = statistics.median(cases[f"{name} (10 tasks)"].wall)
        many = statistics.median(cases[f"{name} ({args.tasks:,} tasks)"].wall)
        growth = many / one
        if growth > 1.5:
            table.missed.append(f"{name} on {args.tasks:,} tasks")
        table.add(f"{name} ({args.tasks:,} tasks)", cases[f"{name} ({args.tasks:,} tasks)"], bare,
                  note=f"{growth:.2f}x its cost on 10 tasks (<= 1.5x {'ok' if growth <= 1.5 else 'MISSED'})")
    table.print()
    return 1 if table.missed else 0


if __name__ == "__main__":
    sys.exit(main())
