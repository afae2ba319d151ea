"""The state of one run and the one function that changes it.

The journal is the source of truth: every transition is an event ``(name, data)`` and ``apply`` folds it
into a ``RunState``. ``run.json`` is that fold written down (with the journal head it was folded up to),
so the state can always be rebuilt by replaying the journal from the start. Pure: no I/O here.

The models are plain ones (``clavain.core.model``): every ``clavain-cli run`` command reads and writes the state,
and pydantic's import alone costs more than the rest of a per-task command. ``clavain.plan.schema`` builds the
pydantic models from these same declarations and validates with them whatever is read from disk without a
matching digest.
"""

from __future__ import annotations

from clavain.core.digest import sha256_hex
from clavain.core.model import Field, Model
from clavain.core.parts import Parts, sizes

TYPE_CHECKING = False   # not ``typing``'s: the run's hot path runs without typing
if TYPE_CHECKING:
    from typing import Callable, Iterator, Literal, Optional

# The values of the annotations below that name a set of words (``clavain.plan.schema`` makes them Literal types).
LITERALS = {
    "TaskStatus": ("pending", "running", "done", "failed", "skipped"),
    "RunPhase": ("running", "awaiting_approval", "halted", "paused", "finished", "aborted"),
    "HaltKind": ("task_failed", "verify_failed", "plan_changed", "tampered", "plugin_changed",
                 "must_haves_missing"),
}


class Strict(Model):
    """A model of the run's state (unknown fields are refused, as pydantic's ``extra="forbid"``)."""


def later(default=None, **kwargs):
    """A field added after runs were first recorded: left out of the state (and of its digest) while it holds
    its default, so a run recorded by an earlier version keeps its digests after an update."""
    if "default_factory" in kwargs:
        return Field(default_factory=kwargs["default_factory"], omit_default=True)
    return Field(default, omit_default=True)


class EvidenceRecord(Strict):
    """The user's words that allowed a decision, and where they were found."""

    text: str
    time: str
    epoch: float
    session_id: Optional[str] = None
    source: str                              # "transcript", "prompt record (opted in)" (earlier: "... only")
    transcript_path: Optional[str] = None
    how: Optional[str] = later()             # "canonical reply" or "natural reply"


class Decision(Strict):
    """One decision that only the user may take: approve, retry, skip, replan, allow-external, abort."""

    action: str
    batch: int
    task: Optional[str] = None
    note: Optional[str] = None
    evidence: EvidenceRecord
    time: str
    tasks: list[str] = later(default_factory=list)   # revise: the tasks reopened
    level: Optional[str] = later()           # the protection level in force when the user decided


class VerifyRecord(Strict):
    run: str
    exit_code: Optional[int] = None
    passed: bool
    timed_out: bool = False
    log: Optional[str] = None
    duration: float = 0.0
    reason: str = ""


class PinnedVerify(Strict):
    """A task's ``<verify>`` entry as the run pinned it with the plan (``clavain.plan.model.VerifyEntry``'s
    fields): ``run verify`` runs these without reading the plan again."""

    run: str
    expect_exit: Optional[int] = 0
    expect_contains: Optional[str] = None
    expect_prose: Optional[str] = None
    line: int


class TaskState(Strict):
    id: str
    title: str
    line: int
    text_sha256: str = ""
    batch: int
    status: TaskStatus = "pending"
    checked_in_plan: bool = False            # ``[x]`` in the plan when the run read it
    ask_user: Optional[str] = later()        # a checkpoint task of the plan: the user's to do (the model never starts it)
    verify_count: int = 0                    # ``<verify>`` entries the plan gives this task
    attempts: int = 0
    head_at_start: Optional[str] = None      # git HEAD when the task started
    output: Optional[str] = None             # output file, relative to the run folder
    output_sha256: Optional[str] = None
    files_changed: Optional[list[str]] = None  # None: no git evidence
    verify: list[VerifyRecord] = Field(default_factory=list)
    verified: bool = False
    reason: Optional[str] = None             # why it failed or was skipped
    snapshot_start: Optional[str] = later()  # the project when the task started (``clavain.run.snapshot``)
    snapshot_done: Optional[str] = later()   # ... and when it was recorded done
    verify_entries: list[PinnedVerify] = later(default_factory=list)  # the plan's <verify> entries, pinned with it
    declared: list[str] = later(default_factory=list)  # files the plan says the task changes (``run.declared``)
    unchanged: Optional[dict] = later()      # {files, reason}: declared files the task left as they were, and why
    commit: Optional[str] = later()          # the task's own commit (``run.commit: task``)
    ticked: list[int] = later(default_factory=list)  # checkboxes the run ticked: lines after the task's first


