"""Taking the project back to where a task started (``run rollback N``), touching only what the run changed.

The paths to take back are those the undone tasks changed, each measured from the task's start to where it
ended (recorded done, or the moment the run came to wait after it failed). A path goes back to its content at
task N's start only when it still holds what the run's last task left there; a path changed since (by the
user, by anyone) is left alone and named. A path already back at its start counts as restored, so a rollback
repeated after a kill finishes the same way.

With a commit per task, HEAD moves back past the undone tasks' commits, and only when nothing but those
commits lies on top of where the first of them started; anything else is named and nothing moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from clavain.core.errors import Refused


@dataclass
class Span:
    """One undone task: where it started and ended (snapshots), and its commit."""

    task: str
    start: str
    end: Optional[str]
    commit: Optional[str] = None


@dataclass
class Back:
    restored: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)       # changed since the run left them: left alone
    commits: list[str] = field(default_factory=list)    # ``<short> <subject>`` of the commits undone
    head: Optional[str] = None                          # HEAD after the rollback (when commits were undone)


def plan_paths(project: Path, spans: Sequence[Span], now: str, plan: Optional[str]) -> tuple[list[str], list[str]]:
    """``(to restore, to leave alone)``: the paths the spans changed, split by whether they still hold what the
    run left there (or are back at the first span's start already)."""
    from clavain.run.snapshot import changed

    base = spans[0].start
    last: dict[str, str] = {}
    for span in spans:
        for path in changed(project, span.start, span.end or now, plan=plan) or []:
            last[path] = span.end or now
    since_base = set(changed(project, base, now) or [])
    moved: dict[str, set[str]] = {}
    restore, keep = [], []
    for path in sorted(last):
        if path not in since_base:
            restore.append(path)        # already as it was at the start
            continue
        end = last[path]
        if end not in moved:
            moved[end] = set(changed(project, end, now) or [])
        (keep if path in moved[end] else restore).append(path)
    return restore, keep


def interrupted(project: Path, spans: Sequence[Span], waited: Optional[str], plan: Optional[str]) -> bool:
    """Whether the project differs from where the run came to wait only in paths the spans changed that are
    back at the first span's start: a rollback killed before its journal line, not a change made meanwhile."""
    from clavain.run.snapshot import changed, take

    now = take(project)
    since = changed(project, waited, now, plan=plan) if waited and now else None
    if not since:
        return False
    ours = {path for span in spans for path in changed(project, span.start, span.end or waited, plan=plan) or []}
    at_start = set(changed(project, spans[0].start, now, plan=plan) or [])
    return all(path in ours and path not in at_start for path in since)


def take_back(project: Path, spans: Sequence[Span], plan: Optional[str], next_command: str) -> Back:
    """Restore the project to the first span's start (see the module docstring); raises ``Refused`` (nothing
    changed) when commits the run did not make lie on top of its own."""
    from clavain.run import commits, snapshot

    now = snapshot.take(project)
    top = snapshot.top(project)
    if now is None or top is None:
        raise Refused("the project is not in a git repository: there is no record of the task's start to go back to",
                      next_command=next_command)
    restore, keep = plan_paths(project, spans, now, plan)
    ours = [s.commit for s in spans if s.commit]
    back = Back(kept=keep)
    base = None
    if ours:
        base = commits.parent(top, ours[0])
        foreign = commits.foreign_on_top(top, ours, base)
        if foreign:
            raise Refused(f"rolling back would also undo commits the run did not make: {'; '.join(foreign[:5])}; "
                          f"nothing was changed. Move those commits aside first (or ask the user how to go on)",
                          next_command=next_command)
        back.commits = [commits.subject(top, sha) for sha in ours]
    snapshot.restore(project, spans[0].start, restore)
    still = set(snapshot.changed(project, spans[0].start, snapshot.take(project), plan=plan) or []) & set(restore)
    back.restored = [p for p in restore if p not in still]
    back.kept = sorted({*keep, *still})         # what could not be put back (a folder in the way) is named too
    if ours:
        committed = sorted({p for s in spans if s.commit for p in commits.paths(top, s.commit)})
        commits.undo(top, base=base, paths=committed)
        back.head = base
    return back

