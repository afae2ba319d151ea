"""Pydantic's validator of the plan's models, without pydantic's model classes (``clavain.plan.schema``): the core
schema made from the declarations is the one pydantic builds for the same models (each model as the typed dict it
validates to), and ``validate`` gives what pydantic's model gives, data or errors, for the same input."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from clavain.core.model import Field, Model
from clavain.plan import model as plan_model
from clavain.plan.schema import core_schema, pydantic_model, validate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal, Optional

PLAN_MODELS = [cls for _, cls in inspect.getmembers(plan_model, inspect.isclass)
               if issubclass(cls, Model) and cls.__module__ == plan_model.__name__ and cls.__fields__]


# A model of this module's own, with what the plan's models do not use: fields left out of dumps at their default,
# nested and in lists, a float, an inline Literal, a bare dict and list, an Optional list.
class Inner(Model):
    a: int
    note: Optional[str] = Field(omit_default=True)


class Outer(Model):
    items: list[Inner] = Field(default_factory=list)
    one: Optional[Inner] = None
    tag: Optional[str] = Field(omit_default=True)
    seen: list[str] = Field(default_factory=list, omit_default=True)
    when: float = 0.0
    kind: Literal["x", "y"] = "x"
    extra: dict = Field(default_factory=dict)
    anything: list = Field(default_factory=list)
    maybe: Optional[list[int]] = None


def as_typed_dicts(schema, definitions=None):
    """Pydantic's core schema with each model as the typed dict it validates to, a model used twice (a definition
    and its references) written out where it is used, and what only serialization or JSON schemas read left out."""
    definitions = {} if definitions is None else definitions
    if isinstance(schema, list):
        return [as_typed_dicts(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "definitions":
        definitions = {**definitions, **{d["ref"]: d for d in schema["definitions"]}}
        return as_typed_dicts(schema["schema"], definitions)
    if schema.get("type") == "definition-ref":
        return as_typed_dicts(definitions[schema["schema_ref"]], definitions)
    if schema.get("type") != "model":
        return {key: as_typed_dicts(value, definitions) for key, value in schema.items()
                if key not in ("metadata", "ref")}
    inner, config = schema["schema"], schema["config"]
    assert inner["type"] == "model-fields" and not inner["computed_fields"], inner
    fields = {}
    for name, field in inner["fields"].items():
        assert set(field) <= {"type", "schema", "metadata", "validation_alias", "serialization_alias",
                              "serialization_exclude_if"}, field
        fields[name] = {"type": "typed-dict-field", "schema": as_typed_dicts(field["schema"], definitions),
                        "required": field["schema"]["type"] != "default",
                        **({"validation_alias": field["validation_alias"]} if "validation_alias" in field else {})}
    return {"type": "typed-dict", "fields": fields, "extra_behavior": config["extra_fields_behavior"],
            "config": {key: config[key] for key in ("extra_fields_behavior", "validate_by_alias", "validate_by_name")}}


@pytest.mark.parametrize("cls", [*PLAN_MODELS, Inner, Outer], ids=lambda cls: cls.__name__)
def test_the_core_schema_is_the_one_pydantic_builds(cls):
    assert core_schema(cls) == as_typed_dicts(pydantic_model(cls).__pydantic_core_schema__)


def by_pydantic(cls, data):
    """What ``validate`` gave before it ran without pydantic's model classes: the model, or the errors. The one
    difference: where a model is expected, something that is no mapping is "no valid dictionary" to a typed dict,
    "no valid dictionary or instance of Step" to a model class (the reader gives every model a mapping)."""
    try:
        return cls.trusted(pydantic_model(cls).model_validate(data).model_dump()).model_dump_json()
    except ValidationError as exc:
        return [("dict_type", e["loc"], "Input should be a valid dictionary") if e["type"] == "model_type" else
                (e["type"], e["loc"], e["msg"]) for e in exc.errors()]


def by_validate(cls, data):
    try:
        return validate(cls, data).model_dump_json()
    except ValidationError as exc:   # pydantic's ValidationError is pydantic_core's
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]


TASK = {"id": "3", "title": "Build it", "line": 10, "end_line": 20}
CASES = [
    (plan_model.Task, TASK),
    (plan_model.Task, {**TASK, "files": ["a.py"], "file_roles": {"a.py": "Create"}, "depends": ["1", "2"],
                       "steps": [{"number": "1", "text": "do", "line": 11, "done": True}],
                       "verify": [{"run": "pytest", "line": 12}, {"run": "x", "expect_exit": None,
                                                                  "expect_contains": "ok", "line": 13}],
                       "parallel": True, "done": True, "kind": "checkpoint:human-verify", "ask_user": "look",
                       "section": "Phase 1", "text": "### Task 3", "text_sha256": "ab"}),
    (plan_model.Task, {**TASK, "line": "12", "done": "yes", "parallel": 1}),             # lax: as pydantic reads them
    (plan_model.Task, {"id": 3, "title": None, "line": "x"}),                           # wrong types, missing fields
    (plan_model.Task, {**TASK, "steps": [{"text": "do"}], "verify": [{"run": 5, "line": 1, "extra": 1}]}),
    (plan_model.Task, {**TASK, "files": "a.py", "file_roles": {"a.py": 1}, "surprise": True}),
    (plan_model.Artifact, {"path": "src/a.py", "exports": ["f", "g"], "min_lines": 3, "line": 4}),
    (plan_model.Artifact, {"path": ["x"], "min_lines": "many"}),
    (plan_model.KeyLink, {"from": "a.py", "to": "b.py", "via": "import", "pattern": "import b"}),
    (plan_model.KeyLink, {"from_": "a.py", "to": "b.py"}),
    (plan_model.KeyLink, {"to": "b.py", "line": 2.5}),
    (plan_model.Plan, {"path": "p.md", "title": "P", "format": "gsd", "sha256": "x", "tasks": [TASK],
                       "must_haves": {"truths": ["t"], "key_links": [{"from": "a", "to": "b"}]},
                       "frontmatter": {"bead": "x-1", 3: [1, 2]}}),
    (plan_model.Plan, {"path": "p.md", "title": "P", "format": "markdown", "sha256": "x", "tasks": [{}]}),
    (plan_model.Batch, {"index": 1, "tasks": ["1", "2"], "groups": [["1"], ["2"]]}),
    (Outer, {}),
    (Outer, {"items": [{"a": 1}, {"a": 2, "note": "n"}], "one": {"a": 3}, "tag": None, "when": 2, "kind": "y",
             "extra": {"k": [1]}, "anything": [1, "a"], "maybe": [1]}),
    (Outer, {"items": [{"a": "x"}], "kind": "z", "when": "soon", "maybe": ["a"], "one": {"b": 1}}),
]


@pytest.mark.parametrize("cls,data", CASES, ids=[f"{cls.__name__}-{n}" for n, (cls, _) in enumerate(CASES)])
def test_validate_gives_what_pydantic_gives(cls, data):
    assert by_validate(cls, data) == by_pydantic(cls, data)


def test_the_cases_hold_both_outcomes():
    """Not vacuous: the table holds valid data and refused data, for the plan's tasks and for the nested models."""
    outcomes = [isinstance(by_validate(cls, data), str) for cls, data in CASES]
    assert outcomes.count(True) >= 6 and outcomes.count(False) >= 6


VALUE = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3) | st.lists(st.text(max_size=2), max_size=2)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from([*plan_model.Task.__fields__, "extra"]), VALUE, max_size=8),
       st.lists(st.dictionaries(st.sampled_from(["run", "line", "expect_exit", "x"]), VALUE, max_size=3), max_size=2))
def test_any_task_data_gets_what_pydantic_gives(fields, verify):
    data = {**TASK, **fields, **({"verify": verify} if verify else {})}
    assert by_validate(plan_model.Task, data) == by_pydantic(plan_model.Task, data)