class Halt(Strict):
    n: int
    kind: HaltKind
    task: Optional[str] = None
    reason: str
    command: Optional[str] = None
    exit_code: Optional[int] = None
    output_tail: str = ""
    log: Optional[str] = None
    epoch: float
    time: str
    report: str                              # relative to the run folder
    bad_seq: Optional[int] = None            # tampering: the first bad journal entry
    from_state: Optional[RunPhase] = None    # the state the run halted from (replan returns to a checkpoint)


class RunState(Strict):
    run_id: str
    plan: str                                # relative to the project
    plan_sha256: str
    bead: Optional[str] = None
    batch_size: int
    dispatch: Literal["local", "external"] = "local"
    external_requested_epoch: Optional[float] = None
    state: RunPhase = "running"
    batch: int = 1
    batches: list[list[str]]
    groups: list[list[list[str]]]
    tasks: list[TaskState]
    approved_batches: list[int] = Field(default_factory=list)
    checkpoint_epoch: Optional[float] = None
    halt: Optional[Halt] = None
    halts: int = 0
    decisions: list[Decision] = Field(default_factory=list)
    last_evidence_epoch: float = 0.0
    must_haves: Optional[dict] = None
    has_must_haves: bool = later(False)      # the plan states Must-Haves: ``run must-haves`` comes before finish
    approval_evidence: Literal["transcript", "prompt-record"] = later("transcript")  # pinned at run start
    pause: Optional[dict] = later()          # {reason, epoch, time}: the question the run paused for
    checkpoint_snapshot: Optional[str] = later()  # the project when the run came to wait (a git tree)
    changes_seen: Optional[dict] = later()   # {paths, snapshot, epoch}: changes made while waiting, shown once
    verdicts_seen: int = later(0)            # witness verdicts already turned into halts
    plugin: Optional[dict] = later()         # {version, digest} of the plugin's own files
    prompts_offset: int = later(0)           # how long prompts.jsonl was when the run came to wait
    level: Optional[str] = later()           # the protection level last recorded (start, checkpoint, halt, decision)
    feedback: list[dict] = later(default_factory=list)  # revise: the user's notes, per task
    checklist: list[str] = later(default_factory=list)  # Must-Haves no machine can check: the reports ask the user
    plan_json_sha256: Optional[str] = later()  # the plan as the run read it (``plan.json`` of the run folder)
    pin_ticks: bool = later(False)           # the pinned plan digest leaves checkbox ticks out (``plan_digest``)
    tick_plan: bool = later(False)           # task-done ticks the task's checkboxes in the plan (pinned at start)
    commit: Literal["none", "task"] = later("none")  # task-done commits the task's changes (pinned at start)
    checkpoint_report: Optional[str] = later()  # the report written at the current checkpoint (never rewritten)
    reopened: list[str] = later(default_factory=list)  # tasks of earlier batches reopened after the Must-Haves
    accepted: Optional[dict] = later()       # {reason, missing}: the user finishes without these Must-Haves
    layout: int = later(1)                   # 2: ``tasks`` kept in parts (``clavain.core.parts``), see ``LAYOUT``
    started_epoch: float
    created: str
    updated: str

    def position(self, task_id: str) -> int:
        """Where the task sits in ``tasks`` (O(1) after the first call on this list)."""
        if isinstance(self.tasks, Parts):
            return self.tasks.position(task_id)
        index = self.__dict__.get("_index")
        if index is None or index[0] is not self.tasks:
            index = self._index = (self.tasks, {t.id: i for i, t in enumerate(self.tasks)})
        return index[1][task_id]

    def task(self, task_id: str) -> TaskState:
        return self.tasks[self.position(task_id)]

    def own_task(self, task_id: str) -> TaskState:
        """The task, copied into this state so it can be changed without touching an earlier state."""
        i = self.position(task_id)
        if isinstance(self.tasks, Parts):
            return self.tasks.own(i)
        self.tasks[i] = self.tasks[i].model_copy()
        return self.tasks[i]

    def batch_tasks(self, k: Optional[int] = None) -> list[TaskState]:
        ids = self.batches[(k or self.batch) - 1]
        return [self.task(i) for i in ids]

    def counts(self, ids: "Optional[list[str]]" = None) -> dict[str, int]:
        """How many tasks (of ``ids``, else of the run) have each status."""
        out = {"pending": 0, "running": 0, "done": 0, "failed": 0, "skipped": 0}
        marks = self.marks(ids)
        for mark in set(marks):
            out[STATUS[mark]] += marks.count(mark)
        return out

    def statuses(self, ids: "Optional[list[str]]" = None) -> "Iterator[tuple[str, str]]":
        """``(id, status)`` of the tasks (of ``ids``, in that order), without reading tasks kept in parts."""
        return zip(self.ids() if ids is None else ids, map(STATUS.__getitem__, self.marks(ids)))

    def ids(self) -> list[str]:
        """The run's task ids in order."""
        return self.tasks.ids() if isinstance(self.tasks, Parts) else [t.id for t in self.tasks]

    def marks(self, ids: "Optional[list[str]]" = None) -> str:
        """The marks (``task_mark``) of the tasks (of ``ids``, in that order), without reading tasks kept in
        parts."""
        if isinstance(self.tasks, Parts):
            marks = self.tasks.marks()
            return marks if ids is None else "".join(marks[self.tasks.position(i)] for i in ids)
        return "".join(task_mark(t) for t in (self.tasks if ids is None else map(self.task, ids)))


