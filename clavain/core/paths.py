"""Where things live in the user's project. Standard library only (hooks import this).

Nothing here is global: every function takes the directory it starts from. ``.clavain/`` is shared with
Clavain's own files; this plugin's state is all in ``.clavain/execute-plan/`` (see ``clavain.core.layout``,
which also moves the state of version 0.1 there on first use):

    <project>/.clavain/config.yaml                              optional settings (gate.default_tier ...)
    <project>/.clavain/execute-plan/clavain.db                  embedded store (phases, gate decisions, audit)
    <project>/.clavain/execute-plan/start.lock                  held while a run starts
    <project>/.clavain/execute-plan/active/<run-id>.json        summary of each active run, for hooks
    <project>/.clavain/execute-plan/runs/<run-id>/run.json      current state of a run
    <project>/.clavain/execute-plan/runs/<run-id>/journal.jsonl append-only, hash-chained events
    <project>/.clavain/execute-plan/runs/<run-id>/prompts.jsonl user prompts recorded by the UserPromptSubmit hook
    <project>/.clavain/execute-plan/runs/<run-id>/tasks/        one output file per task (+ verify logs)
    <project>/.clavain/execute-plan/runs/<run-id>/batches/      batch reports, halt reports, the final report
"""

from __future__ import annotations

import os

from clavain.core.layout import OWN_DIRNAME, OWN_STATE, STATE_DIRNAME

TYPE_CHECKING = False   # not ``typing``'s: the gate's fast path imports this module without pathlib or typing
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["OWN_STATE", "STATE_DIRNAME", "find_project", "find_project_dir", "state_dir", "db_path", "db_file",
           "config_path", "config_file", "runs_dir", "run_dir", "active_dir", "owned_paths"]


def _path(text: str) -> "Path":
    from pathlib import Path

    return Path(text)


def find_project_dir(start: str) -> str:
    """The project a command acts on: the nearest folder at or above ``start`` that holds ``.clavain/``,
    else the nearest that holds ``.git``, else ``start`` itself (all made real and absolute)."""
    start = os.path.realpath(start)
    folders = [start]
    while os.path.dirname(folders[-1]) != folders[-1]:
        folders.append(os.path.dirname(folders[-1]))
    for folder in folders:
        if os.path.isdir(os.path.join(folder, STATE_DIRNAME)):
            return folder
    for folder in folders:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
    return start


def find_project(start) -> "Path":
    """``find_project_dir`` as a ``Path``."""
    return _path(find_project_dir(os.fspath(start)))


def db_file(project) -> str:
    """The embedded store (``.clavain/execute-plan/clavain.db``), as text."""
    return os.path.join(os.fspath(project), STATE_DIRNAME, OWN_DIRNAME, "clavain.db")


def config_file(project) -> str:
    """The project's settings file (``.clavain/config.yaml``), as text."""
    return os.path.join(os.fspath(project), STATE_DIRNAME, "config.yaml")


def state_dir(project) -> "Path":
    """This plugin's own folder in the project (``.clavain/execute-plan``)."""
    return _path(project) / STATE_DIRNAME / OWN_DIRNAME


def db_path(project) -> "Path":
    return _path(db_file(project))


def config_path(project) -> "Path":
    return _path(config_file(project))


def runs_dir(project) -> "Path":
    return state_dir(project) / "runs"


def run_dir(project, run_id: str) -> "Path":
    return runs_dir(project) / run_id


def active_dir(project) -> "Path":
    return state_dir(project) / "active"


def owned_paths(project) -> "tuple[tuple[Path, bool], ...]":
    """What only this plugin writes, as ``(path, is_folder)``: the run folders, the active-run summaries, the
    start lock, and the embedded store with the files SQLite keeps beside it (a forged ``-wal`` or ``-journal``
    would be replayed into the store when it is next opened). ``setup sandbox`` guards these."""
    db = db_path(project)
    return ((runs_dir(project), True), (active_dir(project), True), (db, False),
            *((db.with_name(db.name + suffix), False) for suffix in ("-wal", "-shm", "-journal")),
            (state_dir(project) / "start.lock", False))
