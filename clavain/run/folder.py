"""A run's folder on disk: the lock, the journal, ``run.json`` and the active summary for hooks.

Every transition goes the same way, under the run's file lock: fold the event into the state, append the
event to the journal (fsync'd, carrying the digest of the state it leads to), replace ``run.json``
atomically, then replace ``.clavain/execute-plan/active/<run-id>.json``. A crash between two of these steps is repaired
on the next command (``load``): the journal is one step ahead, and its last event is folded in again.
Anything else that does not match is tampering, and ``load`` reports it as such.
"""

from __future__ import annotations

import time
from pathlib import Path

from clavain.core import paths
from clavain.core.chain import loads
from clavain.core.digest import sha256_hex
from clavain.core.errors import EnvironmentProblem
from clavain.core.files import atomic_write, crash_point
from clavain.core.model import dumps
from clavain.core.parts import Parts, PartDamaged, Store
from clavain.run.journal import Journal, JournalTampered, utc_stamp
from clavain.run.state import RunFile, RunState, TaskState, apply, in_order, state_digest, task_id, task_mark

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Optional

LOCK_TIMEOUT = 60.0


FINAL_REPORT = "final.md"  # in batches/: the report of a run that is over
RETIRED = "retired.json"   # written when ``run abort`` retires a run whose journal holds no trusted entry


class RunLost(EnvironmentProblem):
    """No journal entry of the run can be trusted, so it has no state at all. ``run abort`` retires it."""

    def __init__(self, folder: "RunFolder", line: Optional[int], why: str = "") -> None:
        retired = (folder.dir / RETIRED).exists()
        super().__init__(f"run {folder.run_id} has no trusted journal entry; its state is lost"
                         + (" (the run was retired)" if retired else "") + (f" ({why})" if why else ""),
                         path=folder.rel(folder.journal.path), line=line,
                         next_command="clavain-cli run start <plan>" if retired else
                         f"clavain-cli run abort --run {folder.run_id}   (only after the user has replied; it moves "
                         f"the journal aside as evidence and retires the run)")
        self.folder = folder


class Tamper:
    """Why the state on disk cannot be trusted: the first bad journal entry, or run.json vs the journal.
    ``tail_bad``: the last line is bad, so the bad lines must be moved aside before anything is recorded.
    (Plain classes here: ``dataclasses`` costs a third of a bare interpreter start to import.)"""

    def __init__(self, reason: str, seq: "Optional[int]" = None, line: "Optional[int]" = None, where: str = "",
                 tail_bad: bool = False) -> None:
        self.reason, self.seq, self.line, self.where, self.tail_bad = reason, seq, line, where, tail_bad


PLAN_PART_TASKS = 64   # a kept plan's tasks per part
KEPT = ("tasks", "batches", "groups")   # what run_started and replanned keep in records/ (the journal's lines stay short)


def _no_mark(_) -> str:
    return "."


class KeptPlan:
    """What ``plan_record`` gives: the plan with its tasks in parts, the text of ``plan.json`` and its digest."""

    def __init__(self, plan) -> None:
        self.plan = plan
        self.text = plan.model_dump_json()
        self.digest = sha256_hex(self.text.encode("utf-8"))


class Loaded:
    """The state a command works from, the journal entry it folds up to, and what loading it found: ``notes``
    ("rebuilt from the journal", crash repair ...) and ``tamper``."""

    def __init__(self, state: RunState, seq: int, hash: str, notes: "Optional[list[str]]" = None,
                 tamper: "Optional[Tamper]" = None) -> None:
        self.state, self.seq, self.hash, self.notes, self.tamper = state, seq, hash, notes or [], tamper


