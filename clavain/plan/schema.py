"""Pydantic models built from the declarations of plain models (``clavain.core.model``): the plan's
(``clavain.plan.model``) and the run state's (``clavain.run.state``).

Pydantic validates what is read from disk and cannot be trusted by a digest: a plan as the reader reads it (its
tasks and Must-Haves, frontmatter and manifest included), a ``run.json`` whose state does not match the journal
(its problems named as pydantic names them), or one written by an earlier version whose digest only pydantic's
own JSON reproduces. The plain models stay the declarations: a field added there is validated here too, with the
same defaults and aliases, fields left out of dumps while at their default left out here too, unknown fields
refused. Imported only on those paths (pydantic costs ten bare interpreter starts or more to import and build).
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
    """The plain model ``cls`` from ``data`` (a dict, or a model), validated by pydantic (raises its
    ValidationError)."""
    validated = pydantic_model(cls).model_validate(data)
    return cls.trusted(validated.model_dump())


def validate_json(cls: type, raw: str):
    """The plain model ``cls`` from JSON text, validated by pydantic (raises pydantic's ValidationError)."""
    validated = pydantic_model(cls).model_validate_json(raw)
    return cls.trusted(validated.model_dump())


def pydantic_json(model: Model) -> str:
    """``model`` as pydantic's own ``model_dump_json`` writes it (digests recorded by earlier versions)."""
    return pydantic_model(type(model)).model_validate(model.model_dump()).model_dump_json()
