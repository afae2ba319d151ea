"""The plans a project holds, where the usual tools write them, newest first.

    docs/plans/**/*.md, docs/superpowers/plans/**/*.md   superpowers, Clavain
    specs/*/tasks.md                                     spec-kit
    .planning/**/*PLAN.md                                GSD (``PLAN.md``, ``01-02-PLAN.md``)

``find_plans`` only lists files (by modification time, newest first); ``summarize`` reads one into a
``Found``: its task count, or why it is not a plan it can run (a design note with no tasks, a malformed file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from clavain.core.errors import BadInput

PLACES = ("docs/plans/**/*.md", "docs/superpowers/plans/**/*.md", "specs/*/tasks.md", ".planning/**/*PLAN.md")


@dataclass(frozen=True)
class Found:
    path: str                      # relative to the project
    modified: float                # mtime
    title: str = ""
    format: str = ""
    tasks: int = 0
    checked: int = 0               # tasks already marked done in the plan ([x])
    problem: Optional[str] = None  # why it cannot run: "path:line: message"

    def as_json(self) -> dict:
        return {"path": self.path, "modified": self.modified, "title": self.title, "format": self.format,
                "tasks": self.tasks, "checked": self.checked, "problem": self.problem}


def find_plans(project: Path) -> list[tuple[Path, float]]:
    """Every candidate plan file under ``PLACES``, newest first; equal times (a fresh checkout) by path,
    last first, so date-named plans still come newest first."""
    project = Path(project)
    seen: dict[Path, float] = {}
    for pattern in PLACES:
        for path in project.glob(pattern):
            try:
                if path.is_file() and not path.name.startswith("."):
                    seen.setdefault(path, path.stat().st_mtime)
            except OSError:
                continue
    return sorted(seen.items(), key=lambda item: (item[1], item[0].as_posix()), reverse=True)


def summarize(project: Path, path: Path, modified: float) -> Found:
    """One candidate read as a plan; a file that cannot run is kept with its problem, never dropped."""
    from clavain.plan.reader import read_plan

    rel = Path(path).relative_to(project).as_posix()
    try:
        plan = read_plan(path)
    except BadInput as exc:
        where = exc.location().replace(str(path), rel) or rel
        return Found(rel, modified, problem=f"{where}: {_first_clause(exc.message)}")
    return Found(rel, modified, plan.title, plan.format, len(plan.tasks), sum(1 for t in plan.tasks if t.done))


def _first_clause(message: str, limit: int = 100) -> str:
    """A listing shows the first clause of why a file cannot run (``plan validate`` shows it all)."""
    head = message.split("; ", 1)[0]
    return head if len(head) <= limit else head[: limit - 1] + "…"
