"""The one Plan model every plan format is read into, and the batches made from it.

Produced by ``clavain.plan.read_plan`` (the reader) and ``clavain.batching.make_batches``; read by the
gate, the run and the reports. Pure data: no I/O here.

Plain models (``clavain.core.model``): the reader validates what it reads from the plan, its frontmatter and its
manifest with pydantic's validator, from core schemas made from these declarations (``clavain.plan.schema``); a run
keeps the plan it read, and its later commands use it without importing pydantic (``clavain.run.folder``,
``plan.json``).
"""

from __future__ import annotations

from clavain.core.model import Field, Model

TYPE_CHECKING = False   # not ``typing``'s
if TYPE_CHECKING:
    from typing import Optional

# The values of the annotations below that name a set of words (``clavain.plan.schema`` makes them Literal types).
LITERALS = {"PlanFormat": ("superpowers", "speckit", "gsd", "manifest", "numbered")}


class Strict(Model):
    """A model of a plan (unknown fields are refused, as pydantic's ``extra="forbid"``)."""


class VerifyEntry(Strict):
    """One ``- run: `cmd``` entry of a ``<verify>`` block with its expectation."""

    run: str
    expect_exit: Optional[int] = 0          # None: any exit code is fine (only ``contains`` is checked)
    expect_contains: Optional[str] = None   # text the combined output must contain
    expect_prose: Optional[str] = None      # an expectation in words ("PASS"): the user and the model judge the output
    line: int                               # 1-based line of the ``run:`` entry in the plan


class Step(Strict):
    number: Optional[str] = None            # "1" for ``**Step 1: ...**``; None for an unnumbered step
    text: str
    line: int
    done: bool = False                      # ``- [x]`` in the plan


class Task(Strict):
    id: str                                 # as written: "3", "10a", "2.1", "T004"
    title: str
    line: int                               # 1-based line of the task's heading / entry
    end_line: int                           # last line that belongs to the task
    files: list[str] = Field(default_factory=list)
    file_roles: dict[str, str] = Field(default_factory=dict)   # path -> Create / Modify / Test / Read ...
    steps: list[Step] = Field(default_factory=list)
    verify: list[VerifyEntry] = Field(default_factory=list)
    depends: list[str] = Field(default_factory=list)           # ids of tasks this one needs first
    parallel: bool = False                  # marked independent ([P], manifest parallel stage, GSD wave)
    done: bool = False                      # already checked off in the plan ([X])
    kind: str = "auto"                      # GSD: "auto" or "checkpoint:human-verify" ...
    ask_user: Optional[str] = None          # a GSD checkpoint task: what the user is asked to do (the user's task)
    section: Optional[str] = None           # enclosing Phase / Batch heading, if any
    text: str = ""                          # the task's own lines in the plan, as written (its brief carries them)
    text_sha256: str = ""                   # sha256 of the task's own source text (replan keeps unchanged tasks)


class Artifact(Strict):
    path: str
    provides: Optional[str] = None
    exports: list[str] = Field(default_factory=list)
    contains: Optional[str] = None
    min_lines: Optional[int] = None
    line: Optional[int] = None


class KeyLink(Strict):
    from_: str = Field(alias="from")
    to: str
    via: Optional[str] = None
    pattern: Optional[str] = None
    line: Optional[int] = None


class MustHaves(Strict):
    truths: list[str] = Field(default_factory=list)
    artifacts: list[Artifact] = Field(default_factory=list)
    key_links: list[KeyLink] = Field(default_factory=list)
    checklist: list[str] = Field(default_factory=list)   # written so no machine can check them: the user does


class Plan(Strict):
    path: str
    title: str
    bead: Optional[str] = None
    format: PlanFormat
    sha256: str                             # plan_digest of the text read
    frontmatter: dict = Field(default_factory=dict)
    must_haves: MustHaves = Field(default_factory=MustHaves)
    constraints: list[str] = Field(default_factory=list)      # Global Constraints, one entry per bullet
    tasks: list[Task]
    checkpoints_after: list[str] = Field(default_factory=list)  # task ids followed by an explicit checkpoint
    warnings: list[str] = Field(default_factory=list)          # "path:line: text" for things read leniently

    def task(self, task_id: str) -> Task:
        position = getattr(self.tasks, "position", None)   # a plan a run kept: its tasks in parts
        if position is not None:
            return self.tasks[position(task_id)]
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)


class Batch(Strict):
    index: int                              # 1-based
    tasks: list[str]                        # task ids in plan order
    groups: list[list[str]]                 # consecutive runs of tasks; a group of 2+ may run in parallel
