"""The run engine: pick a run, open it under its lock with every check done, start a new one.

``session`` is the one way into a run: it takes the lock, loads the state checked against the journal
(``clavain.run.folder``), halts the run when the state was tampered with or the plan changed, and yields a
``Session`` whose ``record`` makes a transition durable. The operations themselves live in
``clavain.run.steps`` (the model's moves) and ``clavain.run.decisions`` (the user's decisions).
"""

from __future__ import annotations

import os
import re   # loaded with pathlib anyway
import time
from contextlib import contextmanager
from pathlib import Path

from clavain.core import paths
from clavain.core.digest import plan_digest
from clavain.core.errors import BadInput, EnvironmentProblem, Refused
from clavain.run.rules import CLI, next_command
from clavain.run.state import LAYOUT, RunState, TaskState
from clavain.run.folder import LOCK_TIMEOUT, RunFolder, Tamper, repair_interrupted_starts

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module (plain classes below, not
if TYPE_CHECKING:       # dataclasses, for the same reason: each import costs a part of a bare interpreter start)
    from typing import Iterator, Mapping, Optional

PROGRESS_STATES = ("running", "awaiting_approval", "halted", "paused")
EXTERNAL_FLAG = Path(".claude") / "clodex-toggle.flag"


class Outcome:
    """What a command prints: ``text`` for people and models, ``data`` (plus ``next``) with ``--json``."""

    def __init__(self, state: RunState, text: str, data: "Optional[dict]" = None) -> None:
        self.state, self.text, self.data = state, text, {} if data is None else data

    @property
    def next(self) -> str:
        return next_command(self.state)

    def as_json(self) -> dict:
        return {"run_id": self.state.run_id, "state": self.state.state, "batch": self.state.batch,
                "batches": len(self.state.batches), **self.data, "next": self.next}


class Session:
    """One command's hold on a run: its folder, the state as loaded (and as each ``record`` leaves it), the
    environment, and the notes loading made."""

    def __init__(self, folder: RunFolder, state: RunState, env: "Mapping[str, str]",
                 notes: "Optional[list[str]]" = None) -> None:
        self.folder, self.state, self.env = folder, state, env
        self.notes: list[str] = [] if notes is None else notes
        self._plan_text: "Optional[str]" = None   # the plan as this command read it: read once, parsed at most once
        self._protection: object = None
        self._repo: "Optional[tuple]" = None   # (work tree top, git folder) once known; (): no repository
        self.journal_head: tuple[int, str] = (0, "")   # (seq, hash) as loaded, then as each record leaves it

    @property
    def project(self) -> Path:
        return self.folder.project

    def record(self, event: str, data: dict) -> RunState:
        from clavain.run.witness import announce, attest

        announce(self.env, self.project, self.state.run_id, self.journal_head)
        self.state, entry = self.folder.record(self.state, event, data)
        self.journal_head = (entry["seq"], entry["hash"])
        attest(self.env, self.project, self.state.run_id, entry, self.state.state, self.state.batch)
        return self.state

    def waiting_marks(self) -> dict:
        """What a run records when it comes to wait for the user: the project's snapshot, the protection level,
        and how long the prompt records are (only records written after it may count)."""
        import os

        try:   # the hook appends prompt records without fsync: made durable here, before the length counts
            fd = os.open(self.folder.dir / "prompts.jsonl", os.O_RDONLY)
        except OSError:
            offset = 0
        else:
            try:
                os.fsync(fd)
                offset = os.fstat(fd).st_size
            finally:
                os.close(fd)
        return {"snapshot": self.snapshot(), "level": self.level(), "prompts_offset": offset}

    def snapshot(self) -> Optional[str]:
        """The project as it stands now (``clavain.run.snapshot``), or None outside git."""
        from clavain.run.snapshot import take

        if self._repo is None:
            self.head()
        return take(self.project, self._repo) if self._repo else None

    def head(self) -> Optional[str]:
        """The commit HEAD points at now (None outside git or before the first commit); notes the work tree's top
        and git folder for the snapshots this command takes (one git process for all three)."""
        from clavain.run.snapshot import repo

        found = repo(self.project)
        self._repo = found[:2] if found else ()
        return found[2] if found else None

    def top(self) -> Optional[Path]:
        """The repository's top folder (None outside git), asked of git once per command."""
        if self._repo is None:
            self.head()
        return self._repo[0] if self._repo else None

    def protection(self):
        """The protection level in force for this command (``clavain.core.sandbox.protection_level``)."""
        if self._protection is None:
            from clavain.core.sandbox import protection_level

            self._protection = protection_level(self.project, self.env)
        return self._protection

    def level(self) -> str:
        """"sandboxed" or "hooks only": recorded with each decision and checkpoint."""
        return self.protection().level

    def halt(self, kind: str, reason: str, **details) -> RunState:
        """Put the run in ``halted`` and write the halt report (``batches/halt-<n>.md``)."""
        from clavain.run.report import write_halt_report

        n = self.state.halts + 1
        report = f"batches/halt-{n}.md"
        halt = {"kind": kind, "reason": reason, "report": report, "task": details.pop("task", None),
                "command": details.pop("command", None), "exit_code": details.pop("exit_code", None),
                "output_tail": details.pop("output_tail", ""), "log": details.pop("log", None),
                "bad_seq": details.pop("bad_seq", None)}
        self.record("halted", {"halt": halt, **self.waiting_marks(), **details})
        write_halt_report(self.folder, self.state, sandboxed=self.protection().sandboxed)
        return self.state

    def plan_path(self) -> Path:
        return (self.project / self.state.plan).resolve()

    def plan_text(self) -> str:
        """The plan's text, read once per command (``BadInput`` when it cannot be read as a plan)."""
        if self._plan_text is None:
            from clavain.plan.textfile import read_text

            self._plan_text = read_text(self.plan_path())
        return self._plan_text

    def read_plan(self):
        """The plan parsed from ``plan_text``: the same text the pinned digest was checked against. The run keeps
        the plan it read (``RunFolder.keep_plan``): while the plan's text is the one kept, that is the plan."""
        kept = self.folder.kept_plan(self.state.plan_json_sha256)
        text = self.plan_text()
        # a plan whose only changes are ticks (``run.tick_plan``) is still the plan kept: ticks move no line
        if kept is not None and (kept.sha256 == plan_digest(text) or
                                 self.state.pin_ticks and self.state.plan_sha256 == plan_digest(text, ticks=True)):
            from clavain.core.parts import PartDamaged

            try:   # the tasks a brief shows, read now: a part that is missing or was edited is not taken
                for task_id in [*self.state.reopened, *self.state.batches[self.state.batch - 1]]:
                    kept.task(task_id)
                return kept
            except (PartDamaged, KeyError):
                self.notes.append("the plan kept in the run's folder is damaged; the plan file was read again")
        from clavain.plan.reader import read_plan

        return read_plan(self.plan_path(), text=self.plan_text())


# ------------------------------------------------------------------------------------------ choosing a run

def active_runs(project: Path) -> list[dict]:
    """The summaries of unfinished runs (``.clavain/execute-plan/active/*.json``), oldest first."""
    from clavain.core.chain import loads   # json's C parser, without the json package

    out = []
    folder = paths.active_dir(project)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out.append(loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            out.append({"run_id": path.stem, "plan": "?", "state": "?"})
    return out


_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def select_run(project: Path, run_id: Optional[str]) -> RunFolder:
    if run_id is not None and not _RUN_ID.fullmatch(run_id):
        raise BadInput(f"{run_id!r} is not a run id (letters, digits, '.', '_' and '-' only)",
                       next_command=f"{CLI} status")
    if run_id:
        folder = RunFolder(project, run_id)
        if not folder.exists():
            raise BadInput(f"no run {run_id!r} in {paths.runs_dir(project)}", next_command=f"{CLI} status")
        return folder
    active = active_runs(project)
    if not active:
        raise Refused(f"no active run in {project}", next_command=f"{CLI} start <plan>")
    if len(active) > 1:
        ids = ", ".join(f"{a['run_id']} ({a.get('plan')})" for a in active)
        raise Refused(f"{len(active)} runs are active: {ids}; say which one",
                      next_command=f"{CLI} status --run {active[0]['run_id']}")
    return RunFolder(project, active[0]["run_id"])


# ------------------------------------------------------------------------------------------ opening a run

@contextmanager
def session(project: Path, run_id: Optional[str], env: Mapping[str, str], *, full: bool = False,
            check_plan: bool = True) -> Iterator[Session]:
    """Open a run under its lock, with tampering and plan changes already turned into halts."""
    from clavain.core.lockfile import LockTimeout

    folder = select_run(project, run_id)
    try:
        with folder.lock():
            loaded = folder.load(full=full)
            s = Session(folder, loaded.state, env, list(loaded.notes))
            s.journal_head = (loaded.seq, loaded.hash)
            if loaded.tamper is not None:
                _halt_tampered(s, loaded.tamper)
            else:
                from clavain.run.witness import catch_up

                catch_up(env, project, loaded.state.run_id, loaded.seq, loaded.hash, loaded.state.state,
                         loaded.state.batch)
                _check_witness(s)
            if s.state.state in PROGRESS_STATES and not _tampered(s):
                _check_plugin(s)
            if check_plan and s.state.state in PROGRESS_STATES and not _tampered(s):
                _check_plan(s)
            from clavain.run.report import ensure_reports

            ensure_reports(folder, s.state)
            if folder.write_active(s.state, only_if_changed=True):  # an edited or deleted summary is put right
                s.notes.append(f"the run's summary {folder.rel(folder.active)} did not match its journal; rewritten")
            yield s
    except LockTimeout:
        raise EnvironmentProblem(f"run {folder.run_id} is locked by another clavain-cli process",
                                 path=folder.dir / "lock", next_command=f"{CLI} status (retry in a moment)") from None


def _halt_tampered(s: Session, tamper: Tamper) -> None:
    """Record the tamper halt. A bad last line is moved aside first (kept as evidence), since nothing can be
    appended after it; the halt then follows the trusted prefix."""
    s.notes.append(f"tampering detected: {tamper.reason}")
    if s.state.state not in PROGRESS_STATES:
        return
    reason = tamper.reason
    if tamper.tail_bad and tamper.line is not None:
        moved = s.folder.journal.quarantine_from(tamper.line)
        reason += f"; that line and the ones after it were moved to {s.folder.rel(moved)}"
        s.notes.append(f"journal lines {tamper.line}.. moved to {s.folder.rel(moved)}")
    s.halt("tampered", reason, bad_seq=tamper.seq, command=tamper.where or None)


def _tampered(s: Session) -> bool:
    return s.state.state == "halted" and s.state.halt is not None and s.state.halt.kind == "tampered"


def _check_witness(s: Session) -> None:
    """A verdict of the hooks (the journal moved outside ``clavain-cli run``) halts the run, once per verdict."""
    from clavain.run.witness import unseen_verdicts

    st = s.state
    verdicts = unseen_verdicts(s.env, s.project, st.run_id, st.verdicts_seen)
    if not verdicts or st.state in ("finished", "aborted"):
        return
    reasons = "; ".join(v.get("reason", "?") for v in verdicts)
    s.notes.append(f"the hooks saw the run's records change outside clavain-cli run: {reasons}")
    if _tampered(s):
        return
    s.halt("tampered", f"the hooks saw the run's records change outside clavain-cli run: {reasons}",
           command="the witness record of the hooks", verdicts_seen=st.verdicts_seen + len(verdicts))


def _check_plugin(s: Session) -> None:
    """The plugin's own files: changed under the same version halts the run; a new version is an update; new
    bytecode that is its source's own (Python compiled a module it imported for the first time) is recorded."""
    from clavain.run.plugin import ROOT, fingerprint, forged

    halt = s.state.halt
    if s.state.state == "halted" and halt is not None and halt.kind == "plugin_changed":
        return   # halted for it already: one halt, not one more with every command
    now = fingerprint()
    pinned = s.state.plugin
    if pinned == now:
        return
    if pinned is None or pinned.get("version") != now["version"]:
        s.record("plugin_updated", {"plugin": now, "previous": pinned})
        s.notes.append(f"the plugin was updated during the run: {(pinned or {}).get('version', 'unknown')} -> "
                       f"{now['version']} (recorded)")
        return
    if pinned.get("digest") == now["digest"]:
        bad = forged(ROOT, pinned, now)
        if bad is None:
            s.record("plugin_updated", {"plugin": now, "previous": None})   # bytecode Python wrote itself
            return
        reason = f"the bytecode {bad} is not what its source compiles to"
    else:
        reason = f"digest {pinned['digest'][:12]} -> {now['digest'][:12]}"
    s.halt("plugin_changed", f"the plugin's files changed during the run (version {now['version']}, {reason}): its "
                             f"hooks or code may no longer hold the rules", command="the plugin folder")


def _check_plan(s: Session) -> None:
    """Rule 6: the pinned plan digest. A changed (or vanished) plan halts the run until ``run replan``."""
    halt = s.state.halt
    if halt is not None and halt.kind in ("plan_changed", "tampered", "plugin_changed"):
        return
    try:
        digest = plan_digest(s.plan_text(), ticks=s.state.pin_ticks)
    except BadInput:
        digest = None
    if digest == s.state.plan_sha256:
        return
    reason = (f"the plan {s.state.plan} changed since the run pinned it" if digest else
              f"the plan {s.state.plan} cannot be read any more")
    s.halt("plan_changed", reason, command=f"sha256 {s.state.plan_sha256[:12]} -> {(digest or 'missing')[:12]}")


# ------------------------------------------------------------------------------------------ starting a run

def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:32].strip("-") or "plan"


def plan_rel(project: Path, path: Path) -> str:
    """The plan's path as runs record it: relative to the project when inside it, else absolute."""
    try:
        return path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def has_must_haves(plan) -> bool:
    mh = plan.must_haves
    return bool(mh.truths or mh.artifacts or mh.key_links or mh.checklist)


def checklist_data(plan) -> dict:
    """The plan's Must-Haves that no machine can check, for the journal (left out when there are none)."""
    return {"checklist": list(plan.must_haves.checklist)} if plan.must_haves.checklist else {}


def _under_project(project: Path, warning: str) -> str:
    """A ``path:line: text`` warning with the path relative to the project when it lies inside it."""
    for root in {str(project), str(project.resolve())}:
        if warning.startswith(root.rstrip("/") + "/"):
            return warning[len(root.rstrip("/")) + 1:]
    return warning


def task_record(task: TaskState) -> dict:
    """A task as the journal records it; ``ask_user`` only when set, so entries read as before it existed."""
    return task.model_dump(mode="json", exclude={"ask_user"} if task.ask_user is None else None)


CHECKED_OFF = "already checked off in the plan; the user confirms it at the first checkpoint"


def task_states(plan, batches) -> list[TaskState]:
    """The run's tasks. A task the plan already checks off ([X]) starts as skipped: the model does not redo it,
    and the first checkpoint asks the user to confirm them all at once. A checkpoint task of the plan (GSD
    ``checkpoint:*``) carries what it asks of the user: it is the user's, never the model's."""
    from clavain.run.declared import declared_changes

    where = {tid: b.index for b in batches for tid in b.tasks}
    return [TaskState(id=t.id, title=t.title, line=t.line, text_sha256=t.text_sha256, batch=where[t.id],
                      checked_in_plan=t.done, verify_count=len(t.verify), ask_user=t.ask_user,
                      verify_entries=[v.model_dump() for v in t.verify],
                      declared=declared_changes(t.files, t.file_roles),
                      **({"status": "skipped", "reason": CHECKED_OFF} if t.done and t.ask_user is None else {}))
            for t in plan.tasks]


def run_settings(config, plan) -> dict:
    """What a new run pins besides the approval evidence: ticks never count as a plan change; ticking done tasks
    (``run.tick_plan``, on by default for spec-kit); a commit per task (``run.commit``)."""
    tick = config.tick_plan if config.tick_plan is not None else plan.format == "speckit"
    return {"pin_ticks": True, **({"tick_plan": True} if tick else {}),
            **({"commit": config.commit} if config.commit != "none" else {})}


def start(project: Path, plan_file: Path, env: Mapping[str, str], *, batch_size: int = 3,
          dispatch: str = "local", alongside: bool = False) -> Outcome:
    """Gate, pin and create a run; the outcome's text is the first batch's brief. Beside another unfinished
    run only as ``clavain.run.alongside`` allows (checked before the gate records anything). What an earlier
    start killed part-way left is put right first (``clavain.run.folder.repair_interrupted_starts``)."""
    if batch_size < 1:
        raise BadInput(f"--batch-size must be 1 or more, not {batch_size}", next_command=f"{CLI} start {plan_file}")
    _check_plan_file(project, plan_file)
    # one start at a time per project, so two starts of the same plan cannot both pass the check below
    with _start_lock(project):
        repaired = repair_interrupted_starts(project)
        outcome = _start_locked(project, plan_file, env, batch_size, dispatch, alongside)
    outcome.text = "".join(f"note: {n}\n" for n in repaired) + outcome.text
    return outcome


def _start_lock(project: Path):
    from clavain.core.lockfile import FileLock

    paths.state_dir(project).mkdir(parents=True, exist_ok=True)
    return FileLock(paths.state_dir(project) / "start.lock", timeout=LOCK_TIMEOUT)


def repair_starts(project: Path) -> list[str]:
    """``clavain.run.folder.repair_interrupted_starts`` under the start lock (for ``run open``)."""
    with _start_lock(project):
        return repair_interrupted_starts(project)


def _check_plan_file(project: Path, plan_file: Path) -> None:
    """A path that is no plan file is named with what to run instead (the markdown files of a folder)."""
    if plan_file.is_file():
        return
    rel = plan_rel(project, plan_file)
    if plan_file.is_dir():
        found = sorted(p for p in plan_file.glob("*.md") if p.is_file())
        names = ", ".join(plan_rel(project, p) for p in found[:8]) + (f" and {len(found) - 8} more" if len(found) > 8
                                                                       else "")
        raise BadInput(f"{rel} is a folder, not a plan file" + (f"; markdown files in it: {names}" if found else
                                                                "; it holds no markdown file"),
                       next_command=f"{CLI} start " + (plan_rel(project, found[0]) if len(found) == 1 else
                                                        f"{rel}/<plan>.md"))
    if not plan_file.exists():
        raise BadInput(f"{rel}: no such plan file", next_command=f"check the path, then {CLI} start <plan.md>   "
                                                                  f"({CLI} open with no plan lists the plans found)")


def _start_locked(project: Path, plan_file: Path, env: Mapping[str, str], batch_size: int,
                  dispatch: str, alongside: bool) -> Outcome:
    from clavain.gate import gates
    from clavain.run import alongside as beside_others
    from clavain.gate.phaseline import has_phase_line, with_phase
    from clavain.plan.batching import make_batches
    from clavain.plan.reader import read_plan, read_text

    rel = plan_rel(project, plan_file)
    active = active_runs(project)
    for other in active:
        if other.get("plan") == rel:
            raise Refused(f"the plan {rel} already has an unfinished run {other['run_id']} ({other.get('state')})",
                          next_command=f"{CLI} status --run {other['run_id']}  (or {CLI} abort --run {other['run_id']})")
    # Read and parse the plan once, as it will stand once advance-phase has written its Phase line (one line
    # added or replaced; its time does not move anything), so task lines are right without a second read.
    text = read_text(plan_file)
    phased = with_phase(text, "executing", "-") if has_phase_line(plan_file) else text
    plan = read_plan(plan_file, text=phased)
    beside = beside_others.check(project, rel, plan_file, plan, active, alongside, env)
    read = gates.PlanRead(text, plan.sha256)
    bead, warnings = gates.infer_bead(plan_file, env, text=text)
    gate = gates.enforce_gate(project, bead, "executing", plan_file, env, read=read)
    shown = [_under_project(project, w) for w in plan.warnings]
    warnings = [*shown, *(w for w in warnings if w not in shown), *gate.warnings]
    advanced = gates.advance_phase(project, bead, "executing", f"Executing: {rel}", plan_file, env, read=read)
    warnings += [w for w in advanced.warnings if w not in warnings]
    if phased is not text and not advanced.phaseline_written:  # the line could not be written (a warning says why)
        plan = read_plan(plan_file, text=text)
    batches = make_batches(plan, batch_size)

    from clavain.gate.config import load_run_config
    from clavain.run.plugin import fingerprint

    from clavain.core.sandbox import protection_level

    config = load_run_config(project)
    protection = protection_level(project, env)
    warnings += [_under_project(project, w) for w in config.warnings]
    digest = plan_digest(text, ticks=True)   # the Phase line and checkbox ticks never count as a change
    pins = run_settings(config, plan)
    flag = (project / EXTERNAL_FLAG).exists()
    requested = dispatch == "external" and not flag
    run_id = f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{_slug(Path(rel).stem)}-{os.urandom(2).hex()}"
    folder = RunFolder(project, run_id)
    tasks = task_states(plan, batches)
    with folder.lock():
        folder.tasks_dir.mkdir(parents=True, exist_ok=True)
        folder.batches_dir.mkdir(parents=True, exist_ok=True)
        kept = folder.plan_record(plan)
        state, _ = folder.record(None, "run_started", {
            "run_id": run_id, "plan": rel, "plan_sha256": digest, "bead": bead, "batch_size": batch_size,
            "dispatch": "external" if dispatch == "external" and flag else "local", "external_requested": requested,
            "batches": [b.tasks for b in batches], "groups": [b.groups for b in batches],
            "tasks": [task_record(t) for t in tasks], "warnings": warnings,
            "has_must_haves": has_must_haves(plan), **checklist_data(plan), "approval_evidence": config.approval_evidence,
            "plugin": fingerprint(), "level": protection.level, "plan_json_sha256": kept.digest, "layout": LAYOUT,
            **({"alongside": beside} if beside else {}), **pins})
        folder.keep_plan(kept)
    from clavain.run.witness import attest

    attest(env, project, run_id, _, state.state, state.batch)
    from clavain.run.report import render_brief

    lines = [f"run {run_id} started: {rel} ({len(tasks)} tasks in {len(batches)} batches of up to {batch_size})"]
    lines.append(protection.line())
    lines += [f"warning: {w}" for w in warnings]
    lines += [f"alongside run {b['run_id']} ({b['plan']}): {b['because']}; while both are unfinished, name the run "
              f"in every command (--run {run_id} for this one)" for b in beside]
    if requested:
        lines.append(f"external dispatch requested: the run stays local until the user agrees; after the user's "
                     f"reply, {CLI} allow-external")
    lines.append("")
    lines.append(render_brief(folder, state, plan))
    return Outcome(state, "\n".join(lines), {"plan": rel, "tasks": len(tasks), "warnings": warnings,
                                             "protection": protection.as_dict(),
                                             "external_requested": requested, "dispatch": state.dispatch})


# ------------------------------------------------------------------------------------------ looking at a run

def status(project: Path, run_id: Optional[str], env: Mapping[str, str], detail: bool = True) -> Outcome:
    """Where the run stands; verifies the whole journal chain (the one command that does). ``detail``: the data
    lists every task (``--json``, ``--todos``); the text shows a long run's tasks around where the work is."""
    from clavain.run.report import progress_line, status_text, todos

    with session(project, run_id, env, full=True) as s:
        st = s.state
        data = {"plan": st.plan, "progress": progress_line(st), "notes": s.notes, "dispatch": st.dispatch,
                "external_requested": st.external_requested_epoch is not None,
                "halt": st.halt.model_dump(mode="json") if st.halt else None,
                "protection": s.protection().as_dict()}
        if detail:
            data["tasks"] = [{"id": t.id, "title": t.title, "batch": t.batch, "status": t.status,
                              "output": t.output and s.folder.rel(s.folder.dir / t.output), "reason": t.reason}
                             for t in st.tasks]
            data["todos"] = todos(st)
        return Outcome(st, status_text(s.folder, st, s.notes, s.protection().line()), data)


def next_brief(project: Path, run_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    """The current batch's brief while the run is running; otherwise what the run waits for."""
    from clavain.run.report import progress_line, render_brief

    with session(project, run_id, env) as s:
        st = s.state
        if st.state == "running" and st.batch in st.approved_batches:  # the last batch, approved
            text = f"{progress_line(st)}\nall batches approved\nnext: {next_command(st)}"
            return Outcome(st, text, {"waiting": "all batches approved"})
        if st.state == "running":
            plan = s.read_plan()
            return Outcome(st, render_brief(s.folder, st, plan), {"tasks": st.batches[st.batch - 1]})
        from clavain.run.report import checkpoint_report

        waiting = {"awaiting_approval": f"batch {st.batch} waits for the user's approval "
                                        f"(report: {s.folder.rel(s.folder.dir / checkpoint_report(st))})",
                   "halted": f"the run is halted: {st.halt.reason if st.halt else ''}",
                   "finished": "the run is finished", "aborted": "the run was aborted"}[st.state]
        return Outcome(st, f"{progress_line(st)}\n{waiting}", {"waiting": waiting})


def diff(project: Path, run_id: Optional[str], task_id: Optional[str], env: Mapping[str, str]) -> Outcome:
    """What changed in the project: since the current batch's first task started, or during task N (from its
    start to when it was recorded done, or to now while it runs). Read-only; the project's own git history and
    index are never touched (``clavain.run.snapshot``)."""
    from clavain.run import snapshot
    from clavain.run.rules import find_task

    with session(project, run_id, env) as s:
        st = s.state
        if task_id is not None:
            task = find_task(st, task_id)
            before, after, what = task.snapshot_start, task.snapshot_done or s.snapshot(), f"task {task.id}"
        else:
            starts = [t.snapshot_start for t in st.batch_tasks() if t.snapshot_start]
            before, after, what = (starts[0] if starts else None), s.snapshot(), f"batch {st.batch}"
        if after is None:
            return Outcome(st, f"{what}: no changes can be shown: the project is not a git repository",
                           {"changed": None})
        if before is None:
            return Outcome(st, f"{what}: nothing started yet, so nothing to compare", {"changed": []})
        top = s.top()
        plan = snapshot.Placement(project, top).rel(s.plan_path()) if top else None
        changed = snapshot.changed(project, before, after, plan=plan) or []
        if task_id is not None and task.snapshot_done and task.files_changed is not None:
            changed = [p for p in changed if p in task.files_changed]   # as recorded: its output file left out
        if not changed:
            return Outcome(st, f"{what}: no file changed", {"changed": []})
        text = f"{what}: {len(changed)} file(s) changed\n\n" + snapshot.diff_text(project, before, after, changed)
        return Outcome(st, text.rstrip(), {"changed": changed})
