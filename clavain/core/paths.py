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

``owned_paths`` is the one list of what only this plugin writes there (``setup sandbox`` denies the
Edit and Write tools on it); a path that moves here moves there too.
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


def owned_paths(project: Path) -> tuple[tuple[Path, bool], ...]:
    """What only this plugin writes, as ``(path, is_folder)``: the run folders, the active-run summaries, and
    the embedded store with the files SQLite keeps beside it (a forged ``-wal`` or ``-journal`` would be
    replayed into the store when it is next opened)."""
    db = db_path(project)
    return ((runs_dir(project), True), (active_dir(project), True), (db, False),
            *((db.with_name(db.name + suffix), False) for suffix in ("-wal", "-shm", "-journal")))
