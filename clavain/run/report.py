"""Briefs, reports and the progress line, rendered from ``clavain/templates/*.j2``.

Jinja2 with ``StrictUndefined`` (a missing value is a bug, not an empty string) and autoescape off (the
output is markdown). Reports are written into the run folder; the functions return their paths.

One Jinja2 environment per process, and each template compiled once per plugin folder: Jinja2's own bytecode
cache keeps the compiled templates in ``templates/__pycache__/``, beside the plugin's Python bytecode and as
trusted as it: the environment's build writes it (``warm_templates``), commands only read it, and the plugin's
fingerprint covers it (``clavain.run.plugin``). Compiling a template costs about as much as a bare interpreter
start.

A report, once written, is never rewritten: it is the record of the moment it was written for (a checkpoint,
a halt, the end of the run). A batch checkpointed again (after ``revise`` or ``rollback``) gets a report of
its own (``batch-2-2.md``); what changed since is printed by the commands (``run status``, ``run approve``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from clavain.core.files import atomic_write
from clavain.run.rules import CLI, FINISHED, next_command
from clavain.run.state import RunState
from clavain.run.folder import FINAL_REPORT, RunFolder

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Optional

BAR_WIDTH = 10
STATUS_ALL_TASKS = 40   # ``run status`` lists every task up to this many; beyond, see ``status_rows``
STATUS_WINDOW = 12
WINDOW_LEAD = 2         # finished tasks shown before a batch's first open one
STEP_CHARS = 160
STATE_WORDS = {"running": "running", "awaiting_approval": "awaiting your approval", "halted": "halted",
               "paused": "paused for your answer", "finished": "finished", "aborted": "aborted"}


TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


@lru_cache(maxsize=None)
def _env(write: bool = False):
    """The environment (``write``: the one ``warm_templates`` fills the bytecode cache with)."""
    from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined

    class CompiledOnce(FileSystemBytecodeCache):
        """Jinja2's bytecode cache in the plugin's folder: read by every command, written only by the build (code
        that appeared during a run would be a change of the plugin's files)."""

        def dump_bytecode(self, bucket) -> None:
            if not write:
                return
            try:
                os.makedirs(self.directory, exist_ok=True)
                super().dump_bytecode(bucket)
            except OSError:
                pass

    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                      bytecode_cache=CompiledOnce(os.path.join(TEMPLATES, "__pycache__")))
    env.filters["short"] = _short
    env.filters["fenced"] = _fenced
    env.filters["quoted"] = _quoted
    env.filters["stamp"] = _stamp
    return env


