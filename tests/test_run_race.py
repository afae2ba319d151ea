"""Real processes racing on one run, round after round: two ``task-done``s of one task, ``task-done`` against
``checkpoint``, ``task-done`` against ``task-fail``, ``approve`` against ``task-start``, and two processes
appending to one journal. (Two starts of one plan: ``test_run_refusals.test_concurrent_starts_of_one_plan_make_one_run``.)
Each race ends as some order of the two commands would have left it: one wins, the other waits and then goes on
or is refused; no entry is lost or doubled; the chain verifies, and ``run.json``, the active summary and the
hooks' witness record are in step with the journal.

Half the rounds release both commands at once; the other half stop the first command (SIGSTOP) the moment its
journal line is written, before ``run.json`` follows, start the second then, and check that it waits for the
run instead of reading it half written.

The locks these tests stand on: the run's lock (``RunFolder.lock``) and the journal's ``flock``
(``Journal._locked``). With the run's lock taken out, the two ``task-done``s and ``task-done`` against
``task-fail`` fail every time (both commands pass their checks on the state before either); ``task-done``
against ``checkpoint`` and ``approve`` against ``task-start`` fail in some runs only, since there the rules
refuse the second command on that state and a command reads the journal, not ``run.json``. With the journal's
``flock`` taken out, the two appenders fail.

The workers are ``python -c`` processes that import the CLI once, then run one ``clavain-cli`` command line
per round (``clavain.cli.main``, as ``bin/clavain-cli`` does), each round started by one line on their
stdin, so both are past their start-up and begin within microseconds of each other.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from test_run_support import OPT_IN, SKIP_GATE, assert_in_step, events, say

ROUNDS = 4      # odd rounds: both at once; even rounds: the second while the first is paused half done
WAIT = 0.3      # seconds the second command is given to finish while the first is paused (it must not)

WORKER = r"""
import io, json, os, sys
sys.path.insert(0, sys.argv[1])
import functools
import clavain.cli
from clavain.cli import main
from clavain.commands import Context
import clavain.run.decisions, clavain.run.steps, clavain.run.report, clavain.run.evidence, clavain.core.lockfile  # warm
clavain.cli.build_parser = functools.lru_cache(clavain.cli.build_parser)  # a warm CLI: argparse built once
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(cwd=job["cwd"], env=job["env"], stdin=io.StringIO(job.get("stdin", "")), stdout=out, stderr=err)
    code = main(job["argv"], ctx=ctx)
    print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue()}), flush=True)
