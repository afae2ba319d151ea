"""The runs a hook call concerns, and the state each is in, read from the run's journal (not from a summary).

A run is active when ``<project>/.clavain/execute-plan/active/<run-id>.json`` names it, or when the witness (``clavain.core.
witness``) has a record of it that is not over: deleting the summary does not make a run disappear. Its state
is the one its journal's last entry leads to (``data.after``, written by the run engine), the entry's own hash
checked, or taken as witnessed when the entry is the one the witness last attested. Anything that does not add
up makes the run count as waiting for the user, so its tools turn read-only (the allowlisted ``clavain-cli run``
commands still pass, and they repair or halt the run):

- the journal's last line is missing or not a valid entry;
- the summary says another state than the journal;
- the journal's head is not the one the witness last saw and no Bash call under way explains it;
- the witness holds a verdict (the journal moved outside ``clavain-cli run``) that no halt has answered yet.

Standard library only.
"""

from __future__ import annotations

import os

from clavain.core import chain, witness
from clavain.core.layout import OWN_DIRNAME, STATE_DIRNAME
from clavain.core.states import ACTIVE, HALTED, OVER, RUNNING, WAITING, WAITING_APPROVAL

PENDING_TTL = 15 * 60.0    # a Bash call noted as under way longer than this is forgotten (no PostToolUse came)

# The state a journal event leads to, for entries written before they carried ``after`` (None: "as before").
_EVENT_STATE = {"run_started": RUNNING, "checkpoint": WAITING_APPROVAL, "halted": HALTED, "approved": RUNNING,
                "retried": RUNNING, "skipped": RUNNING, "external_allowed": None, "finished": "finished",
                "aborted": "aborted", "must_haves": None}


class Run:
    """What a hook knows of one run. ``state`` is what the journal says; ``waiting`` whether the model's tools
    are read-only now (the journal says so, or something does not add up: ``problem``)."""

    __slots__ = ("run_id", "project", "state", "batch", "batches", "plan", "dispatch", "next", "problem",
                 "head", "witnessed", "record")

    def __init__(self, run_id: str, project: str) -> None:
        self.run_id, self.project = run_id, project
        self.state: str | None = None
        self.batch, self.batches, self.plan, self.dispatch = "?", "?", "?", "local"
        self.next = f"clavain-cli run status --run {run_id}"
        self.problem = ""
        self.head: tuple[int, str] = (0, "")
        self.witnessed: tuple[int, str] | None = None
        self.record: dict | None = None

    @property
    def waiting(self) -> bool:
        return self.state in WAITING or self.state is None or bool(self.problem)

    @property
    def over(self) -> bool:
        return self.state in OVER

    def folder(self) -> str:
        return os.path.join(self.project, STATE_DIRNAME, OWN_DIRNAME, "runs", self.run_id)

    def journal(self) -> str:
        return os.path.join(self.folder(), "journal.jsonl")


MAX_SUMMARY = 64 * 1024   # an active summary is a few hundred bytes; anything longer is not one


def journal_line(path: str) -> bytes | None:
    """The journal's last complete line (``clavain.core.chain.last_line``), read only from a regular file."""
    try:
        handle = chain.open_regular(path)
    except FileNotFoundError:
        return None
    with handle:
        return chain.tail(handle)[0]


def _read_json(path: str):
    with chain.open_regular(path) as handle:
        raw = handle.read(MAX_SUMMARY + 1)
    if len(raw) > MAX_SUMMARY:
        raise ValueError(f"longer than {MAX_SUMMARY} bytes")
    return chain.loads(raw.decode("utf-8"))


def after(entry: dict) -> tuple[str | None, object]:
    """``(state, batch)`` the entry leads to: its ``data.after``, else what its event implies."""
    data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
    then = data.get("after")
    if isinstance(then, dict) and then.get("state") in (*ACTIVE, *OVER):
        return then["state"], then.get("batch", "?")
    event = entry.get("event")
    if event == "replanned":
        return data.get("state", RUNNING), data.get("batch", "?")
    return _EVENT_STATE.get(event), data.get("batch", "?")


def head_of(line: bytes | None) -> tuple[int, str]:
    """``(seq, hash)`` of a journal line as written by the run engine, read without parsing it (its key order
    puts ``seq`` first and ``hash`` last); ``(0, "")`` when it is not shaped so."""
    if not line or not line.startswith(b'{"seq":') or not line.endswith(b'"}') or len(line) < 80:
        return 0, ""
    digits = line[7:line.find(b",", 7)]
    digest = line[-66:-2]
    if not digits.isdigit() or line[-75:-66] != b',"hash":"' or not all(c in b"0123456789abcdef" for c in digest):
        return 0, ""
    return int(digits), digest.decode("ascii")


