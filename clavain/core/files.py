"""Durable file writes, and the crash points that tests kill the process at. Standard library only, and ``os``
rather than ``pathlib`` (hooks and the gate's fast path import this; paths may be text or ``Path``)."""

from __future__ import annotations

import os

CRASH_ENV = "CLAVAIN_CRASH_AT"
CRASHED = 137   # the exit status a shell shows for a process killed by SIGKILL (128 + 9)


def crash_point(name: str, fd: int = -1, data: bytes = b"") -> None:
    """Tests only: when ``CLAVAIN_CRASH_AT`` names this point, the process dies here at once, as SIGKILL would
    (``os._exit``: no cleanup, no ``finally``, no flush); with ``fd``, after writing the first half of ``data``
    there (a torn write). Otherwise it does nothing: one lookup in the environment.

    The points are named where they are placed (``crash_point("journal-appended")``, or ``point=`` of
    ``atomic_write`` and ``append_line``); the kill test finds them in the source and kills at each one."""
    if name and os.environ.get(CRASH_ENV) == name:
        if fd >= 0:
            os.write(fd, data[: len(data) // 2])
        os._exit(CRASHED)


def _fsync_dir(directory) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write(path, data: str | bytes, *, point: str = "", sync_folder: bool = True) -> None:
    """Replace ``path`` atomically: write a temporary file beside it, fsync, rename, fsync the folder.

    An existing file keeps its permission bits; a new one gets 0666 less the umask, as ``open`` would.
    ``point``: the crash point between the temporary file's fsync and the rename (``crash_point``).
    ``sync_folder=False``: the caller fsyncs the folder itself once, after several files (``sync_folder``)."""
    path = os.fspath(path)
    folder, name = os.path.split(path)
    os.makedirs(folder or ".", exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        crash_point(point)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if sync_folder:
        _fsync_dir(folder or ".")


def sync_folder(folder) -> None:
    """fsync a folder: the names written into it last a crash."""
    _fsync_dir(folder)


def append_line(path, line: str, *, point: str = "") -> None:
    """Append one line (a newline is added) and fsync before returning.

    If the file ends in a torn line (a writer died mid-line), the new line starts on a line of its own, so
    the torn fragment never swallows it. ``point``: the crash point that tears this line (``crash_point``)."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        lead = "\n" if size and os.pread(fd, 1, size - 1) != b"\n" else ""
        raw = (lead + line.rstrip("\n") + "\n").encode("utf-8")
        crash_point(point, fd, raw)
        os.write(fd, raw)
        os.fsync(fd)
    finally:
        os.close(fd)
