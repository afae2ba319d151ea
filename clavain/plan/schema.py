"""Pydantic validation of the plain models' data (``clavain.core.model``): the plan's (``clavain.plan.model``) and
the run state's (``clavain.run.state``).

Pydantic validates what is read from disk and cannot be trusted by a digest: a plan as the reader reads it (its
tasks and Must-Haves, frontmatter and manifest included), a ``run.json`` whose state does not match the journal
(its problems named as pydantic names them), or one written by an earlier version whose digest only pydantic's
own JSON reproduces. The plain models stay the declarations: a field added there is validated here too, with the
same defaults and aliases, fields left out of dumps while at their default left out here too, unknown fields
refused.

Two ways to the same validation, both pydantic's:

- ``validate``, for the plan's models on every ``run start`` and ``plan validate``: pydantic's validator
  (``pydantic_core``) runs a core schema made here from the declarations (``core_schema``), the schema pydantic
  builds for the same models, with each model as the typed dict it validates to (``tests/test_plan_schema.py``
  holds the two equal). ``pydantic`` itself is not imported: its import and the building of its model classes
  cost several bare interpreter starts, its validator's schema a fraction of a millisecond.
- ``pydantic_model`` (and ``validate_json``, ``pydantic_json``): pydantic's model classes, for the run state
  read from disk, whose JSON and its digests are pydantic's own.
"""

from __future__ import annotations

from functools import lru_cache

from clavain.core.model import Model


@lru_cache(maxsize=None)
def pydantic_model(cls: type):
    """The pydantic model of the plain model ``cls`` (built once per process)."""
    import sys
    from typing import Literal, Optional

    from pydantic import ConfigDict, Field, create_model

    module = sys.modules[cls.__module__]
    namespace: dict = {"Optional": Optional, "Literal": Literal}
    for name, words in getattr(module, "LITERALS", {}).items():
        namespace[name] = Literal[words]
    for name, value in vars(module).items():
        if isinstance(value, type) and issubclass(value, Model) and value is not Model and value is not cls:
            if any(name in spec.annotation for spec in cls.__fields__.values()):
                namespace[name] = pydantic_model(value)
    fields = {}
    for name, spec in cls.__fields__.items():
        annotation = eval(spec.annotation, namespace)  # noqa: S307 - the module's own annotations
        options: dict = {}
        if spec.factory is not None:
            options["default_factory"] = spec.factory
        elif not spec.required:
            options["default"] = spec.default
        if spec.omit_default:
            options["exclude_if"] = spec.excluded
        if spec.alias:
            options["alias"] = spec.alias
        fields[name] = (annotation, Field(**options) if options else ...)
    return create_model(cls.__name__, __config__=ConfigDict(extra="forbid", populate_by_name=True), **fields)


def validate(cls: type, data):
    """The plain model ``cls`` from ``data`` (a dict), validated by pydantic's validator (raises pydantic's
    ValidationError, ``pydantic_core.ValidationError``). What it gives is what ``pydantic_model(cls)`` validates
    and dumps for the same data, fields left out of dumps at their default left out."""
    validated = validator(cls).validate_python(data)
    return cls.trusted(_as_dumped(cls, validated) if _omits(cls) else validated)


@lru_cache(maxsize=None)
def validator(cls: type):
    """Pydantic's validator of ``cls``'s data (``core_schema``), built once per process."""
    from pydantic_core import SchemaValidator

    return SchemaValidator(core_schema(cls))


