"""Plain data models: declared as pydantic models are, built and dumped without importing pydantic.

The run's state is read and written by every ``clavain-cli run`` command, and importing pydantic and building
its models costs ten bare interpreter starts or more; a command a model runs per task is meant to cost a few.
So the state is kept in these plain models, and pydantic validates it where it cannot be trusted: a state
file whose digest does not match the journal (``clavain.plan.schema`` builds the pydantic models from these
same declarations). A state that matches its digest is byte for byte one this code wrote from validated data.

A model declares its fields as class annotations with defaults, as a pydantic model does::

    class TaskState(Model):
        id: str
        status: TaskStatus = "pending"
        verify: list[VerifyRecord] = Field(default_factory=list)
        snapshot_start: Optional[str] = Field(omit_default=True)

``Field(omit_default=True)``: the field is left out of dumps while it holds its default (fields added after
runs were first recorded, so their digests do not change). Building a model converts what its annotation
names: a dict into a nested model (``Halt``, ``Optional[Halt]``, ``list[TaskState]``) and an int into a float
(``float``); it checks names (unknown or missing fields raise TypeError), never types. Dumps are what
pydantic's ``model_dump`` / ``model_dump_json`` give for the same data (compact JSON, fields in declaration
order, non-ASCII kept). Attributes whose names start with ``_`` are the instance's own and never dumped.
Change a model by setting its fields (lists are replaced, never changed in place): a model read from a dump keeps
that dump until a field is set.

Standard library only; the JSON is written with the C encoder of the ``json`` package without importing it.
"""

from __future__ import annotations

import sys

_MISSING = object()


class _Field:
    __slots__ = ("default", "factory", "omit_default", "alias")

    def __init__(self, default, factory, omit_default: bool, alias: "str | None") -> None:
        self.default, self.factory, self.omit_default, self.alias = default, factory, omit_default, alias


def Field(default=_MISSING, *, default_factory=None, omit_default: bool = False, alias: "str | None" = None):
    """A field's default (or ``default_factory``); ``omit_default``: left out of dumps while it holds it;
    ``alias``: the name it has in data (accepted beside its own name; dumps use it with ``by_alias``)."""
    return _Field(None if default is _MISSING and default_factory is None and omit_default else default,
                  default_factory, omit_default, alias)


class _Spec:
    """What the model's machinery needs to know of one field."""

    __slots__ = ("name", "annotation", "default", "factory", "omit_default", "alias", "required", "kind", "target")

    def __init__(self, name: str, annotation: str, declared) -> None:
        self.name, self.annotation, self.alias = name, annotation, None
        if isinstance(declared, _Field):
            self.default, self.factory, self.omit_default = declared.default, declared.factory, declared.omit_default
            self.alias = declared.alias
        else:
            self.default, self.factory, self.omit_default = declared, None, False
        self.required = self.default is _MISSING and self.factory is None
        inner = annotation
        if inner.startswith("Optional[") and inner.endswith("]"):
            inner = inner[len("Optional["):-1]
        self.kind, self.target = "plain", inner
        if inner == "float":
            self.kind = "float"
        elif inner.startswith("list[") and inner.endswith("]") and inner[5:-1].isidentifier():
            self.kind, self.target = "list", inner[5:-1]        # a model's name, checked in _resolve
        elif inner.isidentifier() and inner[:1].isupper():
            self.kind = "model"

    def excluded(self, value) -> bool:
        if not self.omit_default:
            return False
        if self.factory is not None:
            return not value
        return value == self.default


class Stored:
    """A value a model holds that dumps as its ``header()`` (``clavain.core.parts.Parts``: a long list kept in
    files): building or reading a model leaves it as it is. A marker: the subclass says what its header is."""


