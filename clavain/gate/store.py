"""The embedded store: ``<project>/.clavain/execute-plan/clavain.db`` (SQLite, standard library only).

It keeps the current phase of each bead or plan, the phase history, every gate decision, and small
caches keyed by content digests. The schema is versioned with ``PRAGMA user_version`` and migrated
forward on open; the database runs in WAL mode with a busy timeout, and every write happens in a
``BEGIN IMMEDIATE`` transaction, so two processes can use it at once without losing a row.
"""

from __future__ import annotations

import os
import time

try:  # the C module alone: sqlite3/dbapi2.py loads datetime for adapters this store never uses (~0.2 bare starts)
    import _sqlite3 as sqlite3
except ImportError:  # pragma: no cover - an interpreter that builds sqlite3 differently
    import sqlite3

from clavain.core.errors import EnvironmentProblem
from clavain.core.paths import db_file
from clavain.core.records import record

TYPE_CHECKING = False   # not ``typing``'s: the gate's fast path runs without typing and pathlib
if TYPE_CHECKING:
    from typing import Callable, Optional

BUSY_TIMEOUT_MS = 30_000

# One entry per schema version; entry i migrates version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE phase_current (
        kind TEXT NOT NULL,             -- 'bead' or 'plan'
        subject TEXT NOT NULL,          -- the bead id, or the plan path relative to the project
        phase TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, subject)
    );
    CREATE TABLE phase_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        from_phase TEXT,
        phase TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        artifact TEXT,
        at TEXT NOT NULL,
        pid INTEGER NOT NULL
    );
    CREATE INDEX phase_history_subject ON phase_history (kind, subject, id);
    CREATE TABLE gate_decision (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        command TEXT NOT NULL,          -- 'enforce-gate' or 'advance-phase'
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        from_phase TEXT,
        target TEXT NOT NULL,
        tier TEXT NOT NULL,
        tier_source TEXT NOT NULL,
        outcome TEXT NOT NULL,          -- pass, warn, block, skip, bypass
        reason TEXT NOT NULL DEFAULT '',
        skip_reason TEXT,
        artifact TEXT
    );
    CREATE TABLE cache (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE TABLE plan_content (
        path TEXT PRIMARY KEY,          -- absolute path of a plan whose Phase line we rewrote
        digest TEXT NOT NULL,           -- clavain.core.digest.plan_digest of its text
        changed_at REAL NOT NULL        -- mtime of its last change other than the Phase line
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def utc_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


HistoryRow = record("HistoryRow", "id kind subject from_phase phase reason artifact at")

Decision = record("Decision", "command kind subject from_phase target tier tier_source outcome reason skip_reason "
                              "artifact", defaults=("", None, None))


def _corrupt(path: str, exc: Exception) -> EnvironmentProblem:
    return EnvironmentProblem(
        f"the embedded store cannot be used: {exc}", path=path,
        next_command=f"mv '{path}' '{path}.broken' (a new store is created on the next command)")


class Store:
    """One open connection to a project's store. Use as a context manager, or call ``close``."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, project, *, create: bool = True) -> "Optional[Store]":
        """Open (and create or migrate) the store of ``project``. With ``create=False`` a missing
        store gives ``None`` instead of a new file."""
        path = db_file(project)
        if not os.path.exists(path):
            if not create:
                return None
            folder = os.path.dirname(path)
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as exc:
                raise EnvironmentProblem(f"cannot create the store's folder: {exc.strerror}", path=folder,
                                         next_command=f"check the permissions of {os.path.dirname(folder)}") from None
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise _corrupt(path, exc) from exc
        store = cls(conn, path)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            store._migrate()
        except sqlite3.Error as exc:
            conn.close()
            raise _corrupt(path, exc) from exc
        except BaseException:
            conn.close()
            raise
        return store

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise EnvironmentProblem(
                f"the store has schema version {version}, newer than this clavain knows ({SCHEMA_VERSION})",
                path=self.path, next_command="upgrade clavain, or move the store aside")
        self._use_wal()
        with self.transaction():
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _use_wal(self) -> None:
        """Switch a new store to WAL. SQLite answers "database is locked" at once, without waiting on the
        busy timeout, while another process is creating the same store: wait for it here instead."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions ------------------------------------------------------------------------------
    def transaction(self) -> "_Transaction":
        """``with store.transaction():`` runs the block under ``BEGIN IMMEDIATE`` (one writer at a time)."""
        return _Transaction(self.conn)

    # -- phases ------------------------------------------------------------------------------------
    def current_phase(self, kind: str, subject: str) -> "Optional[str]":
        row = self.conn.execute("SELECT phase FROM phase_current WHERE kind = ? AND subject = ?",
                                (kind, subject)).fetchone()
        return row[0] if row else None

    def record_phase(self, kind: str, subject: str, phase: str, reason: str, artifact: "Optional[str]",
                     check: "Callable[[Optional[str]], None]" = lambda current: None,
                     decision: "Optional[Decision]" = None, known_from: "Optional[str]" = None) -> HistoryRow:
        """Set the current phase and append a history row (and the gate decision that let it through),
        in one transaction.

        ``check(current)`` runs inside the transaction with the phase as it stands now (another
        process may have moved it since the caller looked); it raises to refuse the change.
        ``known_from`` is the phase known elsewhere (bd, the plan) when the store holds none yet."""
        at = utc_now()
        with self.transaction():
            current = self.current_phase(kind, subject)
            check(current)
            if decision is not None:
                self._insert_decision(decision)
            previous = current if current is not None else known_from
            self.conn.execute(
                "INSERT INTO phase_current (kind, subject, phase, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, subject) DO UPDATE SET phase = excluded.phase, updated_at = excluded.updated_at",
                (kind, subject, phase, at))
            cursor = self.conn.execute(
                "INSERT INTO phase_history (kind, subject, from_phase, phase, reason, artifact, at, pid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (kind, subject, previous, phase, reason, artifact, at, os.getpid()))
        return HistoryRow(cursor.lastrowid, kind, subject, previous, phase, reason, artifact, at)

    def history(self, kind: str, subject: str) -> list[HistoryRow]:
        rows = self.conn.execute(
            "SELECT id, kind, subject, from_phase, phase, reason, artifact, at FROM phase_history "
            "WHERE kind = ? AND subject = ? ORDER BY id", (kind, subject)).fetchall()
        return [HistoryRow(*row) for row in rows]

    # -- gate decisions ----------------------------------------------------------------------------
    def record_decision(self, d: Decision) -> int:
        with self.transaction():
            return self._insert_decision(d)

    def _insert_decision(self, d: Decision) -> int:
        cursor = self.conn.execute(
            "INSERT INTO gate_decision (at, command, kind, subject, from_phase, target, tier, tier_source, "
            "outcome, reason, skip_reason, artifact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (utc_now(), d.command, d.kind, d.subject, d.from_phase, d.target, d.tier, d.tier_source,
             d.outcome, d.reason, d.skip_reason, d.artifact))
        return cursor.lastrowid

    def decisions(self, kind: "Optional[str]" = None, subject: "Optional[str]" = None) -> list[Decision]:
        sql = ("SELECT command, kind, subject, from_phase, target, tier, tier_source, outcome, reason, "
               "skip_reason, artifact FROM gate_decision")
        params: tuple = ()
        if kind is not None:
            sql += " WHERE kind = ? AND subject = ?"
            params = (kind, subject)
        return [Decision(*row) for row in self.conn.execute(sql + " ORDER BY id", params).fetchall()]

    # -- caches ------------------------------------------------------------------------------------
    def cache_get(self, kind: str, key: str) -> "Optional[str]":
        row = self.conn.execute("SELECT value FROM cache WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return row[0] if row else None

    def cache_put(self, kind: str, key: str, value: str) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO cache (kind, key, value, at) VALUES (?, ?, ?, ?)",
                              (kind, key, value, utc_now()))

    # -- plan content times (a Phase line rewrite is not a change of the plan) ---------------------
    def plan_changed_at(self, path: str, digest: str) -> "Optional[float]":
        row = self.conn.execute("SELECT digest, changed_at FROM plan_content WHERE path = ?", (path,)).fetchone()
        return row[1] if row and row[0] == digest else None

    def note_plan_content(self, path: str, digest: str, changed_at: float) -> None:
        """Remember when ``path`` last changed with content ``digest``, unless already known."""
        with self.transaction():
            row = self.conn.execute("SELECT digest FROM plan_content WHERE path = ?", (path,)).fetchone()
            if row and row[0] == digest:
                return
            self.conn.execute("INSERT OR REPLACE INTO plan_content (path, digest, changed_at) VALUES (?, ?, ?)",
                              (path, digest, changed_at))


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