# a task's mark: its status's first letter (``c``: skipped, checked off in the plan), upper case with an output
STATUS = {**{m: status for m, status in (("p", "pending"), ("r", "running"), ("d", "done"), ("f", "failed"),
                                           ("s", "skipped"), ("c", "skipped"))},
          **{m.upper(): status for m, status in (("p", "pending"), ("r", "running"), ("d", "done"),
                                                   ("f", "failed"), ("s", "skipped"), ("c", "skipped"))}}
LAYOUT = 2          # how a new run keeps its state: tasks in parts, the tasks of its start in ``records/``
PART_TASKS = 64     # tasks a part holds at least (a batch is never cut in two)


def task_mark(t: "TaskState") -> str:
    mark = "c" if t.status == "skipped" and t.checked_in_plan else t.status[0]
    return mark.upper() if t.output else mark


def kept_tasks(tasks: list, layout: int):
    """The tasks as a run of ``layout`` keeps them: a list (1), or in parts of about ``PART_TASKS`` (2)."""
    if layout < 2:
        return tasks
    return Parts.of(TaskState, tasks, sizes(len(tasks), PART_TASKS, [t.batch for t in tasks]), task_id, task_mark,
                    keyed=False)


def task_id(t: "TaskState") -> str:
    return t.id


def in_order(batches: list) -> list:
    """The run's task ids in order: its batches, one after the other (a batch is a stretch of the plan's tasks)."""
    return [i for batch in batches for i in batch]


class RunFile(Strict):
    """``run.json``: the folded state plus the journal head it was folded up to."""

    journal_seq: int
    journal_hash: str
    state_sha256: str
    state: RunState


def state_digest(state: RunState) -> str:
    """sha256 of the state's compact JSON as pydantic writes it (fields in model order; the dicts inside keep
    the order the journal gives them, so a replay yields the same bytes). Five times cheaper than a
    ``sort_keys`` dump of ``model_dump()``, which a 1,000-task state pays on every transition and load.

    Fields added later (``later``) count only when set, so runs recorded before they existed keep their
    digests."""
    return sha256_hex(state.model_dump_json().encode("utf-8"))


# ---------------------------------------------------------------- the fold

def _tasks_from(data: dict, layout: int = 1):
    return kept_tasks([TaskState(**t) for t in data["tasks"]], layout)


def _started(_: Optional[RunState], d: dict) -> RunState:
    return RunState(run_id=d["run_id"], plan=d["plan"], plan_sha256=d["plan_sha256"], bead=d.get("bead"),
                    batch_size=d["batch_size"], dispatch=d["dispatch"],
                    external_requested_epoch=d["at"] if d.get("external_requested") else None, batches=d["batches"],
                    groups=d["groups"], tasks=_tasks_from(d, d.get("layout", 1)), layout=d.get("layout", 1),
                    started_epoch=d["at"], created=d["time"],
                    updated=d["time"], has_must_haves=d.get("has_must_haves", False), checklist=d.get("checklist", []),
                    approval_evidence=d.get("approval_evidence", "transcript"), plugin=d.get("plugin"),
                    level=d.get("level"), plan_json_sha256=d.get("plan_json_sha256"),
                    pin_ticks=d.get("pin_ticks", False), tick_plan=d.get("tick_plan", False),
                    commit=d.get("commit", "none"))


