"""A second plan in a project that already has an unfinished run: may its run start now?

- Another run waits for the user (``awaiting_approval``) or is ``halted``: never. Its report is what the user
  reads next, and while it waits, edits are blocked for the whole project anyway. The refusal names the run
  and the commands that finish or abort it.
- Another run is ``running``: only when the two plans say they are independent
  (``clavain.plan.independence``), or when the user asks for both at once with ``--alongside``. The flag
  counts only with the user's word: the newest user prompt recorded for the running run says "alongside"
  (``/clavain:execute-plan b.md --alongside``, or a reply such as "yes, run it alongside").

``check`` raises ``Refused`` or returns what allowed the start (recorded in the new run's journal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from clavain.core import paths
from clavain.core.errors import BadInput, Refused
from clavain.run.rules import CLI

WHAT_INDEPENDENT = ("plans say they are independent with frontmatter `independent_of: [<other plan>]`, or as GSD "
                    "plans of one phase and wave that do not depend on each other")


def _describe(other: dict) -> str:
    """``run ID (plan P), which ...``"""
    state = str(other.get("state", "?"))
    if state == "awaiting_approval":
        where = f"waits for the user's approval of batch {other.get('batch')} of {other.get('batches')}"
    elif state == "halted":
        where = "is halted and waits for the user's decision"
    elif state != "running":
        where = "is in an unknown state (its summary cannot be read)"
    else:
        where = f"is running (batch {other.get('batch')} of {other.get('batches')})"
    return f"run {other.get('run_id')} (plan {other.get('plan')}), which {where}"


def _finish_or_abort(other: dict) -> str:
    run_id = other.get("run_id")
    todo = str(other.get("next") or f"{CLI} status --run {run_id}")
    if "abort" not in todo:
        todo += f"; or {CLI} abort --run {run_id}   (only after the user's word)"
    return todo


def check(project: Path, rel: str, plan_file: Path, plan, active: list[dict], alongside: bool,
          env: Mapping[str, str]) -> list[dict]:
    """Refuse the start of ``rel`` beside ``active`` runs, or return one record per run it starts beside."""
    if not active:
        return []
    waiting = [a for a in active if a.get("state") != "running"]   # waiting, halted, or unreadable
    if waiting:
        other = waiting[0]
        raise Refused(f"cannot start {rel}: {_describe(other)}. One plan waits for the user at a time; show the "
                      f"user that run's report ({CLI} status --run {other.get('run_id')}) and let them finish or "
                      f"abort it first; then {CLI} open {rel}",
                      next_command=_finish_or_abort(other))
    allowed = []
    for other in active:
        reason = _independent(project, plan_file, plan, other)
        if not reason and alongside:
            reason = _users_word(project, other, rel, env)
        if not reason:
            raise Refused(
                f"cannot start {rel} beside {_describe(other)}: two runs go on at once only where the "
                f"{WHAT_INDEPENDENT}, or when the user asks for both at once. Ask the user whether to finish "
                f"run {other.get('run_id')} first, abort it, or run both alongside",
                next_command=f"{CLI} status --run {other.get('run_id')}   (resume that run), or "
                             f"{CLI} open {rel} --alongside   (only after the user has said to run both)")
        allowed.append({"run_id": other.get("run_id"), "plan": other.get("plan"), "because": reason})
    return allowed


def _independent(project: Path, plan_file: Path, plan, other: dict) -> str:
    from clavain.plan.independence import independent
    from clavain.plan.reader import read_plan

    other_file = Path(project) / str(other.get("plan", ""))
    try:
        other_plan = read_plan(other_file)
    except BadInput:
        return ""
    return independent(project, plan_file, plan, other_file, other_plan)


def _users_word(project: Path, other: dict, rel: str, env: Mapping[str, str]) -> str:
    """"the user said: ..." when the user's latest reply says to run both (``alongside``); else the refusal.
    The reply is found as every decision's is (``clavain.run.evidence``)."""
    from clavain.gate.config import load_run_config
    from clavain.run.evidence import PROMPT_RECORD, Ask, find_reply

    run_id = str(other.get("run_id"))
    opt_in = load_run_config(project).approval_evidence == PROMPT_RECORD
    evidence, why = find_reply(paths.run_dir(project, run_id), Ask("alongside", 0.0), env, opt_in=opt_in)
    if evidence is None:
        raise Refused(f"--alongside needs the user's word, and {why}: starting {rel} beside run {run_id} "
                      f"(plan {other.get('plan')}) is the user's choice. Ask them and wait for their reply",
                      next_command=f"{CLI} open {rel} --alongside   (only after the user has said to run both)")
    return f"the user said: {_short(evidence.text)!r}"


def _short(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"