"""

APPENDER = r"""
import sys
sys.path.insert(0, sys.argv[1])
from clavain.run.journal import Journal
journal = Journal(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
for i in range(int(sys.argv[4])):
    journal.append("step", {"worker": sys.argv[3], "i": i})
print("done", flush=True)
"""


class Worker:
    def __init__(self, code: str, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(ROOT), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline() == "ready\n"

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def receive(self) -> str:
        line = self.proc.stdout.readline()
        assert line, "the worker died"
        return line

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def pair():
    """Two warm workers, shared by the races of this module (each job names its project and environment)."""
    started = [Worker(WORKER) for _ in range(2)]
    yield started
    for w in started:
        w.close()


class Run:
    """A project with a plan of ``tasks`` tasks (no verify), the hooks' state home beside it."""

    def __init__(self, root: Path, tasks: int, batch_size: int) -> None:
        self.project = root / "project"
        self.project.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=self.project, check=True)  # snapshots: real work
        plan = ["# Race Plan\n\n**Goal:** two at once.\n"]
        plan += [f"\n### Task {i}: Step {i}\n\n- [ ] **Step 1: do {i}**\n" for i in range(1, tasks + 1)]
        (self.project / "plan.md").write_text("".join(plan))
        (self.project / ".clavain").mkdir()
        (self.project / ".clavain" / "config.yaml").write_text(OPT_IN)
        for name in ("a", "b"):
            (self.project / f"{name}.md").write_text(f"output {name}\n")
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}, **SKIP_GATE,
                    "XDG_STATE_HOME": str(root / "state")}
        self.batch_size = batch_size
        self.paused_between = 0   # paused rounds that stopped the first command between its line and run.json

    def start(self) -> None:
        self.ok("start", "plan.md", "--batch-size", str(self.batch_size))

    def ok(self, *argv: str) -> str:
        r = run_cli(["run", *argv], cwd=self.project, env=self.env)
        assert r.code == 0, f"{argv}: {r.err}"
        return r.out

    def job(self, *argv: str) -> str:
        return json.dumps({"argv": ["run", *argv], "cwd": str(self.project), "env": self.env})

    def race(self, pair: list[Worker], first: tuple[str, ...], second: tuple[str, ...], *,
             paused: bool = False) -> tuple[dict, dict]:
        """Both commands at once; or (``paused``) the first is stopped (SIGSTOP) the moment its journal line is
        written, before ``run.json`` follows, and the second is started then: it must wait for the run until the
        first goes on (SIGCONT). Their results, in the order given."""
        pair[0].send(self.job(*first))
        if not paused:
            pair[1].send(self.job(*second))
            return tuple(json.loads(w.receive()) for w in pair)
        journal = self.folder() / "journal.jsonl"
        size = journal.stat().st_size
        deadline = time.monotonic() + 30
        while journal.stat().st_size == size:
            assert time.monotonic() < deadline, "the first command wrote no journal line"
        os.kill(pair[0].proc.pid, signal.SIGSTOP)
        try:
            between = self._between_line_and_state()
            self.paused_between += between
            # half done: its line written and run.json not yet, or its lock still held (stopped after the lock was
            # released, the first is done and the second may go on)
            held = bool(between) or self._lock_held()
            pair[1].send(self.job(*second))
            ready, _, _ = select.select([pair[1].proc.stdout], [], [], WAIT)
            assert not (held and ready), f"{' '.join(second)} went on while {' '.join(first)} was half done: " \
                                         f"{pair[1].receive().strip()}"
        finally:
            os.kill(pair[0].proc.pid, signal.SIGCONT)
        return tuple(json.loads(w.receive()) for w in pair)

    def _lock_held(self) -> bool:
        """Whether another process holds the run's lock (``RunFolder.lock``: ``flock`` on the run folder's lock)."""
        import fcntl

        fd = os.open(self.folder() / "lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)   # closing the descriptor releases a lock this test took
        return False

    def _between_line_and_state(self) -> int:
        """1 when the stopped command had written its journal line and not yet run.json (the moment that matters)."""
        from clavain.run.journal import Journal

        folder = self.folder()
        state = json.loads((folder / "run.json").read_text())
        return int(state["journal_seq"] == Journal(folder / "journal.jsonl").head()[0] - 1)

    def folder(self) -> Path:
        return next((self.project / ".clavain" / "execute-plan" / "runs").iterdir())

    def events(self) -> list[tuple[str, str]]:
        return events(self.folder())

    def consistent(self) -> None:
        """As after commands that ran one after the other (``test_run_support.assert_in_step``)."""
        assert_in_step(self.project, self.folder(), self.env)


# ---------------------------------------------------------------------------------------------------- the races

def test_two_task_dones_of_one_task_record_it_once(tmp_path, pair):
    """Different outputs for one task at once: one is recorded and stored, the other refused as already done."""
    run = Run(tmp_path, tasks=ROUNDS, batch_size=ROUNDS)
    run.start()
    for n in map(str, range(1, ROUNDS + 1)):
        run.ok("task-start", n)
        a, b = run.race(pair, ("task-done", n, "--output", "a.md"), ("task-done", n, "--output", "b.md"),
                        paused=int(n) % 2 == 0)
        assert sorted([a["code"], b["code"]]) == [0, 1], (a, b)
        winner, loser = (a, b) if a["code"] == 0 else (b, a)
        assert f"task {n} is already done" in loser["err"]
        stored = (run.folder() / "tasks" / f"task-{n}.md").read_text()
        assert stored == ("output a\n" if winner is a else "output b\n"), "the stored output is not the winner's"
        assert run.events().count(("task_done", n)) == 1
        run.consistent()


def test_task_done_against_task_fail_of_one_task_ends_as_one_order_of_the_two(tmp_path, pair):
    """One started task recorded done and failed at once: both pass their checks on the state before either, so
    only the run's lock keeps the second from writing a state built on what it read before the first (without
    it both succeed and the journal no longer replays to what it records). Either the task is done and the
    failure refused, or the run halts on the failure and the done is refused."""
    run = Run(tmp_path, tasks=ROUNDS, batch_size=ROUNDS)
    run.start()
    orders = set()
    for n in map(str, range(1, ROUNDS + 1)):
        run.ok("task-start", n)
        done, fail = run.race(pair, ("task-done", n, "--output", "a.md"), ("task-fail", n, "--reason", "broke"),
                              paused=int(n) % 2 == 0)
        assert sorted([done["code"], fail["code"]]) == [0, 1], (done, fail)
        run.consistent()
        if done["code"] == 0:
            orders.add("task-done first")
            assert run.events()[-1] == ("task_done", n)
        else:
            orders.add("task-fail first")
            assert "halted" in fail["out"] and run.events().count(("task_done", n)) == 0, (done, fail)
            say(run.project, f"skip task {n}")
            run.ok("skip", n, "--reason", "the user skipped it")
    print(f"orders seen: {sorted(orders)}; paused between the journal line and run.json: {run.paused_between}")


def test_task_done_against_checkpoint_ends_as_one_order_of_the_two(tmp_path, pair):
    """The batch's last task is recorded done while the batch is closed: either the checkpoint came first and
    was refused (a task was open), or it came second and closed the batch with the task done in it."""
    run = Run(tmp_path, tasks=2 * ROUNDS, batch_size=2)
    run.start()
    orders = set()
    for k in range(1, ROUNDS + 1):
        first, last = str(2 * k - 1), str(2 * k)
        run.ok("task-start", first)
        run.ok("task-done", first, "--output", "a.md")
        run.ok("task-start", last)
        done, checkpoint = run.race(pair, ("task-done", last, "--output", "b.md"), ("checkpoint",),
                                    paused=k % 2 == 0)
        assert done["code"] == 0, done
        before = run.events()
        if checkpoint["code"] == 0:
            orders.add("task-done first")
            assert before[-2:] == [("task_done", last), ("checkpoint", str(k))]
        else:
            orders.add("checkpoint first")
            assert checkpoint["code"] == 1 and f"unfinished task(s): {last}" in checkpoint["err"], checkpoint
            assert before[-1] == ("task_done", last)
            run.ok("checkpoint")
        assert [e for e in run.events() if e[0] in ("task_done", "checkpoint")][-3:] == \
            [("task_done", first), ("task_done", last), ("checkpoint", str(k))]
        assert (run.folder() / "batches" / f"batch-{k}.md").exists()
        run.consistent()
        say(run.project, f"approve batch {k}")
        run.ok("approve")
    print(f"orders seen: {sorted(orders)}; paused between the journal line and run.json: {run.paused_between}")


def test_approve_against_task_start_ends_as_one_order_of_the_two(tmp_path, pair):
    """The user's approval and the next batch's first task at once: the task starts only after the approval,
    and the approval is recorded once."""
    run = Run(tmp_path, tasks=ROUNDS + 1, batch_size=1)
    run.start()
    run.ok("task-start", "1")
    run.ok("task-done", "1", "--output", "a.md")
    orders = set()
    for k in range(1, ROUNDS + 1):
        nxt = str(k + 1)
        run.ok("checkpoint")
        say(run.project, f"approve batch {k}")
        approve, start = run.race(pair, ("approve",), ("task-start", nxt), paused=k % 2 == 0)
        assert approve["code"] == 0, approve
        if start["code"] == 0:
            orders.add("approve first")
        else:
            orders.add("task-start first")
            assert start["code"] == 1 and "waiting for the user's approval" in start["err"], start
            run.ok("task-start", nxt)
        events = run.events()
        approvals = [i for i, e in enumerate(events) if e[0] == "approved"]
        assert len(approvals) == k and events.count(("task_started", nxt)) == 1, events
        assert approvals[-1] < events.index(("task_started", nxt))
        run.consistent()
        run.ok("task-done", nxt, "--output", "a.md")
    print(f"orders seen: {sorted(orders)}; paused between the journal line and run.json: {run.paused_between}")


def test_two_processes_appending_to_one_journal_chain_every_entry(tmp_path):
    """Without the run's lock, straight onto the journal: every entry of both is there once, in one chain."""
    from clavain.run.journal import Journal

    path = tmp_path / "journal.jsonl"
    each = 150
    pair = [Worker(APPENDER, str(path), name, str(each)) for name in ("a", "b")]
    for w in pair:
        w.send("go")
    for w in pair:
        assert w.receive() == "done\n"
        w.close()
    entries = Journal(path).verify()
    assert [e["seq"] for e in entries] == list(range(1, 2 * each + 1))
    for name in ("a", "b"):
        assert [e["data"]["i"] for e in entries if e["data"]["worker"] == name] == list(range(each))