def _task_started(s: RunState, d: dict) -> None:
    t = s.own_task(d["task"])
    t.status, t.head_at_start, t.attempts = "running", d.get("head"), t.attempts + 1
    t.verify, t.verified, t.reason = [], False, None
    t.snapshot_start, t.snapshot_done = d.get("snapshot"), None
    t.unchanged, t.commit, t.ticked = None, None, []


def _verified(s: RunState, d: dict) -> None:
    t = s.own_task(d["task"])
    t.verify = [VerifyRecord(**v) for v in d["results"]]
    t.verified = True


def _task_done(s: RunState, d: dict) -> None:
    t = s.own_task(d["task"])
    t.status, t.output, t.output_sha256 = "done", d["output"], d["output_sha256"]
    t.files_changed = d.get("files_changed")
    t.snapshot_done = d.get("snapshot")
    t.unchanged, t.commit, t.ticked = d.get("unchanged"), d.get("commit"), d.get("ticked", [])


def _halted(s: RunState, d: dict) -> None:
    s.verdicts_seen = d.get("verdicts_seen", s.verdicts_seen)
    s.halts += 1
    s.halt = Halt(n=s.halts, epoch=d["at"], time=d["time"], from_state=s.state, **d["halt"])
    s.state = "halted"
    s.checkpoint_snapshot, s.changes_seen = d.get("snapshot", s.checkpoint_snapshot), None
    if d["halt"].get("task") and d["halt"]["kind"] in ("task_failed", "verify_failed"):
        t = s.own_task(d["halt"]["task"])
        t.status, t.reason = "failed", d["halt"]["reason"]
        if d.get("results") is not None:
            t.verify = [VerifyRecord(**v) for v in d["results"]]


def _checkpoint(s: RunState, d: dict) -> None:
    s.state, s.checkpoint_epoch = "awaiting_approval", d["at"]
    s.checkpoint_snapshot, s.changes_seen = d.get("snapshot"), None
    s.checkpoint_report = d.get("report")


def _changes_seen(s: RunState, d: dict) -> None:
    """Changes made while the run waited were shown to the user; their next reply accepts them."""
    s.changes_seen = {"paths": d["paths"], "snapshot": d.get("snapshot"), "epoch": d["at"],
                      **({"before": d["before"]} if d.get("before") else {})}
    s.checkpoint_snapshot = d.get("snapshot")


def _decided(s: RunState, d: dict) -> Decision:
    decision = Decision(action=d["action"], batch=s.batch, task=d.get("task"), note=d.get("note"),
                        evidence=EvidenceRecord(**d["evidence"]), time=d["time"], tasks=d.get("revised", []),
                        level=d.get("level"))
    s.decisions = [*s.decisions, decision]
    s.last_evidence_epoch = max(s.last_evidence_epoch, decision.evidence.epoch)
    return decision


def _approved(s: RunState, d: dict) -> None:
    _decided(s, d)
    for task_id in d.get("user_done", []):       # the batch's checkpoint tasks: the user did them
        s.own_task(task_id).status = "done"
    passed = d.get("passed", [])                  # later batches with nothing left to do (checked off in the plan)
    s.approved_batches = [*s.approved_batches, s.batch, *passed]
    s.state, s.changes_seen, s.reopened = "running", None, []
    if s.batch < len(s.batches):
        s.batch = min(max([s.batch, *passed]) + 1, len(s.batches))


def _revised(s: RunState, d: dict) -> None:
    """The user asked for changes: the tasks are reopened, and the batch is checkpointed again after them."""
    _decided(s, d)
    for task_id in d["revised"]:
        t = s.own_task(task_id)
        t.status, t.verify, t.verified, t.reason = "pending", [], False, None
    if d.get("earlier"):                         # after the Must-Haves: tasks of earlier batches, done first
        s.reopened = [*s.reopened, *(i for i in d["earlier"] if i not in s.reopened)]
    if d.get("reopen_batch"):                    # the batch was approved already: it is checkpointed again
        s.approved_batches = [k for k in s.approved_batches if k != s.batch]
    s.feedback = [*s.feedback, {"tasks": d["revised"], "note": d.get("note") or "", "batch": s.batch,
                                "time": d["time"]}]
    s.state, s.halt, s.changes_seen = "running", None, None


