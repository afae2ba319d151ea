"""One lock across processes: ``flock`` on a lock file, waited for up to a timeout. Standard library only.

It does what the ``filelock`` package's ``UnixFileLock`` does (the same ``flock`` on the same file, so the two
exclude each other), without its import, which loads asyncio, sqlite3 and logging: about seven bare
interpreter starts on every ``clavain-cli run`` command. POSIX only, like the plugin (Linux and macOS). The
lock file's descriptor is not inherited by the processes a command starts (git, ``<verify>`` commands), and
the kernel releases the lock when the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
import time

POLL_SECONDS = 0.05


class LockTimeout(Exception):
    """Another process held the lock for longer than the timeout."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__(f"{path}: still locked by another process after {timeout:g} s")
        self.path = path


class FileLock:
    """``with FileLock(path, timeout):`` holds an exclusive lock on ``path`` (created when missing) for the block;
    re-entering it in the same process nests. Raises ``LockTimeout`` after ``timeout`` seconds of waiting."""

    def __init__(self, path, timeout: float) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._fd: int | None = None
        self._depth = 0

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "FileLock":
        if self._fd is not None:
            self._depth += 1
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(self.path, self.timeout) from None
                    time.sleep(POLL_SECONDS)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._depth = fd, 1
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth == 0:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> "FileLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
