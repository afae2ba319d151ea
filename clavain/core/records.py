"""Small immutable records: tuples with named fields, as ``collections.namedtuple`` makes them, made here instead.

The gate's commands and ``infer-bead`` run on a budget of about one bare interpreter start beyond the start
itself, and ``typing.NamedTuple`` (``typing``) or ``collections.namedtuple`` (``collections``, ``functools``,
``operator``, ...) alone take a large part of it. A record is a real tuple (it compares, unpacks and indexes
as one) with a property per field, ``_fields``, ``_field_defaults``, ``_replace`` and ``_asdict``.
"""

from __future__ import annotations


def _getter(index: int):
    return property(lambda self: self[index])


def record(name: str, fields: str, defaults: tuple = (), doc: str = "") -> type:
    """A tuple type ``name`` with the space-separated ``fields``; ``defaults`` apply to the last fields."""
    names = tuple(fields.split())
    if len(defaults) > len(names):
        raise TypeError(f"{name}: more defaults than fields")
    field_defaults = dict(zip(names[len(names) - len(defaults):], defaults))

    def __new__(cls, *args, **kwargs):
        if len(args) > len(names):
            raise TypeError(f"{name} takes {len(names)} fields, not {len(args)}")
        values = list(args)
        for field in names[len(args):]:
            if field in kwargs:
                values.append(kwargs.pop(field))
            elif field in field_defaults:
                values.append(field_defaults[field])
            else:
                raise TypeError(f"{name}: missing field {field!r}")
        if kwargs:
            raise TypeError(f"{name}: unknown or repeated field(s) {', '.join(sorted(kwargs))}")
        return tuple.__new__(cls, values)

    def _replace(self, **changes):
        return type(self)(**{**self._asdict(), **changes})

    def _asdict(self) -> dict:
        return dict(zip(names, self))

    def __repr__(self) -> str:
        return f"{name}({', '.join(f'{field}={value!r}' for field, value in zip(names, self))})"

    def __getnewargs__(self):
        return tuple(self)

    namespace = {"__slots__": (), "__doc__": doc or f"{name}({', '.join(names)})", "__new__": __new__,
                 "_fields": names, "_field_defaults": field_defaults, "_replace": _replace, "_asdict": _asdict,
                 "__repr__": __repr__, "__getnewargs__": __getnewargs__}
    namespace.update((field, _getter(index)) for index, field in enumerate(names))
    return type(name, (tuple,), namespace)
