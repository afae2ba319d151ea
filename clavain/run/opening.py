"""``run open [plan]``: the one first step of both ways in (the execute-plan command and the skill).

With a plan, exactly one of:
- the plan has an unfinished run: resume it (its status, checked as ``run status`` checks it);
- it has none: start one (``engine.start``: the gate, the Phase line, the pinned plan, the first brief),
  beside other runs only as ``clavain.run.alongside`` allows;
- otherwise refuse, saying why and what is next.

With no plan: resume the one active run; with several, list them and ask which; with none, list the plans
the project holds (``clavain.plan.discover``), newest first with task counts, and ask the user which to run.
Asking is not an error: it exits 0 with the question as the next step.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Mapping, Optional, Sequence

from clavain.core.errors import BadInput
from clavain.run.engine import Outcome, active_runs, plan_rel, repair_starts, start, status
from clavain.run.rules import CLI

LISTED = 20     # plan files read and shown at most; older ones are counted


class Question:
    """What ``run open`` prints when it needs the user to choose (no run to act on): text, data, next."""

    def __init__(self, text: str, data: dict, next_command: str) -> None:
        self.text = text
        self.data = data
        self.next = next_command

    def as_json(self) -> dict:
        return {"run_id": None, "state": None, **self.data, "next": self.next}


def open_run(project: Path, plan_file: Optional[Path], run_id: Optional[str], env: Mapping[str, str], *,
             batch_size: int = 3, dispatch: str = "local", alongside: bool = False, given: Sequence[str] = ()):
    """An ``Outcome`` (a run resumed or started) or a ``Question`` (the user chooses). ``given``: the start
    options written out (``--batch-size 2``); a resumed run keeps its own and the output says so."""
    repaired = repair_starts(project)
    active = active_runs(project)
    rel = None if plan_file is None else plan_rel(project, plan_file)
    if run_id:
        outcome = _resume(project, run_id, env, "", given)
        if rel is not None and rel != outcome.state.plan:
            raise BadInput(f"run {run_id} executes {outcome.state.plan}, not {rel}",
                           next_command=f"{CLI} open {rel}   (or {CLI} open --run {run_id})")
        return outcome
    if plan_file is not None:
        mine = [a for a in active if a.get("plan") == rel]
        if mine:
            return _resume(project, mine[0]["run_id"], env, f"plan {rel} has an unfinished run", given, repaired)
        outcome = start(project, plan_file, env, batch_size=batch_size, dispatch=dispatch, alongside=alongside)
        outcome.data["opened"] = "started"
        return outcome
    if len(active) == 1:
        return _resume(project, active[0]["run_id"], env, "one run is active", given)
    if active:
        return _choose_run(active)
    return _choose_plan(project)


def _resume(project: Path, run_id: str, env: Mapping[str, str], why: str, given: Sequence[str],
            repaired: Sequence[str] = ()) -> Outcome:
    outcome = status(project, run_id, env)
    st = outcome.state
    head = "".join(f"note: {n}\n" for n in repaired)
    head += f"resuming run {st.run_id} of plan {st.plan}" + (f" ({why})" if why else "") + "; do not start over"
    if given:
        head += (f"\nnote: {' '.join(given)} ignored: the run keeps what it started with (batch size "
                 f"{st.batch_size}, {st.dispatch} dispatch)")
    if st.state == "awaiting_approval":
        head += (f"\nbatch {st.batch} waits for the user: show them its report and wait for their reply "
                 f"before {CLI} approve")
    elif st.state == "halted":
        head += "\nthe run is halted: show the user the halt report and wait for their decision"
    outcome.text = f"{head}\n\n{outcome.text}"
    outcome.data["opened"] = "resumed"
    return outcome


def _choose_run(active: list[dict]) -> Question:
    lines = [f"{len(active)} runs are active; ask the user which one to resume:"]
    for a in active:
        lines.append(f"  {a.get('run_id')}  {a.get('plan')}  {str(a.get('state')).replace('_', ' ')}, "
                     f"batch {a.get('batch')} of {a.get('batches')}")
    return Question("\n".join(lines), {"opened": "choose-run", "runs": active},
                    f"ask the user which run, then {CLI} open --run ID")


def _choose_plan(project: Path) -> Question:
    from clavain.plan.discover import PLACES, find_plans, summarize

    candidates = find_plans(project)
    found = [summarize(project, path, mtime) for path, mtime in candidates[:LISTED]]
    plans = [f for f in found if f.problem is None]
    others = [f for f in found if f.problem is not None]
    where = ", ".join(PLACES)
    if not candidates:
        return Question(f"no active run, and no plan found in {project} ({where})",
                        {"opened": "choose-plan", "plans": [], "not_plans": [], "older": 0},
                        f"ask the user for the plan to run, then {CLI} open <plan>")
    lines = [f"no active run. Plans in {project}, newest first:"]
    for n, f in enumerate(plans, 1):
        checked = f", {f.checked} checked done" if f.checked else ""
        lines.append(f"  {n}. {f.path}  {f.title}  ({f.tasks} task{'s' if f.tasks != 1 else ''}{checked}; "
                     f"{f.format}; modified {_when(f.modified)})")
    if not plans:
        lines.append("  (none that can run)")
    if others:
        lines.append(f"not runnable as they stand ({CLI.replace(' run', '')} plan validate FILE says why):")
        lines += [f"  {f.problem}" for f in others]
    older = len(candidates) - len(found)
    if older:
        lines.append(f"{older} older file(s) in those places are not listed")
    lines.append("Ask the user which plan to run.")
    return Question("\n".join(lines),
                    {"opened": "choose-plan", "plans": [f.as_json() for f in plans],
                     "not_plans": [f.as_json() for f in others], "older": older},
                    f"ask the user which plan to run, then {CLI} open <plan>")


def _when(mtime: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(mtime))
