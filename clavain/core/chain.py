"""The hash chain of a run's journal, entry by entry. Standard library only, and without the ``json`` package:
the hooks check journal entries with this while a run is active, on every tool call, and ``import json`` alone
costs as much as a bare interpreter start. The C scanner and encoder the ``json`` package itself uses do the work.

One entry a line::

    {"seq": 1, "time": "...Z", "epoch": 1764108062.1, "event": "checkpoint", "data": {...}, "prev": "<sha256>",
     "hash": "<sha256>"}

``hash`` is the sha256 of the canonical JSON of the entry without ``hash`` (keys sorted, separators ``,`` and
``:``, non-ASCII kept, no NaN); ``prev`` is the hash of the entry before it (``""`` for the first). The run engine
(``clavain.run.journal``) writes the entries in that key order, so a line ends with its own hash.
"""

from __future__ import annotations

import os
from clavain.core.digest import sha256_hex

ENTRY_KEYS = frozenset({"seq", "time", "epoch", "event", "data", "prev", "hash"})
_CHUNK = 4096


class _Scanner:
    """The settings ``_json.make_scanner`` reads (those of ``json.loads`` with no hooks)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name: str):
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


def loads(text: str):
    """``json.loads`` through the json package's C scanner, without importing the package. Raises
    ``ValueError`` for anything that is not one JSON document."""
    try:
        from _json import make_scanner

        stripped = text.strip(" \t\n\r")
        value, end = make_scanner(_Scanner())(stripped, 0)
        if end == len(stripped):
            return value
    except Exception:  # no C scanner, or bad input: its errors need json.decoder loaded
        pass
    import json  # the slow path says exactly what is wrong (a ValueError)

    return json.loads(text)


def _refuse(value):
    raise TypeError(f"{type(value).__name__} is not plain JSON")


def canonical(value) -> str:
    """The canonical JSON of ``value``: what ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False, allow_nan=False)`` gives. Raises ValueError for NaN and infinities."""
    try:
        from _json import encode_basestring, make_encoder
    except ImportError:  # pragma: no cover - an interpreter without the C accelerator
        import json

        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    encode = make_encoder({}, _refuse, encode_basestring, None, ":", ",", True, False, False)
    return "".join(encode(value, 0))


def entry_hash(entry: dict) -> str:
    """sha256 of the canonical JSON of ``entry`` without its ``hash`` key."""
    return sha256_hex(canonical({k: v for k, v in entry.items() if k != "hash"}).encode("utf-8"))


def check_entry(raw: bytes, *, expect_seq: int, expect_prev: str) -> tuple[dict | None, str]:
    """Parse one complete line and check it against the chain. Returns ``(entry, "")`` or ``(None, reason)``."""
    try:
        entry = loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, "line is not valid JSON"
    return _checked(entry, expect_seq, expect_prev)


def _checked(entry, expect_seq: int, expect_prev: str) -> tuple[dict | None, str]:
    if not isinstance(entry, dict):
        return None, "line is not a JSON object"
    if set(entry) != ENTRY_KEYS:
        missing = sorted(ENTRY_KEYS - set(entry))
        extra = sorted(set(entry) - ENTRY_KEYS)
        return None, f"wrong keys (missing {missing}, unexpected {extra})"
    if not isinstance(entry["seq"], int) or isinstance(entry["seq"], bool) or entry["seq"] != expect_seq:
        return None, f"seq is {entry['seq']!r}, expected {expect_seq} (a line removed, inserted or reordered)"
    if entry["prev"] != expect_prev:
        return None, "prev does not match the hash of the entry before it"
    try:
        computed = entry_hash(entry)
    except (ValueError, TypeError):
        return None, "entry holds a value that is not plain JSON"
    if entry["hash"] != computed:
        return None, "hash does not match the entry's content (the line was edited or forged)"
    return entry, ""


def check_alone(raw: bytes) -> dict | None:
    """The entry on one line when it is valid on its own (its hash matches its content), else None. The line is
    parsed once (a run's first entry holds the whole plan)."""
    try:
        probe = loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    seq, prev = _head(probe)
    if seq is None or prev is None:
        return None
    entry, _ = _checked(probe, seq, prev)
    return entry


def line_head(raw: bytes) -> tuple[int | None, str | None]:
    """``(seq, prev)`` of a line, read without checking it, or ``(None, None)``."""
    try:
        probe = loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, None
    return _head(probe)


def _head(probe) -> tuple[int | None, str | None]:
    if not isinstance(probe, dict):
        return None, None
    seq, prev = probe.get("seq"), probe.get("prev")
    return (seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
            prev if isinstance(prev, str) else None)


def tail(fh) -> tuple[bytes | None, int, bytes | None]:
    """``(last complete line or None, offset where a torn tail starts, torn bytes or None)`` of an open binary
    file. Reads backwards from the end in small chunks: O(length of the last two lines)."""
    end = fh.seek(0, os.SEEK_END)
    pos, step, newlines, chunks = end, _CHUNK, 0, []
    # two newlines in hand: the one ending the last complete line and the one before it. Each chunk is twice the
    # one before and only its own newlines are counted: linear in the last line's length (a run's first entry
    # holds the whole plan, megabytes for a long one)
    while pos > 0 and newlines < 2:
        step = min(step, pos)
        pos -= step
        fh.seek(pos)
        chunk = fh.read(step)
        chunks.append(chunk)
        newlines += chunk.count(b"\n")
        step *= 2
    buf = b"".join(reversed(chunks))
    if not buf:
        return None, end, None
    torn = None
    torn_at = end
    if not buf.endswith(b"\n"):
        nl = buf.rfind(b"\n")
        torn = buf[nl + 1:]
        torn_at = end - len(torn)
        buf = buf[:nl + 1]
    if not buf:
        return None, torn_at, torn
    body = buf[:-1]
    return body[body.rfind(b"\n") + 1:], torn_at, torn


def open_regular(path: str):
    """``path`` open for reading (binary) when it is a regular file; else ``OSError`` (``FileNotFoundError`` when
    it is missing). Opened without waiting: the run folder is writable to the model's commands, and the open of a
    named pipe put there would not return until a writer came (a hook held past its time limit, after which
    Claude Code runs the call it was asked about; a clavain-cli command that never ends)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if os.fstat(fd).st_mode & 0o170000 != 0o100000:
            raise OSError(f"{path} is not a regular file")
        return open(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def last_line(path: str) -> bytes | None:
    """The last complete line of the file at ``path`` (a torn tail skipped), or None when empty or missing."""
    try:
        fh = open_regular(path)
    except FileNotFoundError:
        return None
    with fh:
        return tail(fh)[0]


def last_lines(path: str, count: int) -> list[bytes]:
    """The last ``count`` complete lines of the file at ``path`` (fewer when it has fewer; a torn tail
    skipped), oldest first. Reads backwards from the end: O(length of those lines)."""
    try:
        fh = open_regular(path)
    except FileNotFoundError:
        return []
    with fh:
        end = fh.seek(0, os.SEEK_END)
        buf, pos = b"", end
        while pos > 0 and buf.count(b"\n") < count + 1:
            step = min(max(_CHUNK, len(buf)), pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
    lines = buf.split(b"\n")
    lines.pop()  # b"" after the last newline, or a torn tail
    if pos > 0:
        lines = lines[1:]  # the first piece may be the end of a longer line
    return lines[-count:] if count else []
