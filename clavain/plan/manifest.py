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
with a task it depends on). When the plan itself has tasks, each manifest task must name one of them
and each of them must appear in the manifest; the plan supplies steps and ``<verify>`` entries.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

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
    def __init__(self, text: str, path: str, plan_path: str) -> None:
        from clavain.plan.yamlfile import load_mapping

        self.path, self.plan_path, self.lines = path, plan_path, text.split("\n")
        self.data = load_mapping(text, path, what="manifest")

    def error(self, message: str, line: int) -> BadInput:
        return BadInput(message, path=self.path, line=line,
                        next_command=f"fix the manifest, then: clavain-cli plan validate {self.plan_path}")

    def line_of(self, pattern: str, start: int = 1) -> int:
        regex = re.compile(pattern)
        for number in range(start, len(self.lines) + 1):
            if regex.search(self.lines[number - 1]):
                return number
        return 1


def apply(text: str, path: str, plan_path: str, plan_tasks: list[dict]) -> tuple[list[dict], list[str], dict]:
    """Tasks in manifest order, the ids that end a stage, and the manifest's top-level settings."""
    manifest = _Manifest(text, path, plan_path)
    data = manifest.data
    _keys(manifest, data, _TOP_KEYS, "the manifest", 1)
    mode = data.get("mode", "all-sequential")
    if mode not in MODES:
        raise manifest.error(f"unknown mode {mode!r}; use one of {', '.join(MODES)}", manifest.line_of(r"^mode:"))
    stages = data.get("stages")
    if not isinstance(stages, list) or not stages:
        raise manifest.error("`stages` must be a non-empty list of {name, tasks}", manifest.line_of(r"^stages:"))
    by_key = {key(t["id"]): t for t in plan_tasks}
    ids = {}
    ordered, boundaries = [], []
    for number, stage in enumerate(stages, 1):
        stage_line = manifest.line_of(r"^\s*-\s*name:|^\s*-\s*tasks:", 1 if not ordered else ordered[-1]["_mline"])
        if not isinstance(stage, dict) or not isinstance(stage.get("tasks"), list) or not stage["tasks"]:
            raise manifest.error(f"stage {number} must be a mapping with a non-empty `tasks` list", stage_line)
        _keys(manifest, stage, _STAGE_KEYS, f"stage {number}", stage_line)
        for entry in stage["tasks"]:
            task = _task(manifest, entry, by_key, stage, mode, ordered)
            if key(task["id"]) in ids:
                raise manifest.error(f"task {entry.get('id')!r} appears twice in the manifest", task["_mline"])
            ids[key(task["id"])] = task["id"]
            ordered.append(task)
        boundaries.append(ordered[-1]["id"])
    missing = [t for t in plan_tasks if key(t["id"]) not in ids]
    if missing:
        raise BadInput(f"task {missing[0]['id']} is in the plan but not in the manifest {path}; add it to a stage",
                       path=plan_path, line=missing[0]["line"],
                       next_command=f"fix the manifest, then: clavain-cli plan validate {plan_path}")
    for task in ordered:
        extra = [(ids.get(key(dep), dep), manifest.path, task["_mline"]) for dep in task.pop("_deps")]
        task["depends"] = [*task.get("depends", []), *[d for d in extra if d[0] not in {x[0] for x in task.get("depends", [])}]]
        task.pop("_mline")
    settings = {k: v for k, v in data.items() if k != "stages"}
    return ordered, boundaries[:-1], settings


def _keys(manifest: _Manifest, data: dict, allowed: set[str], what: str, line: int) -> None:
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        raise manifest.error(f"{what} has unknown keys {unknown}; allowed: {', '.join(sorted(allowed))}", line)


def _task(manifest: _Manifest, entry, by_key: dict, stage: dict, mode: str, ordered: list[dict]) -> dict:
    start = ordered[-1]["_mline"] + 1 if ordered else 1
    if not isinstance(entry, dict) or entry.get("id") in (None, ""):
        raise manifest.error("each task needs an `id` (e.g. task-1)", manifest.line_of(r"^\s*-\s*", start))
    task_id = str(entry["id"])
    line = manifest.line_of(rf"id:\s*['\"]?{re.escape(task_id)}['\"]?\s*(#.*)?$", start)
    _keys(manifest, entry, _TASK_KEYS, f"task {task_id}", line)
    files, deps = entry.get("files") or [], entry.get("depends") or []
    if not isinstance(files, list) or not isinstance(deps, list):
        raise manifest.error(f"task {task_id}: `files` and `depends` must be lists", line)
    plan_task = by_key.get(key(task_id))
    if by_key and plan_task is None:
        raise manifest.error(f"manifest task {task_id!r} has no `Task {key(task_id)}` in the plan", line)
    if plan_task is not None:
        task = dict(plan_task)
    else:
        task = {"id": task_id, "title": str(entry.get("title") or task_id), "line": line, "end_line": line,
                "file_roles": {}, "steps": [], "verify": [], "done": False, "files": [],
                "text_sha256": hashlib.sha256(repr(sorted(entry.items(), key=str)).encode()).hexdigest()}
    task["files"] = list(dict.fromkeys([*task["files"], *map(str, files)]))
    task["section"] = str(stage.get("name")) if stage.get("name") is not None else None
    task["parallel"] = mode != "all-sequential"
    task["_deps"] = [str(d) for d in deps]
    task["_mline"] = line
    if plan_task is None:
        task["id_path"] = manifest.path
    return task
