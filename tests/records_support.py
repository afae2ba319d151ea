"""Helpers for the tests of what a run records (no tests here): a git project with a plan of four tasks whose
files are declared, and a task done with its work written after it starts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from test_run_support import OPT_IN, cli, disk_state, ok, run_dir, say

PLAN = """\
# Records Plan

**Goal:** four tasks whose work the run measures.

### Task 1: Make a

**Files:**
- Create: `src/a.py`

- [ ] **Step 1: Write a**

### Task 2: Make b, extend a

**Files:**
- Create: `src/b.py`
- Modify: `src/a.py`
- Read: `README`

- [ ] **Step 1: Write b**
- [ ] **Step 2: Call b from a**

### Task 3: Decide

- [ ] **Step 1: Think it over**

### Task 4: Docs

**Files:**
- Modify: `docs/guide.md`

- [ ] **Step 1: Update the guide**
"""


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, text=True).stdout


def setup(project: Path, plan: str = PLAN, *, settings: str = "", name: str = "plan.md") -> Path:
    """The plan, the opt-in for prompt records and ``settings`` (``run: ...``) in the config; an identity for
    git commits; ``docs/guide.md`` and ``.gitignore`` committed."""
    git(project, "config", "user.name", "t")
    git(project, "config", "user.email", "t@example.com")
    (project / "docs").mkdir(exist_ok=True)
    (project / "docs" / "guide.md").write_text("# Guide\n")
    (project / ".gitignore").write_text("build/\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "docs")
    (project / name).parent.mkdir(parents=True, exist_ok=True)
    (project / name).write_text(plan)
    (project / ".clavain").mkdir(exist_ok=True)
    (project / ".clavain" / "config.yaml").write_text(OPT_IN + settings)
    return project / name


def work(project: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def task(project: Path, task_id: str, files: dict[str, str] | None = None, *extra: str):
    """Start the task, write its work, record it done (``extra``: more task-done arguments); the result."""
    ok(project, "task-start", task_id)
    work(project, files or {})
    out = project / "build" / f"out-{task_id}.md"     # ignored by git, as a model's scratch file would be
    out.parent.mkdir(exist_ok=True)
    out.write_text(f"task {task_id}: done\n")
    return cli(project, "task-done", task_id, "--output", str(out), *extra)


def fail_and_skip(project: Path, task_id: str, reason: str) -> None:
    """The task fails, and the user skips it."""
    ok(project, "task-start", task_id)
    ok(project, "task-fail", task_id, "--reason", reason)
    say(project, f"skip task {task_id}")
    ok(project, "skip", task_id, "--reason", reason)


def state(project: Path) -> dict:
    return disk_state(project)


def tasks(project: Path) -> dict[str, dict]:
    return {t["id"]: t for t in state(project)["tasks"]}


def reports(project: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run_dir(project) / "batches").iterdir())}