class RunFolder:
    """Paths and durable operations of ``.clavain/execute-plan/runs/<run-id>/``."""

    def __init__(self, project: Path, run_id: str) -> None:
        self.project = Path(project)
        self.run_id = run_id
        self.dir = paths.run_dir(self.project, run_id)
        self.run_json = self.dir / "run.json"
        self.plan_json = self.dir / "plan.json"
        self.journal = Journal(self.dir / "journal.jsonl")
        self.tasks_dir = self.dir / "tasks"
        self.batches_dir = self.dir / "batches"
        self.parts = Store(str(self.dir / "parts"))      # run.json's parts (``clavain.core.parts``)
        self.records = Store(str(self.dir / "records"))  # what journal entries and plan.json refer to by digest
        self.active = paths.active_dir(self.project) / f"{run_id}.json"

    def exists(self) -> bool:
        return self.journal.path.exists()

    def rel(self, path: Path) -> str:
        """A path inside the run folder, relative to the project (what briefs and reports show)."""
        return Path(path).relative_to(self.project).as_posix()

    def lock(self):
        from clavain.core.lockfile import FileLock

        self.dir.mkdir(parents=True, exist_ok=True)
        return FileLock(self.dir / "lock", timeout=LOCK_TIMEOUT)

    # -- writing ---------------------------------------------------------------------------------------------
    def record(self, state: Optional[RunState], event: str, data: dict) -> tuple[RunState, dict]:
        """Fold, journal, write. ``data`` gains ``at``, ``time`` and ``state_sha256``. Caller holds the lock."""
        now = time.time()
        data = {**data, "at": now, "time": utc_stamp(now)}
        new = apply(state, event, data)
        body = new.model_dump_json()
        data["state_sha256"] = digest = sha256_hex(body.encode("utf-8"))   # ``state_digest(new)``, dumped once
        data["after"] = {"state": new.state, "batch": new.batch}   # what the hooks read from the journal's head
        if new.layout >= 2 and "tasks" in data:   # the plan's tasks and batches: beside the journal, by digest
            text = dumps({key: data.pop(key) for key in KEPT if key in data})
            data["kept_sha256"] = sha = sha256_hex(text.encode("utf-8"))
            self.records.write({sha: text})
        entry = self.journal.append(event, data)
        crash_point("journal-appended")
        self.save(new, entry["seq"], entry["hash"], digest, body)
        return new, entry

    def save(self, state: RunState, seq: int, entry_hash: str, digest: "Optional[str]" = None,
             body: "Optional[str]" = None) -> None:
        """``run.json``: the ``RunFile`` of ``state`` as compact JSON (``body``: the state's JSON when the caller
        has it). The state's part is exactly the text its digest is taken of."""
        body = state.model_dump_json() if body is None else body
        head = dumps({"journal_seq": seq, "journal_hash": entry_hash,
                      "state_sha256": digest or sha256_hex(body.encode("utf-8"))})
        stale = state.tasks.write(self.parts) if isinstance(state.tasks, Parts) else ()
        atomic_write(self.run_json, f'{head[:-1]},"state":{body}}}\n', point="mid-run-json")
        crash_point("run-json-written")
        self.parts.remove(stale)
        self.write_active(state)
        crash_point("active-written")

    def write_active(self, state: RunState, *, only_if_changed: bool = False) -> bool:
        """The small summary of an unfinished run (the index of runs, and what hooks show): present exactly while
        the run is unfinished, and for a run that is over until its final report is in place, so that a crash in
        between leaves the run where the next command finds it and writes the report (``report.ensure_reports``).
        ``only_if_changed``: leave a summary that already says this as it is. Returns whether the file was
        written or removed."""
        if state.state in ("finished", "aborted") and (self.batches_dir / FINAL_REPORT).exists():
            existed = self.active.exists()
            self.active.unlink(missing_ok=True)
            return existed
        from clavain.run.rules import next_command

        summary = {"run_id": state.run_id, "plan": state.plan,
                   "state": state.state, "batch": state.batch, "batches": len(state.batches),
                   "dispatch": state.dispatch, "next": next_command(state), "updated": state.updated}
        text = dumps(summary) + "\n"
        if only_if_changed:
            try:
                if self.active.read_text(encoding="utf-8") == text:
                    return False
            except (OSError, UnicodeDecodeError):
                pass
        atomic_write(self.active, text)
        return True

    @staticmethod
    def plan_record(plan) -> "KeptPlan":
        """``plan.json`` for ``plan``: the journal pins its digest (``run_started``, ``replanned``), then
        ``keep_plan`` writes it. Later commands take the plan from there instead of reading it again with the
        reader (and pydantic); until the file is written, or if it was killed before that, they read the plan
        again. Its tasks are kept in parts (``records/``), so a command reads those of its batch only."""
        from clavain.core.parts import sizes
        from clavain.plan.model import Task

        kept = plan.model_copy(update={"tasks": Parts.of(Task, plan.tasks, sizes(len(plan.tasks), PLAN_PART_TASKS),
                                                         task_id, _no_mark)})
        return KeptPlan(kept)

    def keep_plan(self, record: "KeptPlan") -> None:
        record.plan.tasks.write(self.records)
        atomic_write(self.plan_json, record.text + "\n")

    def kept_plan(self, digest: "Optional[str]"):
        """The plan ``keep_plan`` wrote, when ``plan.json`` still has that ``digest``; else None."""
        if not digest:
            return None
        try:
            text = self.plan_json.read_text(encoding="utf-8").rstrip("\n")
        except OSError:
            return None
        if sha256_hex(text.encode("utf-8")) != digest:
            return None
        from clavain.plan.model import Plan, Task

        data = loads(text)
        plan = Plan.trusted(data)
        if isinstance(data.get("tasks"), dict):   # kept in parts (earlier versions kept the whole list here)
            plan.__dict__["tasks"] = Parts.from_header(Task, data["tasks"], self.records, _no_mark, task_id)
            plan.__dict__.pop("_dumped", None)
        return plan

    # -- reading ---------------------------------------------------------------------------------------------
    def event_data(self, entry: dict) -> dict:
        """A journal entry's data as ``apply`` folds it: what an entry keeps in ``records/`` (``KEPT``, pinned by
        digest) put back. Raises ``PartDamaged`` when it is missing or altered."""
        data = entry["data"]
        sha = data.get("kept_sha256")
        if not isinstance(sha, str):
            return data
        kept = loads(self.records.read(sha))
        if not isinstance(kept, dict) or set(kept) - set(KEPT) or set(kept) & set(data):
            raise PartDamaged("what a journal entry keeps beside the journal is not what it wrote",
                              path=self.records.path(sha))
        return {**data, **kept}

    @staticmethod
    def _consistent(rf: RunFile, last: "Optional[dict]") -> bool:
        """run.json folds exactly the journal up to its last entry: same entry, same state digest (O(1))."""
        return last is not None and (rf.journal_seq, rf.journal_hash) == (last["seq"], last["hash"]) \
            and rf.state_sha256 == last["data"].get("state_sha256") \
            and (rf.__dict__.get("_state_digest") == rf.state_sha256 or _leads_to(rf.state, rf.state_sha256))

    def _read_run_json(self, expected: "Optional[str]" = None) -> "tuple[Optional[RunFile], str]":
        """run.json. Its state is taken as it stands when its digest is ``expected`` (the journal's last entry
        records it): then it is byte for byte a state this code wrote from checked data, and nothing needs
        checking again. Anything else is validated field by field by pydantic (``clavain.plan.schema``)."""
        try:
            raw = self.run_json.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, "run.json is missing"
        except OSError as exc:
            return None, f"run.json cannot be read ({exc.strerror})"
        trusted = _trusted_run_file(raw, expected)
        if trusted is not None:
            return self._with_parts(trusted, None)
        from pydantic import ValidationError

        from clavain.plan.schema import validate, validate_json

        header = _parts_header(raw)
        try:
            if header is None:
                return validate_json(RunFile, raw), ""
            data, tasks = header   # kept in parts: pydantic validates the rest, ``Parts`` the header of the parts
            return self._with_parts(validate(RunFile, data), tasks)
        except ValidationError as exc:
            return None, f"run.json is corrupt ({exc.error_count()} problem(s), first: {exc.errors()[0]['msg']})"

    def _with_parts(self, rf: RunFile, tasks: "Optional[dict]") -> "tuple[Optional[RunFile], str]":
        """``rf`` with its tasks read from their parts when it keeps them there (``tasks``: their header, when
        ``rf`` was validated without it)."""
        header = rf.state.__dict__.get("tasks") if tasks is None else tasks
        if not isinstance(header, dict):
            return rf, ""
        try:
            parts = Parts.from_header(TaskState, header, self.parts, task_mark, task_id, in_order(rf.state.batches))
        except ValueError:
            return None, "run.json is corrupt (its tasks' parts are not listed as they are written)"
        rf.state.__dict__["tasks"] = parts
        rf.state.__dict__.pop("_dumped", None)
        missing = parts.missing()
        if missing:
            return None, f"run.json refers to {len(missing)} part(s) missing from {self.rel(Path(self.parts.folder))}"
        return rf, ""

    def load(self, *, full: bool = False) -> Loaded:
        """The run's state, checked against the journal. Cheap (O(1) in history) unless ``full`` or repair.

        ``full`` verifies the whole chain (``run status``), and that it holds the entry run.json records.
        Never raises for tampering: it returns the trusted state with ``tamper`` set, and the caller halts
        the run."""
        if (self.dir / RETIRED).exists():  # retired by run abort: whatever is left is evidence, never state
            raise RunLost(self, None)
        try:
            last = self.journal.last()
        except JournalTampered as exc:  # the last line itself is bad: nothing can be appended after it
            return self._from_journal(notes=[], chain=exc, fallback=self._read_run_json()[0], tail_bad=True)
        rf, why = self._read_run_json(None if last is None else last["data"].get("state_sha256"))
        if full and rf is not None and isinstance(rf.state.tasks, Parts):
            damaged = rf.state.tasks.damaged()
            if damaged:
                rf, why = None, f"{len(damaged)} of run.json's parts do not hold what their digests say"
        head = (0, "") if last is None else (last["seq"], last["hash"])
        chain: Optional[list[dict]] = None
        if full:
            try:
                chain = self.journal.verify(expect_head=None if rf is None else (rf.journal_seq, rf.journal_hash))
            except JournalTampered as exc:
                known = rf is not None and rf.state.halt is not None and rf.state.halt.kind == "tampered" \
                    and rf.state.halt.bad_seq == exc.seq and self._consistent(rf, last)
                if known:  # already halted for exactly this break
                    return Loaded(rf.state, *head)
                return self._from_journal(notes=[], chain=exc, fallback=rf)
        if rf is None:
            return self._from_journal(notes=[f"{why}: state rebuilt from the journal"], chain=chain)
        if (rf.journal_seq, rf.journal_hash) == head:
            if self._consistent(rf, last):
                return Loaded(rf.state, *head)
            return self._from_journal(notes=[], chain=chain, mismatch=Tamper(
                f"run.json does not match journal entry {head[0]} (the state file was edited by hand)",
                seq=head[0], where=self.rel(self.run_json)))
        if last and rf.journal_seq == head[0] - 1 and last["prev"] == rf.journal_hash \
                and _leads_to(rf.state, rf.state_sha256):
            try:
                new = apply(rf.state, last["event"], self.event_data(last))
            except (ValueError, KeyError, TypeError, PartDamaged):
                new = None
            if new is not None and _leads_to(new, last["data"].get("state_sha256")):
                self.save(new, *head, last["data"]["state_sha256"])
                return Loaded(new, *head, notes=[f"completed the interrupted step '{last['event']}' "
                                                  f"(journal entry {head[0]})"])
            why, bad = f"journal entry {head[0]} does not lead to the state it records (forged or edited)", head[0]
        elif rf.journal_seq > head[0]:
            why, bad = (f"run.json records journal entry {rf.journal_seq} but the journal ends at entry {head[0]} "
                        f"(entries were removed)"), head[0] + 1
        elif rf.journal_seq == head[0]:
            why, bad = f"journal entry {head[0]} is not the one run.json records (rewritten)", head[0]
        else:
            why, bad = (f"run.json records journal entry {rf.journal_seq} but the journal goes on to entry "
                        f"{head[0]} (entries were added)"), rf.journal_seq + 1
        return self._from_journal(notes=[], chain=chain,
                                  mismatch=Tamper(why, seq=bad, where=self.rel(self.journal.path)))

    def _from_journal(self, *, notes: list[str], chain: "list[dict] | JournalTampered | None" = None,
                      mismatch: Optional[Tamper] = None, fallback: Optional[RunFile] = None,
                      tail_bad: bool = False) -> Loaded:
        """Replay the journal (the trusted prefix when the chain is broken) and write run.json from it.

        ``chain``: the entries when the whole journal was already verified, or the ``JournalTampered`` that
        verifying raised (its ``valid`` entries are the trusted prefix); None reads and verifies it here."""
        tamper = mismatch
        if chain is None:
            try:
                chain = self.journal.verify()
            except JournalTampered as exc:
                chain = exc
        if isinstance(chain, JournalTampered):
            exc = chain
            tamper = Tamper(f"journal entry {exc.seq}: {exc.reason}", seq=exc.seq, line=exc.line,
                            where=f"{self.rel(self.journal.path)}:{exc.line}", tail_bad=tail_bad)
            entries = exc.valid
        else:
            entries = chain
        state: Optional[RunState] = None
        for entry in entries:
            why = "does not lead to the state it records (forged or edited)"
            try:
                folded = apply(state, entry["event"], self.event_data(entry))
                good = _leads_to(folded, entry["data"].get("state_sha256"))
            except (ValueError, KeyError, TypeError):
                good = False
            except PartDamaged as exc:
                good, why = False, f"refers to tasks kept in {self.rel(Path(exc.path))}, which are missing or altered"
            if not good:  # chained correctly, but not what the engine wrote: forged with recomputed hashes
                tamper = tamper or Tamper(f"journal entry {entry['seq']} {why}", seq=entry["seq"],
                                          where=self.rel(self.journal.path))
                break
            state = folded
        if state is None:
            if fallback is not None and not tail_bad:
                return Loaded(fallback.state, fallback.journal_seq, fallback.journal_hash, notes, tamper)
            raise RunLost(self, tamper.line if tamper else None, tamper.reason if tamper else "")
        seq, digest = (entries[-1]["seq"], entries[-1]["hash"])
        if tamper is None:
            self.save(state, seq, digest)
        return Loaded(state, seq, digest, notes, tamper)


