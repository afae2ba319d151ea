"""The phase gate: the phase graph (one data table), tiers, ``infer_bead``, ``enforce_gate``, ``advance_phase``.

A gate decision looks at where a bead (or, without a bead, a plan file) stands, the phase it asks for,
and the tier: from the bead's priority when `bd` knows it (P0/P1 hard, P2/P3 soft, P4 none), else from
``gate.default_tier`` in ``.clavain/config.yaml`` (default soft). A hard tier blocks a transition the
table does not allow; a soft tier warns and passes; none passes. For ``executing`` the plan must also
exist and read without error. Every decision is recorded in the store.

Environment: ``CLAVAIN_BEAD_ID`` (the bead, ahead of the plan's own), ``CLAVAIN_SKIP_GATE='reason'``
(pass a block, recorded), ``CLAVAIN_DISABLE_GATES=true|1`` (bypass every gate, recorded),
``CLAVAIN_GATE_FAIL_CLOSED=true|1`` (block when the tier cannot be determined because `bd` failed).

Standard library only on the common path: PyYAML is imported when a config file or a frontmatter
needs it, the plan reader (pydantic) only the first time a plan's digest is seen. Nor ``pathlib``, ``typing``
or ``re`` (each costs about half a bare interpreter start, and a gate call should cost little more than one):
paths are text, made absolute with ``os.path``; ``Path`` arguments are taken too.
"""

from __future__ import annotations

import os

from clavain.gate.beads import Beads, BeadsFailure
from clavain.plan.bead import infer_bead, is_bead_id, is_placeholder, read_plan_text
from clavain.core.errors import BadInput, Refused
from clavain.core.records import record

__all__ = ["PHASES", "TRANSITIONS", "GateResult", "PlanRead", "AdvanceResult", "infer_bead", "read_plan_text",
           "enforce_gate", "advance_phase", "current_phase", "render_graph", "check_phase", "transition_kind",
           "allowed_from", "env_flag"]

TYPE_CHECKING = False   # not ``typing``'s (see above)
if TYPE_CHECKING:
    from typing import Callable, Iterator, Mapping, Optional

    from clavain.gate.config import GateConfig
    from clavain.gate.store import Decision, Store

PHASES: tuple[str, ...] = ("brainstorm", "brainstorm-reviewed", "strategized", "planned", "plan-reviewed",
                           "executing", "shipping", "reflect", "done")

# The phase graph: (from, to, kind). ``None`` is a bead or plan with no phase yet (first touch).
TRANSITIONS: tuple[tuple[Optional[str], str, str], ...] = (
    ("brainstorm", "brainstorm-reviewed", "lifecycle"),
    ("brainstorm-reviewed", "strategized", "lifecycle"),
    ("strategized", "planned", "lifecycle"),
    ("planned", "plan-reviewed", "lifecycle"),
    ("plan-reviewed", "executing", "lifecycle"),
    ("executing", "shipping", "lifecycle"),
    ("shipping", "reflect", "lifecycle"),
    ("reflect", "done", "lifecycle"),
    (None, "brainstorm", "first touch"),
    (None, "brainstorm-reviewed", "first touch"),
    (None, "strategized", "first touch"),
    (None, "planned", "first touch"),
    (None, "plan-reviewed", "first touch"),
    (None, "executing", "first touch"),
    ("brainstorm", "strategized", "skip"),
    ("planned", "executing", "skip"),
    ("executing", "done", "skip"),
    ("shipping", "brainstorm", "re-entry"),
    ("shipping", "planned", "re-entry"),
    ("done", "brainstorm", "re-entry"),
    ("done", "planned", "re-entry"),
    ("executing", "executing", "resume"),
)

PRIORITY_TIERS: "Mapping[int, str]" = {0: "hard", 1: "hard", 2: "soft", 3: "soft", 4: "none"}
SKIP_HINT = "CLAVAIN_SKIP_GATE='<reason>'"
PLAN_CACHE = "plan-reads-ok"


