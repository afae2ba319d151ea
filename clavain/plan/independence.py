"""Whether two plans say they are independent, so that their runs may go on at the same time. Pure.

A plan says it in its frontmatter, in one of two ways:

- ``independent_of: [docs/plans/other.md]`` (a path, or a list of them): the plans named there do not touch
  what this plan touches. A path is read relative to the plan's own folder, else to the project. One side
  saying it is enough: the author of the plan that names the other has looked at both.
- GSD ``PLAN.md`` files of one phase in the same ``wave``, neither naming the other in ``depends_on``:
  GSD runs the plans of a wave in parallel by design.

Anything else is not a statement of independence; the caller then asks the user (``--alongside``).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

KEY = "independent_of"
_GSD_STEM = re.compile(r"^(\d+(?:\.\d+)?)-(\d+)-PLAN$", re.IGNORECASE)
_PHASE_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)")


def independent(project: Path, a_path: Path, a_plan, b_path: Path, b_plan) -> str:
    """Why the two plans may run at the same time, in words; ``""`` when neither says so."""
    for this, this_plan, other in ((a_path, a_plan, b_path), (b_path, b_plan, a_path)):
        if _names(project, this, this_plan.frontmatter.get(KEY), other):
            return f"{_shown(project, this)} says `{KEY}: {_shown(project, other)}`"
    return _same_gsd_wave(project, a_path, a_plan, b_path, b_plan)


def _shown(project: Path, path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(project).resolve()).as_posix()
    except ValueError:
        return str(path)


def _names(project: Path, plan_path: Path, value, other: Path) -> bool:
    entries = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    target = Path(other).resolve()
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            continue
        for base in (Path(plan_path).resolve().parent, Path(project).resolve()):
            if (base / entry.strip()).resolve() == target:
                return True
    return False


def _gsd_ids(path: Path, front: dict) -> set[str]:
    """The names other GSD plans use for this one in ``depends_on`` (``01-02``), from the file name and the
    frontmatter's ``phase`` and ``plan``."""
    ids = set()
    stem = _GSD_STEM.match(PurePosixPath(Path(path).name).stem)
    if stem:
        ids.add(f"{stem.group(1)}-{int(stem.group(2)):02d}")
    phase = _PHASE_NUMBER.match(str(front.get("phase", "")))
    plan = front.get("plan")
    if phase and plan is not None and str(plan).strip().isdigit():
        ids.add(f"{phase.group(1)}-{int(str(plan).strip()):02d}")
    return ids


def _depends(front: dict) -> set[str]:
    value = front.get("depends_on")
    return {str(v).strip() for v in value} if isinstance(value, list) else set()


def _same_gsd_wave(project: Path, a_path: Path, a_plan, b_path: Path, b_plan) -> str:
    if a_plan.format != "gsd" or b_plan.format != "gsd":
        return ""
    a, b = a_plan.frontmatter, b_plan.frontmatter
    wave, phase = a.get("wave"), a.get("phase")
    if not isinstance(wave, int) or isinstance(wave, bool) or phase in (None, ""):
        return ""
    if b.get("wave") != wave or str(b.get("phase")) != str(phase):
        return ""
    if _depends(a) & _gsd_ids(b_path, b) or _depends(b) & _gsd_ids(a_path, a):
        return ""
    return (f"{_shown(project, a_path)} and {_shown(project, b_path)} are GSD plans of phase {phase}, wave {wave}, "
            f"and neither depends on the other")