@lru_cache(maxsize=None)
def core_schema(cls: type) -> dict:
    """The core schema pydantic builds for the pydantic model of ``cls``, with every model (``cls`` and those its
    fields name) as the typed dict it validates to: unknown fields refused, aliases accepted beside the names, the
    same defaults. The annotations are read as ``pydantic_model`` reads them: str, int, float, bool, Any,
    ``Optional[...]``, ``list[...]``, ``dict[..., ...]`` (bare ``list`` and ``dict``: of anything), ``Literal[...]``,
    the module's ``LITERALS`` and its models."""
    import sys

    module = sys.modules[cls.__module__]
    namespace: dict = {"str": _Type({"type": "str"}), "int": _Type({"type": "int"}), "bool": _Type({"type": "bool"}),
                       "float": _Type({"type": "float"}), "Any": _Type({"type": "any"}), "Optional": _OPTIONAL,
                       "list": _LIST, "dict": _DICT, "Literal": _LITERAL}
    for name, words in getattr(module, "LITERALS", {}).items():
        namespace[name] = _LITERAL[words]
    for name, value in vars(module).items():
        if isinstance(value, type) and issubclass(value, Model) and value is not Model and value is not cls:
            if any(name in spec.annotation for spec in cls.__fields__.values()):
                namespace[name] = _Type(core_schema(value))
    fields = {}
    for name, spec in cls.__fields__.items():
        schema = _schema(eval(spec.annotation, {"__builtins__": {}}, namespace))  # noqa: S307 - the module's own
        if spec.factory is not None:
            schema = {"type": "default", "schema": schema, "default_factory": spec.factory,
                      "default_factory_takes_data": False}
        elif not spec.required:
            schema = {"type": "default", "schema": schema, "default": spec.default}
        field = {"type": "typed-dict-field", "schema": schema, "required": spec.required}
        if spec.alias:
            field["validation_alias"] = spec.alias
        fields[name] = field
    return {"type": "typed-dict", "fields": fields, "extra_behavior": "forbid",
            "config": {"extra_fields_behavior": "forbid", "validate_by_alias": True, "validate_by_name": True}}


class _Type:
    """A core schema, as an annotation's parts evaluate to it."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema


class _Generic:
    """``Optional``, ``list``, ``dict`` and ``Literal`` in an annotation: subscripted, the core schema of that type."""

    def __init__(self, build, bare: "dict | None" = None) -> None:
        self.build, self.bare = build, bare

    def __getitem__(self, args) -> _Type:
        return _Type(self.build(*(args if isinstance(args, tuple) else (args,))))


def _schema(part) -> dict:
    if isinstance(part, _Type):
        return part.schema
    if isinstance(part, _Generic) and part.bare is not None:
        return part.bare
    raise TypeError(f"{part!r} is not a type pydantic's validator is given here (see core_schema)")


_ANY = {"type": "any"}
_OPTIONAL = _Generic(lambda inner: {"type": "nullable", "schema": _schema(inner)})
_LIST = _Generic(lambda items: {"type": "list", "items_schema": _schema(items)}, {"type": "list", "items_schema": _ANY})
_DICT = _Generic(lambda keys, values: {"type": "dict", "keys_schema": _schema(keys), "values_schema": _schema(values)},
                 {"type": "dict", "keys_schema": _ANY, "values_schema": _ANY})
_LITERAL = _Generic(lambda *words: {"type": "literal", "expected": list(words)})


@lru_cache(maxsize=None)
def _omits(cls: type) -> bool:
    """``cls``, or a model one of its fields holds, leaves a field out of dumps while it holds its default."""
    if not cls._resolved:
        cls._resolve()
    return any(spec.omit_default or (spec.kind in ("model", "list") and _omits(spec.target))
               for spec in cls.__fields__.values())


def _as_dumped(cls: type, data: dict) -> dict:
    """Validated ``data`` as pydantic's ``model_dump`` gives it: fields left out of dumps at their default left out."""
    out = {}
    for name, value in data.items():
        spec = cls.__fields__[name]
        if spec.excluded(value):
            continue
        if value is not None and spec.kind == "model" and _omits(spec.target):
            value = _as_dumped(spec.target, value)
        elif value and spec.kind == "list" and _omits(spec.target):
            value = [_as_dumped(spec.target, item) for item in value]
        out[name] = value
    return out


def validate_json(cls: type, raw: str):
    """The plain model ``cls`` from JSON text, validated by pydantic (raises pydantic's ValidationError)."""
    validated = pydantic_model(cls).model_validate_json(raw)
    return cls.trusted(validated.model_dump())


def pydantic_json(model: Model) -> str:
    """``model`` as pydantic's own ``model_dump_json`` writes it (digests recorded by earlier versions)."""
    return pydantic_model(type(model)).model_validate(model.model_dump()).model_dump_json()