def transition_kind(current: Optional[str], target: str) -> Optional[str]:
    """The kind of the table row from ``current`` to ``target``, or None when the table has none."""
    for source, dest, kind in TRANSITIONS:
        if source == current and dest == target:
            return kind
    return None


def allowed_from(current: Optional[str]) -> list[str]:
    return [dest for source, dest, _ in TRANSITIONS if source == current]


def render_graph() -> str:
    """The transition table as text (``clavain-cli phase --graph``)."""
    rows = [("from", "to", "kind")] + [(s or "(none)", d, k) for s, d, k in TRANSITIONS]
    width = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{a:<{width[0]}}  {b:<{width[1]}}  {c}".rstrip() for a, b, c in rows]
    lines.append("")
    lines.append("phases in lifecycle order: " + ", ".join(PHASES))
    lines.append("(none) is a bead or plan without a recorded phase")
    return "\n".join(lines)


def check_phase(phase: str) -> str:
    if phase not in PHASES:
        raise BadInput(f"unknown phase {phase!r}; phases are: {', '.join(PHASES)}",
                       next_command="clavain-cli phase --graph")
    return phase


def env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


# -- results ---------------------------------------------------------------------------------------

GateResult = record("GateResult", "bead kind subject current target tier tier_source outcome warnings transition "
                                  "bypassed skip_reason", defaults=(None, False, None), doc="""A gate that passed.
``kind``: 'bead' or 'plan', what the phase is recorded against; ``subject``: the bead id, or the plan path relative
to the project. ``outcome``: pass, warn (soft tier let a bad transition through), skip (CLAVAIN_SKIP_GATE passed a
block) or bypass (CLAVAIN_DISABLE_GATES).""")

PlanRead = record("PlanRead", "text digest", doc="""A plan the caller has already read and parsed without error: its
text and ``plan_digest``. Handed to ``enforce_gate`` and ``advance_phase``, it spares them reading and parsing the
plan again.""")

AdvanceResult = record("AdvanceResult", "gate previous phase history_id phaseline_written bd_recorded warnings")


# -- one gate session ------------------------------------------------------------------------------

class _Session:
    """What one gate command works with: the subject, the open store, the config, `bd` if present."""

    def __init__(self, project: str, bead: str, kind: str, subject: str, artifact: "Optional[str]",
                 env: "Mapping[str, str]", store: "Store", config: "GateConfig", beads: "Optional[Beads]",
                 warnings: list[str]) -> None:
        self.project, self.bead, self.kind, self.subject, self.artifact = project, bead, kind, subject, artifact
        self.env, self.store, self.config, self.beads, self.warnings = env, store, config, beads, warnings

    def display(self) -> str:
        return f"bead {self.bead}" if self.bead else f"plan {self.subject}"

    def artifact_rel(self) -> "Optional[str]":
        return None if self.artifact is None else _relative(self.project, self.artifact)


def _relative(project: str, path: str) -> str:
    """``path`` relative to ``project`` when inside it, else as it is (both absolute; nothing resolved)."""
    if path == project:
        return "."
    prefix = project.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def _normalise_bead(bead: str, warnings: list[str]) -> str:
    bead = (bead or "").strip()
    if not bead:
        return ""
    if is_placeholder(bead):
        warnings.append(f"bead {bead!r} is a placeholder; treating it as no bead")
        return ""
    if not is_bead_id(bead):
        raise BadInput(f"{bead!r} is not a bead id (expected something like my-proj-abc1)",
                       next_command="clavain-cli infer-bead <plan.md>")
    return bead


def _subject(project: str, bead: str, artifact, usage: str,
             warnings: list[str]) -> "tuple[str, Optional[str], str, str]":
    """(bead, absolute artifact, kind, subject): the phase is kept against the bead, or without one
    against the plan's path relative to the project."""
    bead = _normalise_bead(bead, warnings)
    path = None if artifact is None or os.fspath(artifact) == "" else \
        os.path.abspath(os.path.join(project, os.fspath(artifact)))
    if not bead and path is None:
        raise BadInput("a bead id or a plan file is needed to know whose phase this is", next_command=usage)
    return (bead, path, "bead", bead) if bead else (bead, path, "plan", _relative(project, path))


