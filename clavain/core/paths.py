"""Where things live in the user's project. Standard library only (hooks import this).

Nothing here is global: every function takes the directory it starts from.

    <project>/.clavain/clavain.db                 embedded store (phases, gate decisions, audit)
    <project>/.clavain/config.yaml                optional settings (gate.default_tier ...)
    <project>/.clavain/active/<run-id>.json       summary of each active run, for hooks (small, atomic)
    <project>/.clavain/runs/<run-id>/run.json     current state of a run
    <project>/.clavain/runs/<run-id>/journal.jsonl  append-only, hash-chained events
    <project>/.clavain/runs/<run-id>/prompts.jsonl  user prompts recorded by the UserPromptSubmit hook
    <project>/.clavain/runs/<run-id>/tasks/       one output file per task (+ verify logs)
    <project>/.clavain/runs/<run-id>/batches/     batch reports, halt reports, the final report
"""

from __future__ import annotations

from pathlib import Path

STATE_DIRNAME = ".clavain"


def find_project(start: Path) -> Path:
    """The project a command acts on: the nearest folder at or above ``start`` that holds ``.clavain/``,
    else the nearest that holds ``.git``, else ``start`` itself."""
    start = Path(start).resolve()
    candidates = [start, *start.parents]
    for folder in candidates:
        if (folder / STATE_DIRNAME).is_dir():
            return folder
    for folder in candidates:
        if (folder / ".git").exists():
            return folder
    return start


def state_dir(project: Path) -> Path:
    return Path(project) / STATE_DIRNAME


def db_path(project: Path) -> Path:
    return state_dir(project) / "clavain.db"


def config_path(project: Path) -> Path:
    return state_dir(project) / "config.yaml"


def runs_dir(project: Path) -> Path:
    return state_dir(project) / "runs"


def run_dir(project: Path, run_id: str) -> Path:
    return runs_dir(project) / run_id


def active_dir(project: Path) -> Path:
    return state_dir(project) / "active"
