"""The plan reader: a markdown plan (and its ``<plan>.exec.yaml`` manifest) -> ``clavain.model.Plan``.

Formats, tried in this order (the first that finds tasks wins):

1. ``gsd``: ``<task type="...">`` elements (GSD ``PLAN.md``)             -> ``clavain.plan.gsd``
2. ``superpowers``: ``## Task N: title`` / ``### Task N: title`` headings  -> ``clavain.plan.headings``
3. ``speckit``: ``- [ ] T001 [P] [US1] description`` lines (``tasks.md``) -> ``clavain.plan.speckit``
4. ``numbered``: ``### 1. Title`` under Changes / Implementation / Tasks, or ``## Step N`` headings
5. ``manifest``: a ``<plan>.exec.yaml`` beside the plan orders the tasks  -> ``clavain.plan.manifest``

Nothing inside a code fence is structure. The reader refuses (``BadInput`` with ``path:line`` and the next
command) only what makes execution ambiguous or impossible: no tasks, a dependency on an unknown or later
task, a dependency cycle, unclosed frontmatter, an unclosed fence or comment that hides a task. Everything
else is read leniently and leaves a ``path:line`` warning in ``Plan.warnings``; no task is dropped without
one. Nothing but ``BadInput`` escapes, whatever the bytes. Ids as written; the same id on several tasks
gets unique names (``T010``, ``T010-2``, ...) and a warning, and a gap in the plan's numbering (1, 2, 4)
is a warning.

Checkpoints (a batch never crosses one): a ``<!-- checkpoint -->`` line, a spec-kit ``**Checkpoint**``
line, a GSD ``checkpoint:*`` task, a manifest stage boundary, a plan's own ``## Batch N`` heading, and a
change of the headings that group the tasks (``## F1: ...``, ``## Phase N``).
"""

from __future__ import annotations

import contextlib
import gc
import re
from pathlib import Path

from clavain.core.errors import BadInput
from clavain.plan.source import Source, is_constraints, is_must_haves, load_source
from clavain.plan.textfile import MAX_BYTES, read_text  # noqa: F401  (read_text is the reader's too)


_CHECKPOINT_LINE = re.compile(r"\s*<!--\s*checkpoint\b.*-->\s*$", re.IGNORECASE)
_OBJECTIVE = re.compile(r"^<objective>\s*\n?(.*?)</objective>", re.MULTILINE | re.DOTALL)
_BULLET = re.compile(r"[-*+]\s+(.*)$")
_TASK_FIELDS = ("id", "title", "line", "end_line", "files", "file_roles", "steps", "verify", "depends",
                "parallel", "done", "kind", "ask_user", "section", "text", "text_sha256")

SHAPES = ("`## Task N: title` or `### Task N: title` headings (superpowers / Clavain), "
          "`- [ ] T001 description` lines (spec-kit tasks.md), `<task type=\"auto\">` elements (GSD PLAN.md), "
          "`### 1. Title` under a Changes / Implementation / Tasks heading or `## Step N` headings (numbered), "
          "or a `<plan>.exec.yaml` manifest beside the plan")


def read_plan(path: Path, text: str | None = None):
    """Read the plan file (and the manifest beside it, if any) into a ``Plan``. ``text``: the plan's text when
    the caller has already read the file."""
    from clavain.plan.manifest import manifest_for

    path = Path(path)
    if text is None:
        text = read_text(path)
    manifest = manifest_for(path)
    if manifest is None:
        return parse_plan_text(text, str(path))
    return parse_plan_text(text, str(path), manifest_text=read_text(manifest), manifest_path=str(manifest))


def parse_plan_text(text: str, path: str, *, manifest_text: str | None = None, manifest_path: str | None = None):
    """The same as ``read_plan`` from text; ``manifest_text`` is the companion manifest's content, if any."""
    with collector_paused():
        return _parse(text, path, manifest_text, manifest_path)