def repair_interrupted_starts(project: Path) -> list[str]:
    """What a ``run start`` killed part-way left, put right; one note per repair. Call it under the start lock
    (``engine.start``), so that no start is under way. Only run folders without an active summary are looked at,
    each by its journal's last line (O(1) per run):

    - a folder whose journal holds no whole line (killed while writing its first entry) recorded nothing: it is
      removed, when it holds nothing else a start writes;
    - a run whose journal leaves it unfinished but that has no active summary (killed between the journal and
      the summary) gets its ``run.json`` and summary from the journal, and is found again like any active run."""
    import shutil

    from clavain.core.chain import check_alone, last_line

    runs = paths.runs_dir(project)
    notes: list[str] = []
    for folder in sorted(runs.iterdir()) if runs.is_dir() else []:
        run = RunFolder(project, folder.name)
        if run.active.exists() or (folder / RETIRED).exists() or not run.journal.path.exists():
            continue
        line = last_line(str(run.journal.path))
        if line is None:
            if _only_a_torn_start(run):
                shutil.rmtree(folder)
                notes.append(f"run {run.run_id} was killed while it started and recorded nothing; its folder "
                             f"{run.rel(folder)} was removed")
            continue
        entry = check_alone(line)
        after = ((entry or {}).get("data") or {}).get("after") or {}
        if entry is None or after.get("state") in ("finished", "aborted") or \
                entry.get("event") in ("finished", "aborted"):
            continue
        with run.lock():
            try:
                loaded = run.load()
            except RunLost:
                continue
            if loaded.tamper is not None or loaded.state.state in ("finished", "aborted"):
                continue
            run.write_active(loaded.state)
        notes.append(f"run {run.run_id} of {loaded.state.plan} was interrupted before its summary was written; "
                     f"it is active again ({loaded.state.state})")
    return notes