def _short(text: Optional[str], limit: int = STEP_CHARS) -> str:
    one = " ".join((text or "").split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _fenced(text: str) -> str:
    """``text`` in a code fence longer than any fence inside it, so it stays whole."""
    longest = max((len(line.strip()) - len(line.strip().lstrip("`")) for line in text.split("\n")), default=0)
    marker = "`" * max(3, longest + 1)
    return f"{marker}markdown\n{text.rstrip()}\n{marker}"


def _quoted(text: str) -> str:
    """``text`` as a markdown quote, line by line."""
    return "\n".join(f"> {line}".rstrip() for line in text.rstrip().split("\n"))
def _stamp(epoch: float) -> str:
    from clavain.run.journal import utc_stamp

    return utc_stamp(epoch)


def render(name: str, **context) -> str:
    return _env().get_template(name).render(**context)


def warm_templates() -> list[str]:
    """Compile every template into the bytecode cache (the environment's build runs this); returns their names."""
    names = sorted(name for name in os.listdir(TEMPLATES) if name.endswith(".j2"))
    for name in names:
        _env(write=True).get_template(name)
    return names


def progress_line(s: RunState) -> str:
    """``[#####.....] 5/10 tasks (1 skipped) · batch 2/4 · awaiting your approval``"""
    counts = s.counts()
    total = len(s.tasks)
    finished = sum(counts[status] for status in FINISHED)
    skipped = counts["skipped"]
    filled = round(BAR_WIDTH * finished / total) if total else BAR_WIDTH
    return render("progress.j2", bar="#" * filled + "." * (BAR_WIDTH - filled), finished=finished, total=total,
                  skipped=skipped, batch=s.batch, batches=len(s.batches), state=STATE_WORDS[s.state]).strip()


def _common(folder: RunFolder, s: RunState) -> dict:
    return {"run": s, "progress": progress_line(s), "next": next_command(s), "cli": CLI,
            "run_dir": folder.rel(folder.dir), "task_path": lambda t: folder.rel(folder.dir / t.output)}


def render_brief(folder: RunFolder, s: RunState, plan) -> str:
    """The current batch: each task whole as the plan writes it (with its files, verify entries and the outputs
    of the tasks it depends on), what may run together, and earlier outputs to read."""
    ids = [*s.reopened, *s.batches[s.batch - 1]]
    tasks = [(s.task(i), plan.task(i)) for i in ids]
    earlier = [i for k in range(s.batch - 1) for i in s.batches[k]]   # the batches before this one
    outputs = s.marks(earlier).count("D")   # done, with an output
    recent = [t for t in s.batch_tasks(s.batch - 1) if t.status == "done" and t.output] if s.batch > 1 else []
    groups = [g for g in s.groups[s.batch - 1] if len(g) > 1]
    needs = {t.id: [d for d in map(s.task, t.depends) if d.status == "done" and d.output] for _, t in tasks}
    return render("brief.md.j2", **_common(folder, s), plan=plan, tasks=tasks, recent=recent,
                  older=outputs - len(recent), tasks_dir=folder.rel(folder.tasks_dir), parallel=groups,
                  needs=needs, checked_off=checked_off(s) if first_checkpoint(s, s.batch) else [])


def checked_off(s: RunState) -> list[str]:
    """Ids of the tasks the plan already checks off: the model does not redo them; the user confirms them."""
    return [i for i, mark in zip(s.ids(), s.marks()) if mark in "cC"]


def first_checkpoint(s: RunState, k: int) -> bool:
    """Batch ``k``'s checkpoint is the run's first: no batch before it was approved by the user."""
    return not any(d.action == "approve" and d.batch < k for d in s.decisions)


def _write(path: Path, text: str) -> None:
    """A report, in place at once (a crash leaves the old one or none, which ``ensure_reports`` writes)."""
    atomic_write(path, text, point="mid-report")


def new_batch_report(folder: RunFolder, k: int) -> str:
    """The name of the report for batch ``k``'s next checkpoint (relative to the run folder): ``batch-k.md``,
    then ``batch-k-2.md``, ``batch-k-3.md`` ... for the checkpoints after a revise or a rollback."""
    n, name = 1, f"batches/batch-{k}.md"
    while (folder.dir / name).exists():
        n += 1
        name = f"batches/batch-{k}-{n}.md"
    return name


def checkpoint_report(s: RunState) -> str:
    """The report of the current checkpoint, relative to the run folder (as runs before it was recorded name it)."""
    return s.checkpoint_report or f"batches/batch-{s.batch}.md"


def write_batch_report(folder: RunFolder, s: RunState) -> Path:
    """The current batch's checkpoint report, written once (an existing one is left as it is)."""
    k = s.batch
    path = folder.dir / checkpoint_report(s)
    if path.exists():
        return path
    tasks = [*(s.task(i) for i in s.reopened), *s.batch_tasks(k)]
    _write(path, render("batch.md.j2", **_common(folder, s), k=k, tasks=tasks,
                        decisions=[d for d in s.decisions if d.batch == k],
                        asked=[t for t in tasks if t.ask_user is not None], measured=_measured(tasks),
                        checked_off=checked_off(s) if first_checkpoint(s, k) else []))
    return path


def _measured(tasks: list) -> str:
    """Whether the tasks' changes were measured: "yes"; "no git" (the project is not in a git repository);
    "nothing ran" (no task of these started)."""
    started = [t for t in tasks if t.attempts]
    if not started:
        return "nothing ran"
    return "yes" if any(t.snapshot_start for t in started) else "no git"


def write_halt_report(folder: RunFolder, s: RunState, *, sandboxed: bool = False) -> Path:
    """``sandboxed``: the failure ran under Claude Code's sandbox (the report then names the sandbox when the
    output shows one of its effects; see ``clavain.run.sandboxhint``)."""
    from clavain.run.sandboxhint import sandbox_hint

    halt = s.halt
    before = [t for t in s.tasks if t.status in FINISHED]
    path = folder.dir / halt.report
    from clavain.run.musthaves import summary

    _write(path, render("halt.md.j2", **_common(folder, s), halt=halt, before=before,
                        decisions=s.decisions, must_haves=summary(s.must_haves),
                        sandbox_hint=sandbox_hint(f"{halt.reason}\n{halt.output_tail}", sandboxed)))
    return path


def write_changes_report(folder: RunFolder, s: RunState) -> Path:
    """The changes made while the run waited, as the user is shown them (``batches/changes-<n>.md``)."""
    n = 1
    while (folder.batches_dir / f"changes-{n}.md").exists():
        n += 1
    path = folder.batches_dir / f"changes-{n}.md"
    _write(path, render("changes.md.j2", **_common(folder, s), state_words=STATE_WORDS[s.state]))
    return path


def write_final_report(folder: RunFolder, s: RunState) -> Path:
    """The report of a run that is over (what was done, skipped with the reasons, and failed, counted apart);
    with it in place, the run's active summary goes."""
    from clavain.run.musthaves import summary

    path = folder.batches_dir / FINAL_REPORT
    counts = s.counts()
    _write(path, render("final.md.j2", **_common(folder, s), decisions=s.decisions, counts=counts,
                        open=counts["pending"] + counts["running"], measured=_measured(s.tasks),
                        must_haves=summary(s.must_haves) if s.must_haves is not None else None))
    folder.write_active(s)
    return path


def ensure_reports(folder: RunFolder, s: RunState) -> None:
    """Write a report that a crash kept from being written (the journal recorded the step; O(1) checks)."""
    if s.state == "halted" and s.halt and not (folder.dir / s.halt.report).exists():
        write_halt_report(folder, s)
    if s.state == "awaiting_approval" and not (folder.dir / checkpoint_report(s)).exists():
        write_batch_report(folder, s)
    if s.state in ("finished", "aborted") and not (folder.batches_dir / FINAL_REPORT).exists():
        write_final_report(folder, s)


def status_text(folder: RunFolder, s: RunState, notes: list[str], protection: str = "") -> str:
    """``protection``: the protection line in force for this command (``clavain.core.sandbox``)."""
    return render("status.md.j2", **_common(folder, s), notes=notes, rows=status_rows(s),
                  capped=len(s.tasks) > STATUS_ALL_TASKS, protection=protection)


def _counts(statuses: list) -> str:
    """``3 done, 1 skipped`` (statuses in a fixed order, zeros left out)."""
    n = {status: 0 for status in ("running", "failed", "done", "skipped", "pending")}
    for status in statuses:
        n[status] += 1
    return ", ".join(f"{count} {status}" for status, count in n.items() if count)


def _batch_row(s: RunState, k: int, window: Optional[int]) -> dict:
    """One batch with its tasks; with ``window``, at most that many tasks, from just before its first open one."""
    tasks = s.batch_tasks(k)
    label = " (approved)" if k in s.approved_batches else " (current)" if k == s.batch else ""
    row = {"title": f"batch {k}{label}", "tasks": tasks, "before": "", "after": ""}
    if window is None or len(tasks) <= window:
        return row
    first_open = next((i for i, t in enumerate(tasks) if t.status not in FINISHED), len(tasks))
    start = max(0, min(first_open - WINDOW_LEAD, len(tasks) - window))
    shown = tasks[start:start + window]
    row["tasks"] = shown
    row["before"] = start and f"{start} earlier task(s): {_counts([t.status for t in tasks[:start]])}"
    rest = tasks[start + len(shown):]
    row["after"] = rest and f"{len(rest)} later task(s): {_counts([t.status for t in rest])}"
    return row


def _range_row(s: RunState, first: int, last: int) -> dict:
    """One line for batches ``first``..``last``: their tasks counted by status (none of them read)."""
    ids = [i for k in range(first, last + 1) for i in s.batches[k - 1]]
    approved = all(k in s.approved_batches for k in range(first, last + 1))
    title = f"batch {first}" if first == last else f"batches {first}-{last}"
    return {"title": f"{title}{' (approved)' if approved else ''}: {len(ids)} task(s): "
                     f"{_counts([status for _, status in s.statuses(ids)])}",
            "tasks": [], "before": "", "after": ""}


def status_rows(s: RunState) -> list[dict]:
    """What ``run status`` lists: every task of a small run; of a large one (more than ``STATUS_ALL_TASKS``),
    the previous and the current batch (each cut to a window of ``STATUS_WINDOW`` tasks around where the
    work is) and one line of counts for the batches before and after them. ``--json`` keeps every task."""
    last = len(s.batches)
    if len(s.tasks) <= STATUS_ALL_TASKS:
        return [_batch_row(s, k, None) for k in range(1, last + 1)]
    shown = [k for k in (s.batch - 1, s.batch) if k >= 1]
    rows = [_range_row(s, 1, shown[0] - 1)] if shown[0] > 1 else []
    rows += [_batch_row(s, k, STATUS_WINDOW) for k in shown]
    if s.batch < last:
        rows.append(_range_row(s, s.batch + 1, last))
    return rows


def todos(s: RunState) -> list[dict]:
    """The tasks for Claude Code's task-list tools: TaskCreate/TaskUpdate (``subject``, ``description``,
    ``activeForm``, ``status``) and, in older versions, TodoWrite (``content``, ``activeForm``, ``status``)."""
    status = {"pending": "pending", "running": "in_progress", "done": "completed", "skipped": "completed",
              "failed": "in_progress"}
    out = []
    for t in s.tasks:
        subject = f"Task {t.id}: {t.title}"
        out.append({"id": t.id, "subject": subject, "content": subject,
                    "description": f"{s.plan}:{t.line} (batch {t.batch}){' — skipped: ' + t.reason if t.status == 'skipped' else ''}",
                    "activeForm": f"Working on task {t.id}: {t.title}", "status": status[t.status]})
    return out