@contextlib.contextmanager
def collector_paused():
    """Reading allocates many small objects and keeps them all; pausing the cyclic garbage collector for
    the duration keeps the cost linear in the plan's size (it is switched back on if it was on). Switched back
    on, its next collection would walk every object the read made, all still in the youngest generation: a pass
    over the whole plan once more, the slower per object the longer the plan (the objects no longer fit the
    processor's caches). They are moved to the oldest generation first (``gc.freeze`` then ``gc.unfreeze``), which
    is where objects that live as long end up anyway, collected with it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _parse(text: str, path: str, manifest_text: str | None, manifest_path: str | None):
    from clavain.plan import deps as plan_deps
    from clavain.plan import gsd as plan_gsd
    from clavain.plan import headings as plan_headings
    from clavain.plan import tasknames

    source = load_source(text, path)
    checkpoints: list[str] = []
    gsd = plan_gsd.find(source)
    if gsd:
        fmt, (tasks, checkpoints) = "gsd", plan_gsd.tasks(source, gsd)
    elif found := plan_headings.superpowers_headings(source):
        fmt, tasks = "superpowers", plan_headings.heading_tasks(source, found)
    elif found := _speckit().find(source):
        fmt, (tasks, checkpoints) = "speckit", _speckit().tasks(source, found)
    elif found := plan_headings.numbered_headings(source):
        fmt, tasks = "numbered", plan_headings.heading_tasks(source, found)
    else:
        fmt, tasks = None, []
    tasknames.numbering_gaps(source, tasks)
    tasknames.unique_ids(source, tasks)
    checkpoints += (plan_headings.marked_checkpoints(source, tasks, _CHECKPOINT_LINE, "<!--")
                    + plan_headings.batch_boundaries(source, tasks))
    frontmatter = dict(source.frontmatter)
    if manifest_text is not None:
        from clavain.plan.manifest import apply

        plan_deps.check(tasks, path)
        applied = apply(manifest_text, manifest_path or path + ".exec.yaml", path, tasks, source.warnings)
        manifest_text = None if applied is None else manifest_text
    if manifest_text is not None:
        tasks, stage_ends, settings = applied
        checkpoints += stage_ends
        frontmatter.setdefault("exec", settings)
        fmt = "manifest"
    else:
        checkpoints += plan_headings.group_boundaries(source, tasks)
    if not tasks:
        raise source.error("no tasks found; looked for " + SHAPES, 1,
                           f"write tasks in one of those shapes, then: clavain-cli plan validate {path}")
    plan_deps.check(tasks, path)
    order = {task["id"]: n for n, task in enumerate(tasks)}
    checkpoints = sorted(set(c for c in checkpoints if c in order), key=order.__getitem__)
    if fmt in ("superpowers", "numbered", "speckit"):
        _stray_verify_blocks(source, tasks)
    return _build(source, fmt, tasks, checkpoints, frontmatter)


def _speckit():
    """``clavain.plan.speckit``, imported only when the plan has no GSD tasks or task headings."""
    from clavain.plan import speckit

    return speckit


def _stray_verify_blocks(source: Source, tasks: list[dict]) -> None:
    """``<verify>`` blocks outside every task are reported: nothing runs them."""
    import bisect

    from clavain.plan.verify import OPEN

    starts = [t["line"] for t in tasks]
    ends = [t["end_line"] for t in tasks]
    for line, text in source.rows:
        if "<verify" in text and OPEN.match(text):
            index = bisect.bisect_right(starts, line) - 1
            if index < 0 or line > ends[index]:
                source.warn(line, "`<verify>` block outside any task; nothing will run it (move it into the task it "
                                  "checks)")


def _build(source: Source, fmt: str, tasks: list[dict], checkpoints: list[str], frontmatter: dict):
    """The ``Plan``. Takes ``tasks`` over: each task's read form is let go as its model is made (a long plan's
    memory then stays near one copy of its tasks, and the models are made in memory just freed)."""
    from pydantic_core import ValidationError

    from clavain.core.digest import plan_digest
    from clavain.plan.model import Plan, Task
    from clavain.plan.schema import validate

    must_haves = _must_haves(source)
    models = []
    for position, task in enumerate(tasks):
        tasks[position] = None
        fields = {k: task[k] for k in _TASK_FIELDS if k in task}
        fields["depends"] = list(dict.fromkeys(dep for dep, _, _ in task["depends"]))
        try:
            models.append(validate(Task, fields))
        except ValidationError as exc:
            raise source.error(f"task {task['id']} is malformed: " + validation_summary(exc), task["line"]) from None
    return Plan(path=source.path, title=_title(source), bead=_bead(source), format=fmt,
                sha256=plan_digest(source.text), frontmatter=frontmatter, must_haves=must_haves,
                constraints=_constraints(source), tasks=models, checkpoints_after=checkpoints,
                warnings=list(dict.fromkeys(source.warnings)))


def _must_haves(source: Source):
    """Must-Haves from markdown and frontmatter; an item the model cannot hold goes to the checklist."""
    from pydantic_core import ValidationError

    from clavain.plan.model import Artifact, KeyLink, MustHaves

    if source.frontmatter.get("must_haves") is None and not any(map(is_must_haves, source.headings)):
        return MustHaves()      # nothing to read (the grammar's many patterns are compiled only when there is)
    from clavain.plan.musthaves import from_frontmatter, from_markdown
    from clavain.plan.schema import validate

    read = [from_markdown(source), from_frontmatter(source)]
    kept: dict = {"truths": [], "artifacts": [], "key_links": [], "checklist": []}
    for part in read:
        kept["truths"] += part["truths"]
        kept["checklist"] += part["checklist"]
        for key, model in (("artifacts", Artifact), ("key_links", KeyLink)):
            for item in part[key]:
                try:
                    kept[key].append(validate(model, item))
                except ValidationError as exc:
                    source.warn(item.get("line") or 1, f"must-have {key[:-1].replace('_', ' ')} "
                                                       f"{item.get('path') or item.get('from')!r} is malformed "
                                                       f"({validation_summary(exc)}); it is on the checklist for the user")
                    kept["checklist"].append(", ".join(f"{k}: {v}" for k, v in item.items() if k != "line"))
    return MustHaves(**kept)


def validation_summary(exc) -> str:
    """One line from a pydantic ValidationError: ``where: what`` for the first few problems."""
    parts = [f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()[:3]]
    return "; ".join(parts)


def _title(source: Source) -> str:
    for heading in source.headings:
        if heading.level == 1 and heading.text:
            return heading.text
    title = source.frontmatter.get("title")
    if isinstance(title, (str, int, float)) and str(title).strip():
        return str(title).strip()
    objective = _OBJECTIVE.search(source.text)          # GSD plans have no H1; their objective says what they do
    if objective and objective.group(1).strip():
        return objective.group(1).strip().split("\n")[0].strip()
    return Path(source.path).stem or source.path


def _bead(source: Source) -> str | None:
    """The plan's bead, read exactly as ``clavain-cli infer-bead`` reads it (placeholders are no bead)."""
    from clavain.plan.bead import bead_ids_in

    found, _ = bead_ids_in(source.text, Path(source.path))
    return found[0][0] if found else None


def _constraints(source: Source) -> list[str]:
    found = []
    for position, heading in enumerate(source.headings):
        if is_constraints(heading.text):
            stop = source.headings[position + 1].line - 1 if position + 1 < len(source.headings) else len(source.lines)
            for _, line in source.visible(heading.line + 1, stop):
                match = _BULLET.match(line)
                if match and match.group(1).strip():
                    found.append(match.group(1).strip())
    return found
