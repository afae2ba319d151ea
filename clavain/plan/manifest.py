"""The companion manifest ``<plan>.exec.yaml``: stages of tasks, their files and dependencies.

Shape (Clavain's)::

    version: 1
    mode: dependency-driven      # all-parallel | all-sequential | dependency-driven | manual-batching
    tier: deep                   # optional: tier, max_parallel, timeout_per_task
    stages:
      - name: Foundation
        tasks:
          - id: task-1           # matches `Task 1` of the plan ("task-" prefix optional)
            title: Scaffold types
            files: [pkg/types.go]
            depends: []          # ids of earlier tasks

The manifest decides the order (stage by stage). Every stage boundary is a checkpoint. Within a stage
tasks may run in parallel unless the mode is ``all-sequential`` (a task never joins a parallel group
with a task it depends on). When the plan itself has tasks, each manifest task names one of them; the plan
supplies steps and ``<verify>`` entries.

Forgiving, never silent (each with a ``path:line`` warning): unknown keys are left out; an unknown mode reads
as ``all-sequential``; a stage or task entry of the wrong shape is left out; a manifest task the plan does
not have is read from the manifest alone; a plan task the manifest leaves out runs after the last stage; a
manifest that cannot be read at all is ignored and the plan's own order counts. Refused: a manifest that
cannot be read when the plan has no tasks of its own, and dependencies on unknown tasks (``deps``).
"""

from __future__ import annotations

import re
from pathlib import Path

from clavain.core.digest import sha256_hex
from clavain.core.errors import BadInput

MODES = ("all-parallel", "all-sequential", "dependency-driven", "manual-batching")
_TOP_KEYS = {"version", "mode", "tier", "max_parallel", "timeout_per_task", "stages"}
_STAGE_KEYS = {"name", "tasks"}
_TASK_KEYS = {"id", "title", "files", "depends", "tier", "prompt_file"}


def manifest_for(plan_path: Path) -> Path | None:
    name = plan_path.name
    stem = name[:-3] if name.endswith(".md") else name
    for candidate in (plan_path.with_name(stem + ".exec.yaml"), plan_path.with_name(name + ".exec.yaml")):
        if candidate.is_file():
            return candidate
    return None


def key(task_id: str) -> str:
    """``task-3`` and ``3`` name the same task."""
    return re.sub(r"^task[-_ ]?", "", task_id.strip().lower())


class _Manifest:
    def __init__(self, text: str, path: str, plan_path: str, warnings: list[str]) -> None:
        from clavain.plan.yamlfile import load_mapping

        self.path, self.plan_path, self.lines, self.warnings = path, plan_path, text.split("\n"), warnings
        self.data = load_mapping(text, path, what="manifest")

    def error(self, message: str, line: int) -> BadInput:
        return BadInput(message, path=self.path, line=line,
                        next_command=f"fix the manifest, then: clavain-cli plan validate {self.plan_path}")

    def warn(self, line: int, text: str) -> None:
        self.warnings.append(f"{self.path}:{line}: {text}")

    def line_of(self, pattern: str, start: int = 1) -> int:
        regex = re.compile(pattern)
        for number in range(start, len(self.lines) + 1):
            if regex.search(self.lines[number - 1]):
                return number
        return 1


def apply(text: str, path: str, plan_path: str, plan_tasks: list[dict],
          warnings: list[str]) -> tuple[list[dict], list[str], dict] | None:
    """Tasks in manifest order, the ids that end a stage, and the manifest's top-level settings; None when the
    manifest cannot be used and the plan's own tasks count (a warning says why)."""
    try:
        manifest = _Manifest(text, path, plan_path, warnings)
        return _apply(manifest, plan_tasks)
    except BadInput as exc:
        if not plan_tasks:
            raise
        warnings.append(f"{exc.location()}: {exc.message}; the manifest is ignored and the plan's order counts")
        return None


