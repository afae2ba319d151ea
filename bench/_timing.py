"""What the benchmark scripts share: the interpreter they measure, timing a whole command, interleaved rounds,
and the table they print (medians, ratios to a bare start of the same interpreter, the machine's load).

The interpreter is, unless ``--python`` names one, the plugin's own environment built as a user's is built
(``hooks/clavain-env build``: a venv with requirements.lock installed, the plugin compiled to bytecode) in a
folder of the benchmarks' own (``$CLAVAIN_BENCH_DATA``, else ``~/.cache/clavain-bench``). A clone's ``.venv``
from ``pip install -e`` is not used: its editable-install hook imports pathlib and re at every start, which
doubles the bare start and flatters every ratio.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "bin" / "clavain-cli"
sys.path.insert(0, str(ROOT))
CAVEAT = ("Ratios are to a bare `python -I -c pass` of the same interpreter, taken interleaved in one run. A loaded "
          "machine slows the bare start less than the commands' disk and process work, and flatters or blurs the "
          "ratios: quote the figures of a quiet machine (load average near 0 before and after).")


def bench_python(given: str | None) -> str:
    """The interpreter to measure (see the module's docstring); builds the environment on first use."""
    if given:
        return given
    data = Path(os.environ.get("CLAVAIN_BENCH_DATA") or Path.home() / ".cache" / "clavain-bench")
    python = data / "venv" / "bin" / "python"
    ready = data / "venv" / "clavain-ready"
    lock_id = (ROOT / "requirements.lock").read_text().split("\n", 1)[0]
    if not (python.exists() and ready.exists() and ready.read_text().split("\n", 1)[0] == lock_id):
        print(f"building the plugin's environment in {data} (once) ...", file=sys.stderr)
        subprocess.run([str(ROOT / "hooks" / "clavain-env"), "build", str(data)], check=True)
    return str(python)


def compiled(python: str) -> None:
    """The plugin's modules and templates compiled for ``python``, as the environment's build leaves them (a
    command run with PYTHONDONTWRITEBYTECODE would otherwise compile every changed module on every start)."""
    from clavain.bootstrap.build import WARM

    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "clavain")], check=True)
    subprocess.run([python, "-c", WARM, str(ROOT)], check=True, stdout=subprocess.DEVNULL)


def bench_env(python: str, **extra: str) -> dict:
    """The environment the commands run in: the caller's, without CLAVAIN_* settings, with ``python``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(CLAVAIN_PYTHON=python, **extra)
    return env


def timed(argv: list, cwd: Path, env: dict, stdin: bytes | None = None, ok: tuple[int, ...] | None = (0,)) -> float:
    """Seconds the command took; stops the benchmark if it exits with a code outside ``ok`` (None: any)."""
    return measured(argv, cwd, env, stdin, ok)[0]


def measured(argv: list, cwd: Path, env: dict, stdin: bytes | None = None,
             ok: tuple[int, ...] | None = (0,)) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children) of one run of the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, input=stdin,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if ok is not None and proc.returncode not in ok:
        raise SystemExit(f"{' '.join(map(str, argv))} exited {proc.returncode}: {proc.stderr.decode()[-600:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class Case:
    """One command to time: ``argv`` in ``cwd``; ``prepare()`` (not timed) runs before every timed run."""

    def __init__(self, argv: list, cwd: Path, env: dict, *, stdin: bytes | None = None,
                 ok: tuple[int, ...] | None = (0,), prepare=None) -> None:
        self.argv, self.cwd, self.env, self.stdin, self.ok, self.prepare = argv, cwd, env, stdin, ok, prepare
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def run_once(self) -> None:
        if self.prepare is not None:
            self.prepare()
        wall, cpu = measured(self.argv, self.cwd, self.env, self.stdin, self.ok)
        self.wall.append(wall)
        self.cpu.append(cpu)


def interleave(cases: dict[str, Case], rounds: int) -> None:
    """Every case once unmeasured (bytecode, page cache), then ``rounds`` rounds of every case in turn, so that
    load on the machine falls on all of them alike."""
    for case in cases.values():
        case.run_once()
        case.wall.clear()
        case.cpu.clear()
    for _ in range(rounds):
        for case in cases.values():
            case.run_once()


def bare_case(python: str, cwd: Path, env: dict) -> Case:
    return Case([python, "-I", "-c", "pass"], cwd, env)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


class Table:
    """Rows of medians and ratios to the bare start, with a target and its verdict where one applies."""

    def __init__(self, title: str, python: str, rounds: int) -> None:
        self.title, self.python, self.rounds = title, python, rounds
        self.start_load = load()
        self.rows: list[tuple[str, float, float, float, float, str]] = []
        self.missed: list[str] = []

    def add(self, name: str, case: Case, bare: Case, target: float | None = None, note: str = "") -> float:
        wall, cpu = statistics.median(case.wall), statistics.median(case.cpu)
        ratio = wall / statistics.median(bare.wall)
        cpu_ratio = cpu / statistics.median(bare.cpu) if statistics.median(bare.cpu) else 0.0
        verdict = note
        if target is not None:
            good = ratio <= target
            verdict = f"<= {target:g}x {'ok' if good else 'MISSED'}" + (f"; {note}" if note else "")
            if not good:
                self.missed.append(name)
        self.rows.append((name, wall * 1000, ratio, cpu * 1000, cpu_ratio, verdict))
        return ratio

    def print(self) -> None:
        print(f"{self.title}\npython: {self.python}; {self.rounds} rounds, interleaved; medians")
        print(f"load average before: {self.start_load}; after: {load()}")
        print(CAVEAT)
        width = max(len(row[0]) for row in self.rows)
        print(f"{'command':<{width}}  {'wall ms':>8} {'x bare':>7}  {'cpu ms':>7} {'x bare':>7}  target")
        for name, wall, ratio, cpu, cpu_ratio, verdict in self.rows:
            print(f"{name:<{width}}  {wall:>8.1f} {ratio:>7.2f}  {cpu:>7.1f} {cpu_ratio:>7.2f}  {verdict}")
