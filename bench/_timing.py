"""The one timing helper the benchmark scripts share: wall time of a whole command, failing loudly."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def timed(argv: list, cwd: Path, env: dict, stdin: bytes | None = None, ok: tuple[int, ...] = (0,)) -> float:
    """Seconds the command took; stops the benchmark if it exits with a code outside ``ok``."""
    start = time.perf_counter()
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, input=stdin,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(map(str, argv))} exited {proc.returncode}: {proc.stderr.decode()[-400:]}")
    return elapsed
