"""The run's append-only, hash-chained event journal (``journal.jsonl``). Standard library only.

One JSON object per line::

    {"seq": 1, "time": "2026-11-25T22:01:02.123456Z", "epoch": 1764108062.123456,
     "event": "start", "data": {...}, "prev": "", "hash": "<sha256>"}

``hash`` is the sha256 of the canonical JSON of the entry without ``hash``; ``prev`` is the hash of the entry
before it (``""`` for the first): the chain itself is ``clavain.core.chain``, which the hooks read too. A changed, removed, reordered, inserted or hand-appended line breaks the chain and ``verify`` names it.

Appending reads only the last line (seeking from the end), so its cost does not grow with the journal.
A crash mid-append can leave a torn final line (no trailing newline). That is not tampering: the line was
never acknowledged, so ``verify`` ignores it and the next ``append`` cuts it off; both record it in
``torn`` and ``append`` also in ``repaired``. Callers hold the run's lock; ``append`` additionally takes
an advisory ``flock`` on the file where the platform has one.

The chain has no secret key: it makes hand edits visible, it does not stop someone who recomputes every
hash. Keeping the model from writing into ``.clavain/`` at all is the hooks' job.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

from clavain.core.chain import check_alone, check_entry, entry_hash, loads, open_regular, tail
from clavain.core.files import append_line, atomic_write
from clavain.core.model import dumps   # json's C encoder, without the json package (a run command loads this)

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Iterator, Optional

try:  # POSIX only; elsewhere the run's file lock is the only guard
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

class JournalTampered(Exception):
    """The chain is broken at entry ``seq`` (the seq that was expected there), line ``line`` of ``path``."""

    def __init__(self, path: Path, line: int, seq: int, reason: str, valid: Optional[list] = None) -> None:
        self.path = Path(path)
        self.line = line
        self.seq = seq
        self.reason = reason
        self.valid: list[dict] = valid or []   # the checked entries before the bad one (the trusted prefix)
        super().__init__(f"{self.path}:{line}: journal entry {seq}: {reason}")


def utc_stamp(epoch: float) -> str:
    """ISO-8601 UTC with microseconds and a ``Z``: ``2026-11-25T22:01:02.123456Z``."""
    from math import modf

    fraction, whole = modf(epoch)            # as ``datetime.fromtimestamp(epoch, timezone.utc)`` rounds it: the
    micro = round(fraction * 1e6)            # microseconds half to even (without importing datetime)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    elif micro < 0:
        whole, micro = whole - 1, micro + 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micro:06d}Z"


class Journal:
    """``Journal(path)``: ``append(event, data)``, ``last()``, ``head()``, ``verify()``, ``quarantine_from(line)``.
    See the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.torn: Optional[bytes] = None      # torn final line seen by the last head/verify/append
        self.repaired: Optional[bytes] = None  # torn final line that the last append cut off
        self._seen: Optional[tuple] = None     # (the file's stat, what _tail_entry read from it)

    # -- reading the tail ---------------------------------------------------------------------------------
    def _tail_entry(self, fh) -> tuple[Optional[dict], int, Optional[bytes]]:
        """``(entry, torn_at, torn)``: the last complete entry (None when empty), checked on its own (O(1) in the
        journal's length; O(its own length), and a run's first entry holds the whole plan, so what was read is
        reused while the file's stat says it has not changed: ``last()`` then ``append()`` read it once)."""
        info = os.fstat(fh.fileno())
        key = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        if self._seen is not None and self._seen[0] == key:
            self.torn = self._seen[1][2]
            return self._seen[1]
        last, torn_at, torn = tail(fh)
        self.torn = torn
        if last is None:
            return None, torn_at, torn
        entry = check_alone(last)
        if entry is None:
            self._raise_first_bad()
        self._seen = (key, (entry, torn_at, torn))
        return entry, torn_at, torn

    def _raise_first_bad(self) -> None:
        """Error path only: scan the whole chain to name the first bad line (O(n) is fine here).

        ``verify`` raises at that line. Should it pass (the file changed between the two reads), the last
        line it read is named."""
        entries = self.verify()
        raise JournalTampered(self.path, len(entries), len(entries), "last entry is not a valid journal entry",
                              valid=entries[:-1])

    # -- public API -----------------------------------------------------------------------------------------
    def last(self) -> Optional[dict]:
        """The last entry (its own hash checked; a torn final line skipped), or None when empty. O(1).

        Raises ``JournalTampered`` when the last complete line is not a valid entry."""
        try:
            fh = self._open()
        except FileNotFoundError:
            self.torn = None
            return None
        with fh:
            entry, _, _ = self._tail_entry(fh)
        return entry

    def _open(self):
        """The journal open for reading, only as a regular file (never waiting on a named pipe put in its place)."""
        try:
            return open_regular(str(self.path))
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise self._not_a_file(exc) from None

    def _not_a_file(self, exc: OSError):
        from clavain.core.errors import EnvironmentProblem

        return EnvironmentProblem(f"the run's journal cannot be read as a file ({exc.strerror or exc}): something "
                                  f"outside clavain-cli run put another kind of file in its place",
                                  path=self.path, next_command="put the journal back (the run's record), then "
                                  "clavain-cli run status")

    def head(self) -> tuple[int, str]:
        """Seq and hash of the last entry; ``(0, "")`` when the journal is empty or missing. O(1)."""
        entry = self.last()
        return (0, "") if entry is None else (entry["seq"], entry["hash"])

    @contextmanager
    def _locked(self) -> Iterator:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o644)
        if os.fstat(fd).st_mode & 0o170000 != 0o100000:
            os.close(fd)
            raise self._not_a_file(OSError(0, "not a regular file"))
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(fd, "r+b", closefd=False) as fh:
                yield fh
        finally:
            os.close(fd)  # closing releases the flock

    def append(self, event: str, data: dict) -> dict:
        """Append one entry (fsync'd before returning) and return it as written."""
        if not isinstance(event, str) or not event:
            raise ValueError("event must be a non-empty string")
        plain = loads(dumps(data))  # exactly what a reader will see (no NaN, keys as text, tuples as lists)
        if not isinstance(plain, dict):
            raise ValueError("data must be a JSON object")
        with self._locked() as fh:
            last, torn_at, torn = self._tail_entry(fh)
            seq, prev = (0, "") if last is None else (last["seq"], last["hash"])
            self.repaired = None
            if torn is not None:
                fh.truncate(torn_at)
                fh.flush()
                os.fsync(fh.fileno())
                self.repaired = torn
            now = time.time()
            entry = {"seq": seq + 1, "time": utc_stamp(now), "epoch": now, "event": event, "data": plain,
                     "prev": prev}
            entry["hash"] = entry_hash(entry)
            append_line(self.path, dumps(entry), point="mid-append")
        return entry

    def quarantine_from(self, line: int) -> Path:
        """Move line ``line`` (1-based) and everything after it into ``<stem>.rejected-<n>.jsonl`` beside the
        journal (the first free ``n``), then cut the journal there. Returns the new file.

        For a journal whose end ``append`` refuses (a hand-appended bad line): the moved lines are kept,
        byte for byte, as evidence, and the journal ends with its trusted prefix again. The copy is durable
        before the journal is cut, so a crash in between loses nothing."""
        if line < 1:
            raise ValueError(f"line must be 1 or more, not {line}")
        with self._locked() as fh:
            raw = fh.read()
            offset = 0
            for _ in range(line - 1):
                nl = raw.find(b"\n", offset)
                if nl < 0:
                    raise ValueError(f"{self.path} has fewer than {line} lines")
                offset = nl + 1
            n = 1
            while (target := self.path.with_name(f"{self.path.stem}.rejected-{n}{self.path.suffix}")).exists():
                n += 1
            atomic_write(target, raw[offset:])
            fh.truncate(offset)
            fh.flush()
            os.fsync(fh.fileno())
        self.torn = None
        return target

    def verify(self, expect_head: Optional[tuple[int, str]] = None) -> list[dict]:
        """Read and check the whole chain; return its entries, or raise ``JournalTampered`` at the first bad one.

        A torn final line is ignored (recorded in ``torn``). With ``expect_head=(seq, hash)`` (what the state
        file last recorded), the journal must hold that entry: fewer entries, or a different one at that seq,
        means lines were removed or rewritten. More entries than expected is not an error here (a crash
        between the journal append and the state write leaves the journal one step ahead)."""
        try:
            with self._open() as fh:
                raw = fh.read()
        except FileNotFoundError:
            raw = b""
        lines = raw.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        self.torn = tail or None
        entries: list[dict] = []
        prev = ""
        for number, line in enumerate(lines, start=1):
            entry, reason = check_entry(line, expect_seq=len(entries) + 1, expect_prev=prev)
            if entry is None:
                raise JournalTampered(self.path, number, len(entries) + 1, reason, valid=entries)
            entries.append(entry)
            prev = entry["hash"]
        if expect_head is not None and expect_head[0] > 0:
            seq, digest = expect_head
            if seq > len(entries):
                raise JournalTampered(self.path, len(entries) + 1, len(entries) + 1,
                                      f"journal ends at entry {len(entries)} but the run state records entry {seq} "
                                      "(lines were removed from the end)", valid=entries)
            if entries[seq - 1]["hash"] != digest:
                raise JournalTampered(self.path, seq, seq,
                                      "entry differs from the one the run state records (the journal was rewritten)",
                                      valid=entries[: seq - 1])
        return entries