def _only_a_torn_start(run: RunFolder) -> bool:
    """The folder holds what ``engine.start`` creates before its first entry, and a journal with no whole line."""
    raw = run.journal.path.read_bytes()
    if b"\n" in raw:
        return False
    for item in run.dir.iterdir():
        if item.name in ("lock", run.journal.path.name):
            continue
        if item in (run.tasks_dir, run.batches_dir) and item.is_dir() and not any(item.iterdir()):
            continue
        if item.name == "records" and item.is_dir():   # the start's tasks, written before its first entry
            continue
        return False
    return True


def _trusted_run_file(raw: str, expected: "Optional[str]") -> "Optional[RunFile]":
    """The ``RunFile`` in ``raw`` when its state's digest is ``expected`` and its head has the right shape; else
    None (the caller validates it). A state that keeps its tasks in parts is taken too when its digest is the
    one its own head records (the journal may be a step ahead of it after a crash: ``load`` decides): pydantic
    cannot validate it, and its digest covers each part by its own."""
    # the state's text as ``save`` writes it, digested as it stands (no JSON written again to take the digest)
    at = raw.find(',"state":')
    body = raw[at + len(',"state":'):-2] if at > 0 and raw.endswith("}\n") else ""
    if not body:
        return None
    digest = sha256_hex(body.encode("utf-8"))
    if digest != expected and '"layout":' not in body:
        return None
    try:
        data = loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or list(data) != ["journal_seq", "journal_hash", "state_sha256", "state"] \
            or not isinstance(data["state"], dict) or data["state_sha256"] != digest \
            or type(data["journal_seq"]) is not int or not isinstance(data["journal_hash"], str):
        return None
    if digest != expected and not (type(data["state"].get("layout")) is int and data["state"]["layout"] >= 2):
        return None
    expected = digest
    head = dumps({"journal_seq": data["journal_seq"], "journal_hash": data["journal_hash"], "state_sha256": expected})
    if raw[:at] != head[:-1]:   # the digested text is the state's own value, exactly where save put it
        return None
    digest = expected
    rf = RunFile.trusted(data)
    rf._state_digest = digest
    return rf


def _parts_header(raw: str) -> "Optional[tuple[dict, dict]]":
    """``(run.json's data with no tasks, the header of its tasks' parts)`` when it keeps its tasks in parts."""
    try:
        data = loads(raw)
    except ValueError:
        return None
    state = data.get("state") if isinstance(data, dict) else None
    if not isinstance(state, dict) or not isinstance(state.get("tasks"), dict):
        return None
    return {**data, "state": {**state, "tasks": []}}, state["tasks"]


def _leads_to(state: RunState, recorded: "Optional[str]") -> bool:
    """Whether ``state`` is the state a journal entry (or run.json) records by its digest. A digest an earlier
    version took of pydantic's own JSON counts too (``clavain.plan.schema``): the two JSON writers agree on every
    value a state holds in practice, not on every float (pydantic writes 1e-05 as 0.00001)."""
    if not recorded:
        return False
    if state_digest(state) == recorded:
        return True
    if state.layout >= 2:   # recorded by this version only
        return False
    from clavain.plan.schema import pydantic_json

    try:
        return sha256_hex(pydantic_json(state).encode("utf-8")) == recorded
    except ValueError:
        return False