class _open_session:
    """Context manager: validate the subject, open the store, read the config, find `bd`."""

    def __init__(self, project, bead: str, artifact, env: "Mapping[str, str]", command: str) -> None:
        self.args = (os.path.realpath(os.fspath(project)), bead, artifact, env, command)
        self.session: "Optional[_Session]" = None

    def __enter__(self) -> _Session:
        from clavain.gate.config import load_gate_config
        from clavain.gate.store import Store

        project, bead, artifact, env, command = self.args
        warnings: list[str] = []
        bead, artifact, kind, subject = _subject(project, bead, artifact,
                                                 f"clavain-cli {command} '' <phase> <plan.md>", warnings)
        store = Store.open(project)
        try:
            config = load_gate_config(project, store)
        except BaseException:
            store.close()
            raise
        beads = Beads.find(env, config.bd_timeout, project) if bead else None
        self.session = _Session(project, bead, kind, subject, artifact, env, store, config, beads, warnings)
        return self.session

    def __exit__(self, *exc) -> None:
        if self.session is not None:
            self.session.store.close()


# -- the executing gate: the plan reads, and its review is not stale ---------------------------------

def _reader_fingerprint() -> str:
    """Changes whenever any module of the plan reader changes, so a cached plan verdict follows the reader."""
    package = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plan")
    parts = []
    for entry in sorted(os.scandir(package), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            info = entry.stat()
            parts.append(f"{entry.name}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


def _manifest_candidates(plan: str) -> tuple[str, str]:
    folder, name = os.path.split(plan)
    stem = name[:-3] if name.endswith(".md") else name
    return os.path.join(folder, stem + ".exec.yaml"), os.path.join(folder, name + ".exec.yaml")


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _check_plan(s: _Session, target: str, read: "Optional[PlanRead]") -> tuple[str, str]:
    """Raise BadInput unless the plan exists and reads; return (text, digest). A plan the caller has read
    (``read``) is taken as it is."""
    from clavain.core.digest import plan_digest, sha256_hex

    if s.artifact is None:
        raise BadInput(f"the gate for {target} needs the plan file",
                       next_command=f"clavain-cli enforce-gate '{s.bead}' {target} <plan.md>")
    if read is not None:
        return read.text, read.digest
    text = read_plan_text(s.artifact, f"clavain-cli enforce-gate '{s.bead}' {target} <plan.md>")
    digest = plan_digest(text)
    parts = [str(s.artifact).encode(), digest.encode(), _reader_fingerprint().encode()]
    for manifest in _manifest_candidates(s.artifact):  # the reader also reads <plan>.exec.yaml beside it
        try:
            parts.append(_read_bytes(manifest))
        except OSError:
            parts.append(b"absent")
    key = sha256_hex(b"\0".join(parts))
    if s.store.cache_get(PLAN_CACHE, key) is None:
        from clavain.plan.reader import read_plan

        read_plan(s.artifact)  # raises BadInput (path:line) for a malformed plan
        s.store.cache_put(PLAN_CACHE, key, digest)
    return text, digest


def _review_artifacts(s: _Session) -> "Iterator[str]":
    """The review files ``gate.review_glob`` names (``pathlib``'s glob, loaded only when its folder exists)."""
    glob = s.config.review_glob
    fixed = []
    for part in glob.split("/"):
        if part in ("", "."):
            continue
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    if not os.path.exists(os.path.join(s.project, *fixed)):
        return iter(())
    from pathlib import Path

    return (str(found) for found in Path(s.project).glob(glob))


def _stale_review(s: _Session, digest: str) -> "Optional[str]":
    """A warning when the newest review naming the plan or bead is older than the plan's last change."""
    import time

    names = {os.path.basename(s.artifact), _relative(s.project, s.artifact)} | ({s.bead} if s.bead else set())
    newest: "Optional[tuple[float, str]]" = None
    for review in _review_artifacts(s):
        try:
            text = _read_bytes(review).decode("utf-8", errors="replace")
            mtime = os.stat(review).st_mtime
        except OSError:
            continue
        if any(name in text for name in names) and (newest is None or mtime > newest[0]):
            newest = (mtime, review)
    if newest is None:
        return None
    changed = s.store.plan_changed_at(s.artifact, digest) or os.stat(s.artifact).st_mtime
    if newest[0] >= changed:
        return None

    def stamp(t: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))

    return (f"stale review: {_relative(s.project, newest[1])} ({stamp(newest[0])}) is older than the plan's last "
            f"change ({stamp(changed)}); consider reviewing the plan again")


# -- current phase and tier --------------------------------------------------------------------------

def _current_phase(s: _Session, text: "Optional[str]") -> "tuple[Optional[str], Optional[str]]":
    """(current phase, the store's phase). The store leads; then bd; then the plan's Phase line.
    A desync between bd and the plan's Phase line is reported."""
    from clavain.gate.phaseline import read_phase

    stored = s.store.current_phase(s.kind, s.subject)
    bd_phase = None
    if s.beads is not None:
        try:
            bd_phase = s.beads.phase(s.bead)
        except BeadsFailure as exc:
            s.warnings.append(f"bd: {exc}")
    if text is None and s.artifact is not None and os.path.splitext(s.artifact)[1] in (".md", ".markdown"):
        try:
            text = _read_bytes(s.artifact).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    header = read_phase(text) if text is not None else None
    if bd_phase and header and bd_phase != header:
        s.warnings.append(f"desync: bd holds phase {bd_phase!r} for {s.bead} but {s.artifact_rel()} says "
                          f"{header!r}; the store holds {stored!r}")
    return stored or bd_phase or header, stored


def _tier(s: _Session) -> "tuple[str, str, Optional[str]]":
    """(tier, where it came from, the failure that kept it from being known)."""
    failure = None
    if s.beads is not None:
        try:
            priority = s.beads.priority(s.bead)
        except BeadsFailure as exc:
            failure = str(exc)
            s.warnings.append(f"bd: {exc}; tier taken from the config")
        else:
            if priority is not None:
                return PRIORITY_TIERS[priority], f"bead priority P{priority}", None
    return s.config.default_tier, "config gate.default_tier", failure


# -- the decision --------------------------------------------------------------------------------------

def _refusal(s: _Session, current: "Optional[str]", target: str, why: str) -> Refused:
    """The way out of a block is the user's: the model shows the message and stops (commands/execute-plan.md)."""
    artifact = s.artifact_rel() or "<plan.md>"
    options = allowed_from(current)
    review = "the user reviews the plan"
    if options:
        review += (f" and records the phase the lifecycle allows next ({', '.join(options)}), e.g. "
                   f"clavain-cli advance-phase '{s.bead}' {options[0]} '<reason>' '{artifact}'")
    override = (f"or the user sets {SKIP_HINT} themselves (the reason is recorded) and reruns "
                f"clavain-cli enforce-gate '{s.bead}' {target} '{artifact}'")
    return Refused(f"gate blocked: {why}",
                   next_command=f"show this to the user and stop; do not run the ways out yourself. "
                                f"Ways out, for the user: {review}; {override}")


def _judge(s: _Session, current: "Optional[str]", target: str, tier: str, tier_source: str,
           failure: "Optional[str]") -> "tuple[str, Optional[str], Optional[Refused]]":
    """(outcome, transition kind, refusal or None). Outcome is pass, warn or block."""
    kind = transition_kind(current, target)
    if failure and env_flag(s.env, "CLAVAIN_GATE_FAIL_CLOSED"):
        why = (f"the tier of {s.display()} cannot be determined ({failure}) and CLAVAIN_GATE_FAIL_CLOSED is set")
        return "block", kind, _refusal(s, current, target, why)
    if kind is not None or tier == "none":
        return "pass", kind, None
    move = f"{current or '(none)'} -> {target}"
    if tier == "soft":
        s.warnings.append(f"{s.display()}: {move} is not an allowed transition (tier soft from {tier_source}); "
                          f"passing. See: clavain-cli phase --graph")
        return "warn", kind, None
    why = (f"{s.display()} is at phase {current or '(none)'}; {move} is not an allowed transition "
           f"(tier hard from {tier_source})")
    return "block", kind, _refusal(s, current, target, why)


def _enforce(s: _Session, target: str, command: str,
             read: "Optional[PlanRead]" = None) -> "tuple[GateResult, Decision, Callable[[Optional[str]], None]]":
    """Run the gate. A block is recorded and raised; a pass returns (result, its decision for the caller
    to record, a re-judge function that advance-phase runs inside its write transaction)."""
    from clavain.gate.store import Decision

    check_phase(target)

    def decision(current, tier, tier_source, outcome, reason="", skip=None) -> Decision:
        return Decision(command, s.kind, s.subject, current, target, tier, tier_source, outcome, reason, skip,
                        s.artifact_rel())

    if env_flag(s.env, "CLAVAIN_DISABLE_GATES"):
        stored = s.store.current_phase(s.kind, s.subject)
        s.warnings.append(f"gates disabled by CLAVAIN_DISABLE_GATES: {command} {target} for {s.display()} "
                          f"bypassed (recorded)")
        result = GateResult(s.bead, s.kind, s.subject, stored, target, "none", "CLAVAIN_DISABLE_GATES", "bypass",
                            s.warnings, transition_kind(stored, target), bypassed=True)
        return result, decision(stored, "none", "CLAVAIN_DISABLE_GATES", "bypass", "CLAVAIN_DISABLE_GATES"), \
            lambda current: None

    text = None
    if target == "executing":
        text, digest = _check_plan(s, target, read)
        stale = _stale_review(s, digest)
        if stale:
            s.warnings.append(stale)
    current, stored = _current_phase(s, text)
    tier, tier_source, failure = _tier(s)
    skip = s.env.get("CLAVAIN_SKIP_GATE", "").strip() or None

    outcome, kind, refusal = _judge(s, current, target, tier, tier_source, failure)
    if refusal is not None:
        if skip is None:
            s.store.record_decision(decision(current, tier, tier_source, "block", refusal.message))
            raise refusal
        outcome = "skip"
        s.warnings.append(f"gate skipped by CLAVAIN_SKIP_GATE ({skip}): {refusal.message} (recorded)")
        if s.beads is not None:
            try:
                s.beads.append_note(s.bead, f"clavain: gate skipped for {target} by CLAVAIN_SKIP_GATE: {skip}")
            except BeadsFailure as exc:
                s.warnings.append(f"bd: {exc}; the skip is recorded in the local store only")
    skipped = skip if outcome == "skip" else None
    result = GateResult(s.bead, s.kind, s.subject, current, target, tier, tier_source, outcome, s.warnings, kind,
                        skip_reason=skipped)

    def rejudge(now: "Optional[str]") -> None:
        # Another process moved the phase between the gate and the write: judge the move again.
        if now != stored:
            late = _judge(s, now, target, tier, tier_source, failure)[2]
            if late is not None and skip is None:
                raise late

    return result, decision(current, tier, tier_source, outcome, skip=skipped), rejudge


# -- public entry points ----------------------------------------------------------------------------

def enforce_gate(project, bead: str, target: str, artifact, env: "Mapping[str, str]",
                 read: "Optional[PlanRead]" = None) -> GateResult:
    """Pass (return the result, with warnings) or raise Refused (blocked) / BadInput (unknown phase,
    missing or malformed plan for ``executing``). The decision is recorded in the store. ``read``: the
    plan as the caller read and parsed it (see ``PlanRead``)."""
    check_phase(target)
    with _open_session(project, bead, artifact, env, "enforce-gate") as s:
        result, decision, _ = _enforce(s, target, "enforce-gate", read)
        s.store.record_decision(decision)
        return result


def advance_phase(project, bead: str, phase: str, reason: str, artifact, env: "Mapping[str, str]",
                  read: "Optional[PlanRead]" = None) -> AdvanceResult:
    """Record ``phase`` for the bead (or the plan): in the store first, then the plan's Phase line, then
    `bd`. Refuses whatever ``enforce_gate`` would block; a failing `bd` is reported, never costs the record.
    ``read``: the plan as the caller read and parsed it (see ``PlanRead``)."""
    check_phase(phase)
    with _open_session(project, bead, artifact, env, "advance-phase") as s:
        gate, decision, rejudge = _enforce(s, phase, "advance-phase", read)
        reason = reason or f"advance to {phase}"
        try:
            row = s.store.record_phase(s.kind, s.subject, phase, reason, s.artifact_rel(), check=rejudge,
                                       decision=decision, known_from=gate.current)
        except Refused as late:
            now = s.store.current_phase(s.kind, s.subject)
            s.store.record_decision(decision._replace(from_phase=now, outcome="block", reason=late.message))
            raise
        written = _write_phase_line(s, phase, row.at)
        recorded = _write_bd_phase(s, phase, reason)
        return AdvanceResult(gate, row.from_phase, phase, row.id, written, recorded, s.warnings)


def _write_phase_line(s: _Session, phase: str, at: str) -> bool:
    from clavain.core.digest import plan_digest
    from clavain.gate.phaseline import has_phase_line, write_phase

    if s.artifact is None:
        return False
    if not has_phase_line(s.artifact):
        s.warnings.append(f"{s.artifact_rel()} is not a markdown file; no Phase line written")
        return False
    if not os.path.isfile(s.artifact):
        s.warnings.append(f"{s.artifact_rel()} not found; no Phase line written")
        return False
    try:
        changed_at, text = write_phase(s.artifact, phase, at)
    except (OSError, UnicodeDecodeError) as exc:
        s.warnings.append(f"{s.artifact_rel()}: Phase line not written ({exc}); the store holds {phase}")
        return False
    s.store.note_plan_content(s.artifact, plan_digest(text), changed_at)
    return True


def _write_bd_phase(s: _Session, phase: str, reason: str) -> bool:
    if s.beads is None:
        return False
    try:
        s.beads.set_phase(s.bead, phase, reason)
    except BeadsFailure as exc:
        s.warnings.append(f"bd: {exc}; the local store holds phase {phase}. Re-sync with: "
                          f"bd set-state {s.bead} phase={phase} --reason '{reason}'")
        return False
    return True


def current_phase(project, bead: str, artifact, env: "Mapping[str, str]") -> tuple[str, list[str]]:
    """The recorded phase ("" when none): the store, then `bd`, then the plan's Phase line. Creates nothing."""
    from clavain.gate.config import load_gate_config
    from clavain.gate.phaseline import read_phase
    from clavain.gate.store import Store

    project = os.path.realpath(os.fspath(project))
    warnings: list[str] = []
    bead, path, kind, subject = _subject(project, bead, artifact, "clavain-cli phase <bead> [plan.md]", warnings)
    store = Store.open(project, create=False)
    if store is not None:
        with store:
            stored = store.current_phase(kind, subject)
            if stored:
                return stored, warnings
            config = load_gate_config(project, store)
    else:
        config = load_gate_config(project)
    beads = Beads.find(env, config.bd_timeout, project) if bead else None
    if beads is not None:
        try:
            found = beads.phase(bead)
            if found:
                return found, warnings
        except BeadsFailure as exc:
            warnings.append(f"bd: {exc}")
    if path is not None and os.path.isfile(path):
        return read_phase(read_plan_text(path, "clavain-cli phase <bead> [plan.md]")) or "", warnings
    return "", warnings