def _apply(manifest: _Manifest, plan_tasks: list[dict]) -> tuple[list[dict], list[str], dict]:
    data = manifest.data
    _keys(manifest, data, _TOP_KEYS, "the manifest", 1)
    mode = data.get("mode", "all-sequential")
    if mode not in MODES:
        manifest.warn(manifest.line_of(r"^mode:"), f"unknown mode {mode!r} read as all-sequential; modes: "
                                                     + ", ".join(MODES))
        mode = "all-sequential"
    stages = data.get("stages")
    if not isinstance(stages, list) or not stages:
        raise manifest.error("`stages` must be a non-empty list of {name, tasks}", manifest.line_of(r"^stages:"))
    by_key = {key(t["id"]): t for t in plan_tasks}
    ids: dict[str, str] = {}
    ordered: list[dict] = []
    boundaries: list[str] = []
    mline = 1
    for number, stage in enumerate(stages, 1):
        stage_line = manifest.line_of(r"^\s*-\s*name:|^\s*-\s*tasks:", mline)
        if not isinstance(stage, dict) or not isinstance(stage.get("tasks"), list) or not stage["tasks"]:
            manifest.warn(stage_line, f"stage {number} is not a mapping with a non-empty `tasks` list; left out")
            continue
        _keys(manifest, stage, _STAGE_KEYS, f"stage {number}", stage_line)
        before = len(ordered)
        for entry in stage["tasks"]:
            task = _task(manifest, entry, by_key, stage, mode, mline)
            if task is None:
                continue
            mline = task["_mline"] + 1
            if key(task["id"]) in ids:
                manifest.warn(task["_mline"], f"task {entry.get('id')!r} appears twice in the manifest; the second is "
                                              "left out")
                continue
            ids[key(task["id"])] = task["id"]
            ordered.append(task)
        if len(ordered) > before:
            boundaries.append(ordered[-1]["id"])
    missing = [t for t in plan_tasks if key(t["id"]) not in ids]
    if missing:
        warnings_line = missing[0]["line"]
        manifest.warnings.append(
            f"{manifest.plan_path}:{warnings_line}: task(s) {', '.join(t['id'] for t in missing)} of the plan are not in "
            f"the manifest {manifest.path}; they run after its last stage")
        for plan_task in missing:
            task = dict(plan_task, section="(not in the manifest)", parallel=False, _deps=[], _mline=1)
            ids[key(task["id"])] = task["id"]
            ordered.append(task)
        boundaries.append(ordered[-1]["id"])
    for task in ordered:
        extra = [(ids.get(key(dep), dep), manifest.path, task["_mline"]) for dep in task.pop("_deps")]
        task["depends"] = [*task.get("depends", []), *[d for d in extra if d[0] not in {x[0] for x in task.get("depends", [])}]]
        task.pop("_mline")
    settings = {k: v for k, v in data.items() if k != "stages"}
    return ordered, boundaries[:-1], settings


def _keys(manifest: _Manifest, data: dict, allowed: set[str], what: str, line: int) -> None:
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        manifest.warn(line, f"{what} has unknown keys {unknown}, left out; known: {', '.join(sorted(allowed))}")


def _task(manifest: _Manifest, entry, by_key: dict, stage: dict, mode: str, start: int) -> dict | None:
    if not isinstance(entry, dict) or entry.get("id") in (None, ""):
        manifest.warn(manifest.line_of(r"^\s*-\s*", start), "a stage task without an `id` (e.g. task-1) is left out")
        return None
    task_id = str(entry["id"])
    line = manifest.line_of(rf"id:\s*['\"]?{re.escape(task_id)}['\"]?\s*(#.*)?$", start)
    _keys(manifest, entry, _TASK_KEYS, f"task {task_id}", line)
    files, deps = entry.get("files") or [], entry.get("depends") or []
    if not isinstance(files, list) or not isinstance(deps, list):
        manifest.warn(line, f"task {task_id}: `files` and `depends` must be lists; left out")
        files, deps = ([] if not isinstance(files, list) else files), ([] if not isinstance(deps, list) else deps)
    plan_task = by_key.get(key(task_id))
    if by_key and plan_task is None:
        manifest.warn(line, f"manifest task {task_id!r} has no `Task {key(task_id)}` in the plan; it is read from the "
                            "manifest alone")
    if plan_task is not None:
        task = dict(plan_task)
    else:
        task = {"id": task_id, "title": str(entry.get("title") or task_id), "line": line, "end_line": line,
                "file_roles": {}, "steps": [], "verify": [], "done": False, "files": [], "depends": [],
                "text": "", "text_sha256": sha256_hex(repr(sorted(entry.items(), key=str)).encode()),
                "id_path": manifest.path}
    task["files"] = list(dict.fromkeys([*task["files"], *map(str, files)]))
    task["section"] = str(stage.get("name")) if stage.get("name") is not None else None
    task["parallel"] = mode != "all-sequential"
    task["_deps"] = [str(d) for d in deps]
    task["_mline"] = line
    return task