def _paused(s: RunState, d: dict) -> None:
    s.state, s.pause = "paused", {"reason": d["reason"], "epoch": d["at"], "time": d["time"]}
    s.checkpoint_snapshot, s.changes_seen = d.get("snapshot"), None


def _resumed(s: RunState, d: dict) -> None:
    _decided(s, d)
    s.state, s.pause = "running", None


def _retried(s: RunState, d: dict) -> None:
    _decided(s, d)
    t = s.own_task(d["task"])
    t.status, t.verify, t.verified = "pending", [], False
    s.state, s.halt = "running", None


def _skipped(s: RunState, d: dict) -> None:
    _decided(s, d)
    t = s.own_task(d["task"])
    t.status, t.reason = "skipped", d["reason"]
    s.state, s.halt = "running", None


def _replanned(s: RunState, d: dict) -> None:
    _decided(s, d)
    s.plan_sha256, s.batches, s.groups = d["plan_sha256"], d["batches"], d["groups"]
    s.tasks = _tasks_from(d, s.layout)
    s.batch, s.state, s.halt = d["batch"], d.get("state", "running"), None
    s.has_must_haves = d.get("has_must_haves", s.has_must_haves)
    s.checklist = d.get("checklist", s.checklist)
    s.plan_json_sha256 = d.get("plan_json_sha256")
    if s.state == "awaiting_approval":  # back at the checkpoint it was waiting at, which needs its own reply
        s.checkpoint_epoch = d["at"]
        s.checkpoint_report = d.get("report", s.checkpoint_report)
    s.reopened = []
    s.approved_batches = [k for k in d["approved_batches"]]


def _external_allowed(s: RunState, d: dict) -> None:
    _decided(s, d)
    s.dispatch, s.external_requested_epoch = "external", None


def _aborted(s: RunState, d: dict) -> None:
    _decided(s, d)
    s.state = "aborted"


def _must_haves(s: RunState, d: dict) -> None:
    s.must_haves = d["report"]


def _accepted(s: RunState, d: dict) -> None:
    """The user finishes without the missing Must-Haves."""
    _decided(s, d)
    s.accepted = {"reason": d["note"], "missing": d.get("missing", [])}
    s.state, s.halt = "running", None


def _rolled_back(s: RunState, d: dict) -> None:
    """The project is back where task ``task`` started: it and the tasks after it in the batch are open again."""
    _decided(s, d)
    for task_id in d["reopened"]:
        t = s.own_task(task_id)
        t.status, t.verify, t.verified, t.reason, t.commit, t.ticked = "pending", [], False, None, None, []
        t.files_changed, t.unchanged = None, None
    s.approved_batches = [k for k in s.approved_batches if k != s.batch]
    s.state, s.halt, s.changes_seen = "running", None, None


def _finished(s: RunState, d: dict) -> None:
    s.state = "finished"


_EVENTS: dict[str, Callable[[RunState, dict], None]] = {
    "task_started": _task_started, "verified": _verified, "task_done": _task_done, "halted": _halted,
    "checkpoint": _checkpoint, "approved": _approved, "retried": _retried, "skipped": _skipped,
    "replanned": _replanned, "external_allowed": _external_allowed, "aborted": _aborted,
    "must_haves": _must_haves, "finished": _finished, "changes_seen": _changes_seen, "revised": _revised,
    "paused": _paused, "resumed": _resumed, "plugin_updated": lambda s, d: setattr(s, "plugin", d["plugin"]),
    "accepted": _accepted, "rolled_back": _rolled_back,
}


def apply(state: Optional[RunState], event: str, data: dict) -> RunState:
    """The state after ``event``. ``data`` carries ``at`` (epoch) and ``time`` (ISO-8601 UTC)."""
    if event == "run_started":
        return _started(state, data)
    if state is None:
        raise ValueError(f"event {event!r} before run_started")
    try:
        handler = _EVENTS[event]
    except KeyError:
        raise ValueError(f"unknown event {event!r}") from None
    # shallow: lists are replaced, never changed in place, and a changed task is copied first (own_task)
    new = state.model_copy(update={"tasks": state.tasks.copy()})
    handler(new, data)
    if isinstance(data.get("level"), str):
        new.level = data["level"]
    if isinstance(data.get("prompts_offset"), int):
        new.prompts_offset = data["prompts_offset"]
    new.updated = data["time"]
    return new
