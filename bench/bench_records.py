"""Wall time of `clavain-cli run task-done` in a git repository, as each run setting records it: changes
measured from the task's start (the default), the plan's checkbox ticked (`run.tick_plan`), the task's own
commit (`run.commit: task`); each as a ratio to a bare start of the same interpreter, all interleaved in one run.

Run: .venv/bin/python bench/bench_records.py [--rounds N] [--files N] [--python PATH]

Each case is a git repository holding ``--files`` committed files and a run of a three-task plan whose task 1
is started and has changed two files (one declared, one new). Before each timed call the repository and its
`.clavain/` folder are copied back from a prepared one, so every round records the same step.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import CLI, Case, Table, bare_case, bench_env, bench_python, compiled, interleave  # noqa: E402

PLAN = """# Bench plan

### Task 1: Change the module

**Files:**
- Modify: `src/mod0.py`

- [ ] **Step 1: Change it**

### Task 2: More

- [ ] **Step 1: More**

### Task 3: Last

- [ ] **Step 1: Last**
"""

CASES = {"task-done, changes measured": "", "task-done, tick_plan: true": "run: {tick_plan: true}\n",
         "task-done, commit: task": "run: {commit: task}\n"}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def prepare(project: Path, settings: str, files: int, env: dict) -> None:
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.name", "bench")
    git(project, "config", "user.email", "bench@example.com")
    (project / "src").mkdir()
    for i in range(files):
        (project / "src" / f"mod{i}.py").write_text(f"VALUE = {i}\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "files")
    (project / "plan.md").write_text(PLAN)
    (project / ".clavain").mkdir()
    (project / ".clavain" / "config.yaml").write_text(settings)
    for argv in (["run", "start", "plan.md"], ["run", "task-start", "1"]):
        subprocess.run([str(CLI), *argv], cwd=project, env=env, check=True, capture_output=True)
    (project / "src" / "mod0.py").write_text("VALUE = 'changed'\n")
    (project / "src" / "new.py").write_text("NEW = 1\n")
    (project / "out.md").write_text("changed src/mod0.py, added src/new.py\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--python", help="the interpreter to measure (default: the plugin's own environment)")
    args = parser.parse_args()
    python = bench_python(args.python)
    compiled(python)
    env = bench_env(python, CLAVAIN_SKIP_GATE="benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        cases = {"python -I -c pass": bare_case(python, base, env)}
        for n, (label, settings) in enumerate(CASES.items()):
            source, case = base / f"prepared-{n}", base / f"case-{n}"
            prepare(source, settings, args.files, env)

            def fresh(source=source, case=case) -> None:
                shutil.rmtree(case, ignore_errors=True)
                shutil.copytree(source, case, symlinks=True)

            cases[label] = Case([CLI, "run", "task-done", "1", "--output", "out.md"], case, env, prepare=fresh)
            fresh()
        interleave(cases, args.rounds)
        table = Table(f"task-done in a git repository of {args.files} files", python, args.rounds)
        bare = cases.pop("python -I -c pass")
        for label, case in cases.items():
            table.add(label, case, bare)
        table.print()


if __name__ == "__main__":
    main()
