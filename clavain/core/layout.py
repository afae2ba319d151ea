"""Which files in a project's ``.clavain/`` are this plugin's, and moving them there from where 0.1 kept them.

``.clavain/`` is shared: Clavain keeps its own files in it (``learnings/``, ``checkpoint.json``, ``gate.db``,
``interspect/``, ``verdicts/``, and ``runs/`` in its designs). Everything this plugin writes lives in
``.clavain/execute-plan/``; only the user's settings file ``.clavain/config.yaml`` sits beside Clavain's
files. Names and ``os`` only: the hooks read these on every call, without pathlib.
"""

from __future__ import annotations

import os

STATE_DIRNAME = ".clavain"
OWN_DIRNAME = "execute-plan"
OWN_STATE = f"{STATE_DIRNAME}/{OWN_DIRNAME}"  # project-relative, as messages and reports name it
# what version 0.1 kept directly in .clavain/ (the SQLite store and its side files, run folders, the run index,
# the start lock), in the order they are moved
LEGACY = ("runs", "active", "clavain.db", "clavain.db-wal", "clavain.db-shm", "clavain.db-journal", "start.lock")


def own_state(project: str) -> str:
    return os.path.join(project, STATE_DIRNAME, OWN_DIRNAME)


def _ours(path: str, name: str) -> bool:
    """Whether a legacy-looking entry really is this plugin's (Clavain may one day keep a ``runs/`` there)."""
    if name == "runs":
        try:
            entries = os.listdir(path)
        except OSError:
            return False
        return all(any(os.path.exists(os.path.join(path, entry, marker))
                       for marker in ("journal.jsonl", "run.json", "retired.json")) for entry in entries)
    if name == "active":
        try:
            return all(entry.endswith(".json") or entry.startswith(".") for entry in os.listdir(path))
        except OSError:
            return False
    if name == "clavain.db":
        try:
            with open(path, "rb") as handle:
                head = handle.read(16)
        except OSError:
            return False
        return head in (b"", b"SQLite format 3\x00")
    return True


def migrate_legacy_state(project: str) -> tuple[list[str], list[str]]:
    """Move 0.1's state from ``.clavain/<name>`` into ``.clavain/execute-plan/<name>``; returns (moved, left)
    where ``left`` names what stayed because it is not recognisably ours or the new place already has it.
    Costs a few ``lstat`` calls when there is nothing to move. Safe to run from two processes at once."""
    shared = os.path.join(project, STATE_DIRNAME)
    present = [name for name in LEGACY if os.path.lexists(os.path.join(shared, name))]
    if not present:
        return [], []
    own = own_state(project)
    moved: list[str] = []
    left: list[str] = []
    for name in present:
        source, target = os.path.join(shared, name), os.path.join(own, name)
        if name.startswith("clavain.db-") and "clavain.db" in left:
            left.append(name)
            continue
        if os.path.lexists(target) or not _ours(source, name):
            left.append(name)
            continue
        try:
            os.makedirs(own, exist_ok=True)
            os.rename(source, target)
            moved.append(name)
        except FileNotFoundError:  # another process moved it first
            continue
        except OSError:
            left.append(name)
    return moved, left


def migration_note(moved: list[str], left: list[str]) -> str:
    """One line for the user and the model, or "" when nothing happened."""
    if not moved and not left:
        return ""
    text = ""
    if moved:
        text = (f"clavain: moved this plugin's state ({', '.join(moved)}) from {STATE_DIRNAME}/ into {OWN_STATE}/, "
                f"out of the way of Clavain's own files in {STATE_DIRNAME}/")
    if left:
        text += ("; " if text else "clavain: ") + (
            f"left {', '.join(STATE_DIRNAME + '/' + n for n in left)} in place (not recognisably this plugin's, or "
            f"{OWN_STATE}/ already has it)")
    return text
