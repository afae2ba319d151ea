"""YAML for plans (frontmatter) and manifests: safe, alias-free, JSON-shaped, errors with ``path:line``."""

from __future__ import annotations

import datetime

TYPE_CHECKING = False   # not ``typing``'s: the gate reads its config with this
if TYPE_CHECKING:
    from typing import Any

from clavain.core.errors import BadInput

MAX_DEPTH = 50


def _loader_class():
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        """SafeLoader that refuses aliases (no exponential "billion laughs" documents)."""

        def compose_node(self, parent, index):  # type: ignore[override]
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.constructor.ConstructorError(None, None, "aliases (*name) are not allowed here",
                                                        event.start_mark)
            return super().compose_node(parent, index)

    return NoAliasLoader


def load_yaml(text: str, path: str, *, first_line: int = 1, what: str = "YAML") -> Any:
    import yaml

    try:
        loader = _loader_class()(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark is not None else first_line
        problem = exc.problem or exc.context or "invalid YAML"
        raise BadInput(f"invalid YAML in {what}: {problem}", path=path, line=line,
                       next_command=f"fix the {what} YAML, then: clavain-cli plan validate {path}") from None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as exc:
        raise BadInput(f"invalid YAML in {what}: {exc}", path=path, line=first_line,
                       next_command=f"fix the {what} YAML, then: clavain-cli plan validate {path}") from None
    return _json_shaped(data, path, first_line, what)


def load_mapping(text: str, path: str, *, first_line: int = 1, what: str = "YAML") -> dict:
    data = load_yaml(text, path, first_line=first_line, what=what)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"{what} must be a mapping of `key: value` lines, not a {type(data).__name__}",
                       path=path, line=first_line,
                       next_command=f"fix the {what}, then: clavain-cli plan validate {path}")
    return data


def _json_shaped(value: Any, path: str, line: int, what: str, depth: int = 0) -> Any:
    """Plain JSON types only: string keys, ISO dates, lists for sets; nested no deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise BadInput(f"{what} is nested more than {MAX_DEPTH} levels deep", path=path, line=line,
                       next_command=f"fix the {what}, then: clavain-cli plan validate {path}")
    if isinstance(value, dict):
        return {str(k): _json_shaped(v, path, line, what, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_shaped(v, path, line, what, depth + 1) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    return value


def key_line(text_lines: list[str], key: str, first_line: int) -> int:
    """Best-effort line of a top-level ``key:`` in YAML given as lines starting at ``first_line``."""
    prefix = key + ":"
    for offset, line in enumerate(text_lines):
        if line.startswith(prefix):
            return first_line + offset
    return first_line
