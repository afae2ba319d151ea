"""The witness record: what the hooks saw of a run, kept where a sandboxed command cannot write.

The run's own files live in the project (``.clavain/``), which Claude Code's Bash sandbox leaves writable: the
model's ``clavain-cli run ...`` must write them. So the run cannot trust them alone. The hooks run outside the
sandbox and keep, per run, a record of their own under ``${XDG_STATE_HOME:-~/.local/state}/clavain/witness/``
(one folder per project, one file per run; a sandboxed command sees it read-only):

    head         the journal entry (seq, hash) last seen moved by the plugin's own ``clavain-cli run``
    state        the run's state and batch at that entry
    pending      Bash calls under way: the head each one started from (by ``tool_use_id``)
    verdicts     changes nobody accounted for (the journal moved outside ``clavain-cli run``, or between
                 calls); the next ``clavain-cli run`` command turns each into a halt
    transcripts  per Claude Code session, the transcript and its length when a checkpoint or halt was
                 shown (only what the user writes after it can approve)
    level        the protection level of the session that last started

``clavain-cli`` run outside the sandbox (the user's own terminal) updates the record itself after each step it
records; run by the model inside the sandbox it cannot, and the PostToolUse hook attests the step instead.
Standard library only: the hooks read and write it on every Bash call while a run is active.
"""

from __future__ import annotations

import os

from clavain.core.chain import canonical, loads
from clavain.core.digest import sha256_hex

WITNESS_SUBDIR = ("clavain", "witness")
CLI_CALL = "cli-"   # pending calls announced by clavain-cli itself (outside the sandbox) start so


def started_here(key: str, call: object, head: object) -> bool:
    """Whether the pending ``call`` is a clavain-cli announcement made from the record's ``head``: only such a
    one accounts for the journal moving past that head (the announcing command's own steps)."""
    return key.startswith(CLI_CALL) and isinstance(call, dict) and isinstance(head, dict) and \
        (call.get("seq"), call.get("hash")) == (head.get("seq", 0), head.get("hash"))


def state_home(env) -> str:
    """``$XDG_STATE_HOME`` (when absolute), else ``~/.local/state``; "" when neither can be known."""
    xdg = env.get("XDG_STATE_HOME") or ""
    if xdg.startswith("/"):
        return xdg
    home = env.get("HOME") or ""
    return os.path.join(home, ".local", "state") if home.startswith("/") else ""


def folder(env, project: str) -> str:
    """The witness folder of ``project`` (one per project, named by a digest of its real path); "" when the
    state home is unknown."""
    base = state_home(env)
    if not base:
        return ""
    key = sha256_hex(os.path.realpath(project).encode("utf-8", "surrogateescape"))[:20]
    return os.path.join(base, *WITNESS_SUBDIR, key)


def record_path(env, project: str, run_id: str) -> str:
    where = folder(env, project)
    return os.path.join(where, f"{run_id}.json") if where else ""


def new_record(run_id: str, project: str) -> dict:
    return {"run_id": run_id, "project": os.path.realpath(project), "head": {"seq": 0, "hash": ""},
            "state": None, "batch": None, "pending": {}, "verdicts": [], "transcripts": {}, "level": None,
            "updated": 0.0}


def read(env, project: str, run_id: str) -> dict | None:
    """The record, or None when there is none (or it cannot be read as one)."""
    path = record_path(env, project, run_id)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = loads(handle.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("run_id") == run_id else None


def runs(env, project: str) -> list[str]:
    """Ids of the runs of ``project`` that have a witness record."""
    where = folder(env, project)
    try:
        names = os.listdir(where) if where else []
    except OSError:
        return []
    return sorted(name[:-5] for name in names if name.endswith(".json") and not name.startswith("."))


class Locked:
    """``with Locked(env, project, run_id) as rec:`` the record under an exclusive lock (created when missing),
    written back atomically when the block ends without an exception and changed it. ``rec`` is None when the
    witness folder cannot be written (a sandboxed ``clavain-cli``, a read-only home): the caller goes on
    without it.

    The lock is a POSIX record lock on ``<record>.lock`` (``os.lockf``: no ``fcntl`` module to load on the
    hooks' path), taken by every writer of the record through this class; a process holds one record's lock
    at a time."""

    def __init__(self, env, project: str, run_id: str) -> None:
        self.path = record_path(env, project, run_id)
        self.run_id, self.project = run_id, project
        self.fd = -1
        self.record: dict | None = None
        self.text = ""   # the record as read: written back only when it changed

    def __enter__(self) -> dict | None:
        if not self.path:
            return None
        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            self.fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None
        try:
            os.lockf(self.fd, os.F_LOCK, 0)
        except (AttributeError, OSError):
            pass
        try:
            with open(self.path, encoding="utf-8") as handle:
                self.text = handle.read()
            data = loads(self.text)
            if not isinstance(data, dict) or data.get("run_id") != self.run_id:
                raise ValueError("not a witness record")
        except FileNotFoundError:
            data, self.text = new_record(self.run_id, self.project), ""
        except (OSError, ValueError):
            data, self.text = self._damaged(), ""
        self.record = data
        return data

    def _damaged(self) -> dict:
        """A record that is there but cannot be read as one was damaged or replaced by someone else: what the
        hooks saw is lost, so nothing since can be vouched for. It is kept aside, and the new record starts with
        a verdict (the next ``clavain-cli run`` command halts the run; until then it counts as waiting)."""
        import time

        aside = f"{self.path}.damaged-{int(time.time())}"
        try:
            os.replace(self.path, aside)
        except OSError:
            aside = "(could not be moved)"
        record = new_record(self.run_id, self.project)
        record["damaged"] = aside
        record["verdicts"].append({"reason": f"the hooks' witness record could not be read (damaged or replaced; "
                                             f"kept as {aside}): what they saw of the run is lost",
                                   "at": time.time(), "seq": 0, "hash": "", "damaged": True})
        return record

    def __exit__(self, kind, value, trace) -> None:
        try:
            if kind is None and self.record is not None:
                text = canonical(self.record) + "\n"
                if text != self.text:
                    _write(self.path, text)
        finally:
            if self.fd >= 0:
                os.close(self.fd)  # closing releases the lock


def _write(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
