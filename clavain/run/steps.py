"""The model's moves in a run: start a task, verify it, record it done or failed, close the batch.

Each function opens the run with ``clavain.run.engine.session`` and refuses (``clavain.run.rules``) before it
changes anything; what it changes is one journal event.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from clavain.core.digest import sha256_hex
from clavain.core.errors import BadInput, Refused
from clavain.core.files import atomic_write, crash_point
from clavain.run.declared import touches, untouched
from clavain.run.ticks import offsets
from clavain.run.engine import Outcome, Session, session
from clavain.run.rules import (CLI, check_checkpoint, check_task_done, check_task_fail, check_task_start,
                               check_verify, find_task, refuse)

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Mapping, Optional

DEFAULT_VERIFY_TIMEOUT = 300.0
MAX_OUTPUT_BYTES = 5 * 2**20   # a task's output is a summary; larger files are named in it, not stored


def output_name(task_id: str) -> str:
    return f"task-{re.sub(r'[^A-Za-z0-9._-]', '_', task_id)}.md"


def task_start(project: Path, run_id: Optional[str], task_id: str, env: Mapping[str, str]) -> Outcome:
    with session(project, run_id, env) as s:
        task = find_task(s.state, task_id)
        if check_task_start(s.state, task):
            return Outcome(s.state, f"task {task.id} is already started")
        s.record("task_started", {"task": task.id, "head": s.head(), "snapshot": s.snapshot()})
        what = f"; then {CLI} verify {task.id}" if task.verify_count else ""
        return Outcome(s.state, f"task {task.id} started: {task.title}\nwhen it is done, write its output to a "
                                f"file{what}; then {CLI} task-done {task.id} --output FILE",
                       {"task": task.id})


def task_done(project: Path, run_id: Optional[str], task_id: str, output: str, env: Mapping[str, str],
              stdin_text: Optional[str] = None, cwd: Optional[Path] = None,
              unchanged: Optional[str] = None) -> Outcome:
    """Record the task done with its output. Its changes are measured from its own start; a declared file it left
    untouched refuses, unless ``unchanged`` says why (shown to the user). With ``run.commit: task`` the task's
    changes are committed; with ``run.tick_plan`` its checkboxes in the plan are ticked."""
    raw = read_output(output, stdin_text, cwd or project, task_id)  # before the lock: a slow read holds nothing
    out_path = None if output == "-" else (Path(output) if Path(output).is_absolute() else (cwd or project) / output)
    with session(project, run_id, env) as s:
        task = find_task(s.state, task_id)
        digest = sha256_hex(raw)
        if task.status == "done" and task.output_sha256 == digest:
            _tick(s, task)   # a tick a kill kept from being written
            return Outcome(s.state, f"task {task.id} is already recorded as done with this output")
        check_task_done(s.state, task)
        if not raw.strip():
            raise refuse(s.state, f"the output for task {task.id} is empty; write what the task produced "
                                  f"(files changed, decisions, results) to a file first")
        done = s.snapshot()
        notes: list[str] = []
        repo = _repo(s) if task.snapshot_start and done else None
        changed = _task_changes(s, repo, task, done, out_path, notes) if repo else None
        left = untouched(task.declared, changed, repo.prefix) if changed is not None and task.declared else []
        reason = " ".join((unchanged or "").split())
        if left and not reason:
            raise refuse(s.state, f"task {task.id} declares {_files(left)} that it did not change (measured from "
                                  f"task-start to now): do what the task asks first. If the file(s) rightly stay as "
                                  f"they are, say why, and the user reads it in the batch report: {CLI} task-done "
                                  f"{task.id} --output {output} --unchanged \"<why>\"")
        if reason and not left:
            notes.append("--unchanged is not recorded: " + ("changes are not measured outside a git repository"
                                                            if changed is None else "every declared file changed"))
        commit = _commit(s, repo.top, task, done, changed, notes) if s.state.commit == "task" and changed else None
        name = output_name(task.id)
        atomic_write(s.folder.tasks_dir / name, raw)
        crash_point("output-stored")
        plan = s.read_plan() if s.state.tick_plan else None
        ticked = offsets(s.plan_text().split("\n"), plan.task(task.id)) if plan is not None else []
        s.record("task_done", {"task": task.id, "output": f"tasks/{name}", "output_sha256": digest,
                               "files_changed": changed, "snapshot": done,
                               **({"unchanged": {"files": left, "reason": reason}} if left else {}),
                               **({"commit": commit} if commit else {}), **({"ticked": ticked} if ticked else {})})
        crash_point("plan-tick")
        _tick(s, s.state.task(task.id), plan)
        rel = s.folder.rel(s.folder.tasks_dir / name)
        lines = [f"task {task.id} done; output stored as {rel}", _changes_line(changed, done)]
        if commit:
            lines.append(f"committed as {commit[:12]} (task {task.id}: {' '.join(task.title.split())})")
        if left:
            lines.append(f"left unchanged, with the reason shown to the user: {_files(left)}")
        return Outcome(s.state, "\n".join(lines + [f"note: {n}" for n in notes]),
                       {"task": task.id, "output": rel, "output_sha256": digest, "files_changed": changed,
                        "unchanged": left, "commit": commit, "notes": notes})


def _files(paths: list[str]) -> str:
    return ("file " if len(paths) == 1 else "files ") + ", ".join(f"`{p}`" for p in paths)


def _changes_line(changed: Optional[list[str]], done: Optional[str]) -> str:
    if changed is None:
        return "changes not measured: " + ("the project is not in a git repository" if done is None else
                                           "the task's start has no snapshot (started by an earlier version)")
    if not changed:
        return "no file changed since the task started"
    shown = ", ".join(changed[:10]) + (f" and {len(changed) - 10} more" if len(changed) > 10 else "")
    return f"{len(changed)} file(s) changed since the task started: {shown}"


def _repo(s: Session):
    from clavain.run.snapshot import Placement

    top = s.top()
    return Placement(s.project, top) if top else None


def _task_changes(s: Session, repo, task, done: str, out_path: Optional[Path], notes: list[str]) -> list[str]:
    """The task's changes from its start to ``done``, without the model's output file when it was written into
    the project (it is stored in the run folder; it is not the task's work), unless the task declares it."""
    from clavain.run import snapshot

    changed = snapshot.changed(s.project, task.snapshot_start, done, plan=repo.rel(s.plan_path())) or []
    rel = repo.rel(out_path) if out_path is not None else None
    if rel not in changed or any(touches(d, rel, repo.prefix) for d in task.declared):
        return changed
    notes.append(f"the output file {rel} is not counted as a change of the task (it is stored in the run folder)")
    return [p for p in changed if p != rel]


def _commit(s: Session, top: Path, task, done: Optional[str], changed: list[str], notes: list[str]) -> Optional[str]:
    from clavain.run import commits

    made = commits.commit_task(s.project, top, run_id=s.state.run_id, task_id=task.id, title=task.title,
                               attempt=task.attempts, before=task.snapshot_start, after=done, paths=changed)
    crash_point("task-commit")
    if made.sha is None:
        notes.append("nothing to commit: HEAD already holds the task's changes")
    elif made.found:
        notes.append(f"the task's commit {made.sha[:12]} was already made (an earlier try stopped before "
                     f"recording it); recorded now")
    if made.whole:
        notes.append(f"committed whole, since the task's changes do not apply to HEAD alone (uncommitted changes "
                     f"of your own in the same lines go in too): {', '.join(made.whole)}")
    return made.sha


def _tick(s: Session, task, plan=None) -> None:
    """Tick the task's checkboxes in the plan as the journal recorded them (nothing when already ticked)."""
    from clavain.run.ticks import tick

    if not task.ticked or not s.state.tick_plan:
        return
    plan = plan or s.read_plan()
    if tick(s.plan_path(), plan.task(task.id).line, task.ticked, plan.format == "speckit"):
        s._plan_text = None   # the plan on disk changed (by ticks only: the pin leaves them out)


def read_output(output: str, stdin_text: Optional[str], cwd: Path, task_id: str) -> bytes:
    """The task's output: ``stdin_text`` for ``-``, else a regular file of at most ``MAX_OUTPUT_BYTES``.

    The file is opened without blocking and checked on its open descriptor, so a fifo or a device
    (``/dev/zero``) is refused at once instead of hanging or filling the run folder."""
    retry = f"{CLI} task-done {task_id} --output FILE"
    if output == "-":
        raw = (stdin_text or "").encode("utf-8")
        _check_size(len(raw), "the output on stdin", retry)
        return raw
    path = Path(output) if Path(output).is_absolute() else cwd / output
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise BadInput(f"output file not found: {path}",
                       next_command=f"write the task's output there, then {CLI} task-done {task_id} --output {output}") \
            from None
    except OSError as exc:
        raise BadInput(f"output file cannot be read: {path} ({exc.strerror})", next_command=retry) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(f"output is not a regular file: {path}; write the task's output to a file",
                           next_command=retry)
        _check_size(info.st_size, f"output file {path}", retry)
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read(MAX_OUTPUT_BYTES + 1)
    finally:
        os.close(fd)
    _check_size(len(raw), f"output file {path}", retry)  # it may have grown since the check above
    return raw


def _check_size(size: int, what: str, retry: str) -> None:
    if size > MAX_OUTPUT_BYTES:
        raise BadInput(f"{what} is {size:,} bytes, over the {MAX_OUTPUT_BYTES // 2**20} MiB limit; write a short "
                       f"summary of what the task produced (files changed, decisions, results) instead and "
                       f"name the large files in it", next_command=retry)


def task_fail(project: Path, run_id: Optional[str], task_id: str, reason: str, env: Mapping[str, str]) -> Outcome:
    with session(project, run_id, env) as s:
        task = find_task(s.state, task_id)
        check_task_fail(s.state, task)
        if not reason.strip():
            raise BadInput("--reason must say what failed", next_command=f"{CLI} task-fail {task.id} --reason TEXT")
        s.halt("task_failed", reason.strip(), task=task.id)
        return _halted_outcome(s)


def _halted_outcome(s: Session) -> Outcome:
    halt = s.state.halt
    report = s.folder.rel(s.folder.dir / halt.report)
    return Outcome(s.state, f"the run is halted: {halt.reason}\nhalt report: {report}\nshow the user the report "
                            f"and wait for their decision (retry, skip or abort)",
                   {"halt": halt.model_dump(mode="json"), "report": report})


def verify(project: Path, run_id: Optional[str], task_id: str, env: Mapping[str, str],
           timeout: float = DEFAULT_VERIFY_TIMEOUT) -> Outcome:
    from clavain.run.verify import run_verify

    with session(project, run_id, env) as s:
        task = find_task(s.state, task_id)
        check_verify(s.state, task)
        # pinned with the plan when the run started (a run recorded before they were read the plan again)
        entries = task.verify_entries or s.read_plan().task(task.id).verify
        if not entries:
            return Outcome(s.state, f"task {task.id} has no <verify> entries in the plan: nothing was run",
                           {"task": task.id, "results": []})
        results = run_verify(entries, cwd=project, log_dir=s.folder.tasks_dir, task_id=task.id,
                             timeout=timeout, env=dict(env))
        records = [_record(s, r) for r in results]
        failed = next((r for r in results if not r.passed), None)
        if failed is None:
            s.record("verified", {"task": task.id, "results": records})
            lines = [f"task {task.id}: {len(records)} verify entr{'y' if len(records) == 1 else 'ies'} passed"]
            lines += [f"  ok  {r['run']}  (exit {r['exit_code']}, {r['duration']:.1f}s)"
                      + (f"; {r['reason']}: read {r['log']} and judge it, and say so in the task's output"
                         if r["reason"] else "") for r in records]
            return Outcome(s.state, "\n".join(lines), {"task": task.id, "results": records})
        s.halt("verify_failed", f"verify of task {task.id} failed: {failed.reason}", task=task.id,
               command=failed.entry.run, exit_code=failed.exit_code, output_tail=failed.output_tail,
               log=records[-1]["log"], results=records)
        out = _halted_outcome(s)
        raise Refused(out.text, next_command=out.next)


def _record(s: Session, result) -> dict:
    log = getattr(result, "log_path", None)
    return {"run": result.entry.run, "exit_code": result.exit_code, "passed": bool(result.passed),
            "timed_out": bool(result.timed_out), "log": s.folder.rel(Path(log)) if log else None,
            "duration": round(float(result.duration or 0.0), 3),
            "reason": result.reason or (f"to judge: the plan expects {result.judge!r}" if result.judge else "")}


def checkpoint(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    from clavain.run.report import checkpoint_report, new_batch_report, write_batch_report

    with session(project, run_id, env) as s:
        already = check_checkpoint(s.state)
        if already is None:
            s.record("checkpoint", {"batch": s.state.batch, **s.waiting_marks(),
                                    "report": new_batch_report(s.folder, s.state.batch)})
            write_batch_report(s.folder, s.state)
        rel = s.folder.rel(s.folder.dir / checkpoint_report(s.state))
        return Outcome(s.state, f"{already or f'batch {s.state.batch} closed'}; report: {rel}\nshow the user the "
                                f"report and wait for their reply: only the user can approve the checkpoint",
                       {"report": rel})