def read_run(project: str, run_id: str, env, summary: dict | None, summary_problem: str = "") -> Run:
    """One run's state as the hooks must take it (see the module docstring)."""
    run = Run(run_id, project)
    if isinstance(summary, dict):
        run.plan = str(summary.get("plan", "?"))
        run.batches = summary.get("batches", "?")
        run.dispatch = summary.get("dispatch", "local") if summary.get("dispatch") in ("local", "external") \
            else "local"
        run.next = str(summary.get("next") or run.next)
    run.record = record = witness.read(env, project, run_id)
    if os.path.exists(os.path.join(run.folder(), "retired.json")):
        if record is None or record.get("state") in OVER:   # retired by the plugin's own `run abort`
            run.state = "aborted"
            return run
        run.problem = f"run {run_id} says it was retired, but the hooks never saw it retired"
        return run
    try:
        line = journal_line(run.journal())
    except OSError as exc:
        run.problem = f"run {run_id}'s journal cannot be read ({exc})"
        return run
    seen = head_of(line)
    if record is not None and isinstance(record.get("head"), dict):
        run.witnessed = (record["head"].get("seq", 0), record["head"].get("hash", ""))
    if line is None:
        run.problem = f"run {run_id} has no journal entry to read its state from"
        return run
    if run.witnessed == seen and seen[0] and record.get("state") in (*ACTIVE, *OVER):
        run.head, run.state, run.batch = seen, record["state"], record.get("batch", "?")  # attested before
    else:
        entry = chain.check_alone(line)
        if entry is None:
            run.problem = f"the last entry of run {run_id}'s journal is not a valid journal entry"
            return run
        run.head = (entry["seq"], entry["hash"])
        run.state, run.batch = after(entry)
        if run.state is None:
            run.problem = f"run {run_id}'s state cannot be read from its journal's last entry"
    pending = record.get("pending") if isinstance(record, dict) and isinstance(record.get("pending"), dict) else {}
    if run.witnessed and run.witnessed[0] and run.witnessed != run.head \
            and not any(isinstance(call, dict) and call.get("ours") for call in pending.values()):
        run.problem = (f"run {run_id}'s journal is at entry {run.head[0]}, not at entry {run.witnessed[0]} where the "
                       f"hooks last saw it, and no clavain-cli run call explains the change")
    elif summary_problem:
        run.problem = summary_problem
    elif isinstance(summary, dict) and summary.get("state") != run.state and not run.over:
        run.problem = (f"run {run_id}'s summary says {summary.get('state')!r} but its journal says "
                       f"{run.state!r}")
    elif summary is None and run.state in ACTIVE and not run.problem:
        run.problem = f"run {run_id} is active in its journal but its summary is missing"
    verdicts = record.get("verdicts") if isinstance(record, dict) else None
    if verdicts and run.state != HALTED:   # not answered yet by the halt the next command records
        run.problem = f"run {run_id}: {verdicts[-1].get('reason', 'its journal changed outside clavain-cli run')}"
    elif record is None and run.state != HALTED and os.path.lexists(witness.record_path(env, project, run_id)):
        # there but not readable as one: what the hooks saw is lost, so nothing since is vouched for (the next
        # witnessed Bash call keeps it aside and records a verdict, which the next clavain-cli command halts on)
        run.problem = f"run {run_id}: the hooks' witness record cannot be read (damaged or replaced)"
    return run


def active_runs(project: str, env) -> list[Run]:
    """The active runs of ``project``: those with a summary, and those the witness knows that are not over."""
    folder = os.path.join(project, STATE_DIRNAME, OWN_DIRNAME, "active")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    found: dict[str, tuple[dict | None, str]] = {}
    for name in names:
        if not name.endswith(".json") or name.startswith("."):
            continue
        path = os.path.join(folder, name)
        try:
            summary = _read_json(path)
            if not isinstance(summary, dict):
                raise ValueError("not a JSON object")
            found[name[:-5]] = (summary, "")
        except (OSError, ValueError) as exc:
            found[name[:-5]] = (None, f"{path}: unreadable run summary ({exc})")
    for run_id in witness.runs(env, project):
        if run_id not in found:
            record = witness.read(env, project, run_id)
            if record is not None and record.get("state") not in OVER:
                found[run_id] = (None, "")
    runs = [read_run(project, run_id, env, summary, problem) for run_id, (summary, problem) in found.items()]
    return [run for run in runs if not run.over]
