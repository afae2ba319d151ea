"""Run a task's ``<verify>`` entries as real shell commands and judge each against its expectation.

Each entry runs as ``bash -c <run>`` in the project dir, in its own process group, with stdin closed and
stdout and stderr captured together into ``<log_dir>/verify-<task_id>-<n>.log`` (a ``$ command`` header,
the output, and an ``[exit ...]`` footer). On timeout the whole group gets SIGTERM, then SIGKILL after a
short grace; when a command ends, anything it left running in its group is killed too. Entries run in order
and the first failure stops the rest. A failing or missing command is a result, never an exception; only a
``bash`` that cannot be started raises ``EnvironmentProblem``. An expectation the plan words in prose
(``expect: PASS``) is no check: the entry passes on what can be checked, and its ``judge`` text tells the
user and the model to judge the output in the log.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from clavain.core.errors import EnvironmentProblem

TYPE_CHECKING = False   # not ``typing``'s (nor the plan's pydantic model): ``run verify`` runs without them
if TYPE_CHECKING:
    from typing import Iterable, Mapping, Optional

    from clavain.plan.model import VerifyEntry   # or the run's ``PinnedVerify``: the same fields

TAIL_LINES = 20
TAIL_CHARS = 4000
KILL_GRACE = 2.0


class VerifyResult:
    """One entry run: ``exit_code`` (None when it timed out; negative: killed by that signal), ``output_tail``
    (the last lines of stdout+stderr), ``duration`` in seconds, ``reason`` ("" when passed; else why it failed)
    and ``judge`` (the plan's expectation in words: the user and the model judge the output)."""

    def __init__(self, entry: "VerifyEntry", exit_code: "Optional[int]", passed: bool, timed_out: bool,
                 output_tail: str, log_path: Path, duration: float, reason: str, judge: str = "") -> None:
        self.entry, self.exit_code, self.passed, self.timed_out = entry, exit_code, passed, timed_out
        self.output_tail, self.log_path, self.duration, self.reason, self.judge = \
            output_tail, log_path, duration, reason, judge

    def to_dict(self) -> dict:
        return {"run": self.entry.run, "line": self.entry.line, "expect_exit": self.entry.expect_exit,
                "expect_contains": self.entry.expect_contains, "exit_code": self.exit_code,
                "passed": self.passed, "timed_out": self.timed_out, "output_tail": self.output_tail,
                "log_path": str(self.log_path), "duration": round(self.duration, 3), "reason": self.reason,
                "judge": self.judge}


def tail(text: str, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    """The last ``lines`` lines of ``text`` (at most ``chars`` characters)."""
    kept = "\n".join(text.rstrip("\n").splitlines()[-lines:])
    return kept[-chars:]


def log_name(task_id: str, n: int) -> str:
    return f"verify-{re.sub(r'[^A-Za-z0-9._-]', '_', task_id)}-{n}.log"


def _find_bash(env: "Mapping[str, str]") -> str:
    """``shutil.which("bash")`` on the environment's PATH (without importing shutil)."""
    bash = next((candidate for folder in env.get("PATH", "").split(os.pathsep)
                 for candidate in (os.path.join(folder or ".", "bash"),)
                 if os.path.isfile(candidate) and os.access(candidate, os.X_OK)), None)
    if bash is None:
        raise EnvironmentProblem(f"bash not found on PATH ({env.get('PATH', '')!r}); verify entries run with bash -c",
                                 next_command="install bash or fix PATH, then: clavain-cli run verify <task>")
    return bash


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _judge(entry: VerifyEntry, code: Optional[int], timed_out: bool, output: str, timeout: float) -> str:
    if timed_out:
        return f"timed out after {timeout:g}s (process group killed)"
    if code is not None and code < 0:
        signame = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        if entry.expect_exit is not None:
            return f"killed by {signame}, expected exit code {entry.expect_exit}"
    elif entry.expect_exit is not None and code != entry.expect_exit:
        hint = " (command not found)" if code == 127 else ""
        return f"exit code {code}{hint}, expected {entry.expect_exit}"
    if entry.expect_contains is not None and entry.expect_contains not in output:
        return f"output does not contain {entry.expect_contains!r}"
    return ""


def _run_one(bash: str, entry: VerifyEntry, *, cwd: Path, log_path: Path, timeout: float,
             env: Mapping[str, str]) -> VerifyResult:
    header = f"$ {entry.run}\n".encode("utf-8")
    start = time.monotonic()
    timed_out = False
    with open(log_path, "wb") as log:
        log.write(header)
        log.flush()
        try:
            proc = subprocess.Popen([bash, "-c", entry.run], cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot start {bash} in {cwd}: {exc}",
                                     next_command="clavain-cli run verify <task> once bash can run") from exc
        try:
            code: Optional[int] = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=KILL_GRACE)
            except subprocess.TimeoutExpired:
                pass
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
        except BaseException:  # Ctrl-C (or any error) here: the command runs in a session of its own, so end it
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        _kill_group(proc.pid, signal.SIGKILL)  # leftovers of a command that ended (background jobs)
        duration = time.monotonic() - start
    output = log_path.read_bytes()[len(header):].decode("utf-8", errors="replace")
    reason = _judge(entry, code, timed_out, output, timeout)
    footer = f"[timed out after {timeout:g}s]" if timed_out else f"[exit {code} after {duration:.2f}s]"
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(("" if output.endswith("\n") or not output else "\n") + footer + "\n")
    return VerifyResult(entry=entry, exit_code=code, passed=not reason, timed_out=timed_out,
                        output_tail=tail(output), log_path=log_path, duration=duration, reason=reason,
                        judge=entry.expect_prose or "")


def run_verify(entries: Iterable[VerifyEntry], *, cwd: Path, log_dir: Path, task_id: str, timeout: float = 300.0,
               env: Optional[Mapping[str, str]] = None) -> list[VerifyResult]:
    """Run ``entries`` in order in ``cwd``; stop after the first failure. Returns one result per entry run."""
    env = dict(os.environ if env is None else env)
    cwd = Path(cwd)
    if not cwd.is_dir():
        raise EnvironmentProblem(f"verify folder {cwd} does not exist", path=cwd,
                                 next_command="clavain-cli run status")
    bash = _find_bash(env)
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for n, entry in enumerate(entries, start=1):
        result = _run_one(bash, entry, cwd=cwd, log_path=log_dir / log_name(task_id, n), timeout=timeout, env=env)
        results.append(result)
        if not result.passed:
            break
    return results