class Model:
    """The base of plain data models (see the module's docstring)."""

    __fields__: "dict[str, _Spec]" = {}
    __aliases__: "dict[str, str]" = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        specs: dict[str, _Spec] = {}
        for base in reversed(cls.__bases__):
            specs.update(getattr(base, "__fields__", {}))
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if name.startswith("_"):
                continue
            specs[name] = _Spec(name, annotation if isinstance(annotation, str) else annotation.__name__,
                                cls.__dict__.get(name, _MISSING))
            if name in cls.__dict__:
                delattr(cls, name)   # the default lives in the spec: an instance always holds the field itself
        cls.__fields__ = specs
        cls.__aliases__ = {spec.alias: name for name, spec in specs.items() if spec.alias}
        cls._resolved = False

    @classmethod
    def _resolve(cls) -> None:
        """Which annotations name models of the defining module (read once, when the first instance is built)."""
        module = sys.modules[cls.__module__]
        for spec in cls.__fields__.values():
            if spec.kind in ("model", "list"):
                found = getattr(module, spec.target, None)
                if isinstance(found, type) and issubclass(found, Model):
                    spec.target = found
                else:
                    spec.kind = "plain"
        specs = cls.__fields__.values()
        cls._defaults = {spec.name: spec.default for spec in specs if not spec.required and spec.factory is None}
        cls._factories = [(spec.name, spec.factory) for spec in specs if spec.factory is not None]
        cls._nested = [spec for spec in specs if spec.kind in ("model", "list")]
        cls._resolved = True

    def __init__(self, **values) -> None:
        cls = type(self)
        if not cls._resolved:
            cls._resolve()
        fields = cls.__fields__
        if cls.__aliases__:
            values = {cls.__aliases__.get(name, name): value for name, value in values.items()}
        unknown = [name for name in values if name not in fields]
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown field(s) {', '.join(sorted(unknown))}")
        own = self.__dict__
        for name, spec in fields.items():
            if name in values:
                value = values[name]
                if spec.kind != "plain" and value is not None:
                    value = _convert(spec, value)
            elif spec.factory is not None:
                value = spec.factory()
            elif spec.required:
                raise TypeError(f"{cls.__name__}: missing field {name!r}")
            else:
                value = spec.default
            own[name] = value

    @classmethod
    def trusted(cls, data: dict):
        """A model from a dict this code dumped (its digest checked): fields taken as they are, nested models
        built, nothing else checked or converted. The dict is kept: until a field is set, the model dumps as it
        (a long plan's state is thousands of tasks, and a command changes one or two)."""
        if not cls._resolved:
            cls._resolve()
        if cls.__aliases__:
            data = {cls.__aliases__.get(name, name): value for name, value in data.items()}
        obj = object.__new__(cls)
        own = obj.__dict__
        own.update(cls._defaults)
        own.update(data)
        for name, factory in cls._factories:
            if name not in data:
                own[name] = factory()
        for spec in cls._nested:
            value = own[spec.name]
            if spec.kind == "model":
                if value is not None:
                    own[spec.name] = spec.target.trusted(value)
            elif value and type(value) is list:   # a dict there is a header of parts (``Stored``)
                trusted = spec.target.trusted
                own[spec.name] = [trusted(item) for item in value]
        own["_dumped"] = data
        return obj

    def __setattr__(self, name: str, value) -> None:
        self.__dict__.pop("_dumped", None)   # changed: no longer the dict it was read from
        object.__setattr__(self, name, value)

    def model_copy(self, update: "dict | None" = None):
        """A shallow copy (nested models and lists shared), with ``update`` set on it as given."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.pop("_dumped", None)
        if update:
            copy.__dict__.update(update)
        return copy

    def model_dump(self, mode: str = "python", exclude: "set | None" = None, by_alias: bool = False) -> dict:
        """The fields as plain data, nested models as dicts (``mode`` and ``by_alias`` as pydantic's: with
        ``mode="json"`` a value JSON has no type for, such as a date YAML read, is written as pydantic writes it)."""
        own, as_json = self.__dict__, mode == "json"
        dumped = own.get("_dumped")
        if dumped is not None and not exclude and not by_alias:
            return dict(dumped)
        return {(spec.alias or name) if by_alias else name: _plain(own[name], by_alias, as_json)
                for name, spec in self.__fields__.items()
                if not (exclude and name in exclude) and not spec.excluded(own[name])}

    def model_dump_json(self, indent: "int | None" = None) -> str:
        if indent is None:
            try:   # the encoder walks the fields itself (``_as_json``): no copy of a long state is made first
                return dumps(self)
            except TypeError:   # a dict key JSON has none for (a date YAML read): the careful way below
                pass
        return dumps(self.model_dump(), indent)

    def _fields(self) -> dict:
        """The fields a dump holds, their values as they are (the encoder turns nested models into their own)."""
        own = self.__dict__
        dumped = own.get("_dumped")
        if dumped is not None:
            return dumped
        return {name: own[name] for name, spec in self.__fields__.items() if not spec.excluded(own[name])}

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(self.__dict__[name] == other.__dict__[name] for name in self.__fields__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={self.__dict__[name]!r}" for name in self.__fields__)
        return f"{type(self).__name__}({shown})"


def _convert(spec: _Spec, value):
    if spec.kind == "float":
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value
    target = spec.target
    if isinstance(value, Stored):
        return value
    if spec.kind == "model":
        return target(**value) if isinstance(value, dict) else value
    return [target(**item) if isinstance(item, dict) else item for item in value]


def _plain(value, by_alias: bool = False, as_json: bool = False):
    if isinstance(value, Model):
        return value.model_dump("json" if as_json else "python", by_alias=by_alias)
    if isinstance(value, (list, tuple)):
        return [_plain(item, by_alias, as_json) for item in value]
    if isinstance(value, dict):
        if as_json:
            return {_json_key(key): _plain(item, by_alias, True) for key, item in value.items()}
        return {key: _plain(item, by_alias) for key, item in value.items()}
    if isinstance(value, Stored):
        return value.header()
    if as_json and not isinstance(value, (str, int, float, type(None))):
        return _plain(json_value(value), by_alias, True)
    return value


def _json_key(key) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    return str(key) if isinstance(key, (int, float)) else json_value(key)


def json_value(value):
    """What pydantic writes for a value JSON has no type for (YAML gives frontmatter dates, times, bytes and sets):
    ISO dates and times (UTC as ``Z``), bytes as UTF-8 text, sets as lists. Raises TypeError for anything else."""
    import datetime

    if isinstance(value, datetime.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not plain JSON")


def _as_json(value):
    """What the encoder writes for a value it has no type for: a model's fields, a ``Stored`` value's header,
    else ``json_value``."""
    if isinstance(value, Model):
        return value._fields()
    if isinstance(value, Stored):
        return value.header()
    return json_value(value)


def dumps(data, indent: "int | None" = None) -> str:
    """JSON as pydantic's ``model_dump_json`` writes it: compact (``indent``: pretty, as ``json.dumps`` with that
    indent writes it), keys in their order, non-ASCII kept. NaN and infinities raise ValueError (pydantic would
    write null; no state holds one)."""
    if indent is None:
        try:
            from _json import encode_basestring, make_encoder
        except ImportError:  # pragma: no cover - an interpreter without the C accelerator
            pass
        else:
            encode = make_encoder(None, _as_json, encode_basestring, None, ":", ",", False, False, False)
            return "".join(encode(data, 0))
    import json

    return json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False, default=_as_json,
                      separators=(",", ":") if indent is None else None)
