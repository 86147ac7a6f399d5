"""Pydantic validation errors -> plain English that says what was expected.

Pydantic speaks Python ("Input should be a valid tuple", "Extra inputs are not permitted"); the
people who edit monitor.yaml speak YAML. The schema's own messages already start with
"expected ...", so they pass through without pydantic's "Value error, " prefix.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from monitor.config.schema import KeyPath, TermSpec


def describe_error(
    detail: ErrorDetails, root: type[BaseModel], extra_root_keys: Sequence[str] = ()
) -> tuple[KeyPath, str]:
    """Return the key path to point at and the message for one pydantic error."""
    path: KeyPath = tuple(detail["loc"])
    kind = detail["type"]
    given = detail.get("input")
    if kind == "missing":
        return path[:-1], f"missing required key {path[-1]!r}"
    if kind == "extra_forbidden":
        model = _model_at(root, path[:-1])
        allowed = _yaml_keys(model) if model is not None else []
        if not path[:-1]:
            allowed += extra_root_keys
        return path, _unknown_key(str(path[-1]), allowed)
    if kind == "value_error":
        error = (detail.get("ctx") or {}).get("error")
        message = str(error) if error is not None else _plain(detail["msg"])
        if given is None:  # an empty YAML value; "None" means nothing to a YAML writer
            message = message.replace("got None", f"got {_show(None)}")
        return path, message
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if _model_at(root, path) is TermSpec:
            return path, f"expected a term: text, or a mapping with 'term', got {_show(given)}"
        return path, f"expected a mapping of keys (key: value), got {_show(given)}"
    if kind in ("tuple_type", "list_type"):
        # Quoted as the value is shown, so the loader's masking (`${NAME}`) reaches it too.
        hint = f" (write [{given!r}] for a list of one)" if isinstance(given, str) else ""
        return path, f"expected a list, got {_show(given)}{hint}"
    if kind == "string_type":
        return path, f"expected text, got {_show(given)}"
    if kind == "string_too_short":
        return path, "expected a non-empty text"
    if kind in ("bool_type", "bool_parsing"):
        return path, f"expected true or false, got {_show(given)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return path, f"expected a whole number, got {_show(given)}"
    if kind == "greater_than_equal":
        limit = (detail.get("ctx") or {}).get("ge")
        return path, f"expected a number of at least {limit}, got {_show(given)}"
    if kind == "less_than_equal":
        limit = (detail.get("ctx") or {}).get("le")
        return path, f"expected a number of at most {limit}, got {_show(given)}"
    return path, _plain(detail["msg"])


def _unknown_key(key: str, allowed: Sequence[str]) -> str:
    if not allowed:
        return "unknown key"
    message = f"unknown key; expected one of: {', '.join(allowed)}"
    close = difflib.get_close_matches(key, allowed, n=1)
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def _plain(message: str) -> str:
    message = message.removeprefix("Value error, ")
    if message.startswith("Input should be "):
        return "expected " + message.removeprefix("Input should be ")
    return message


def _show(value: object) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _yaml_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model reads, as written in YAML (a field named `start` may read `from`)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_at(root: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The model that validates the mapping at `path`, found by walking the field types."""
    current: Any = root
    for step in path:
        current = _unwrap(current)
        if _is_model(current):
            fields = {field.alias or name: field for name, field in current.model_fields.items()}
            field = fields.get(step) if isinstance(step, str) else None
            current = field.annotation if field is not None else None
        else:
            current = _element_type(current)
    current = _unwrap(current)
    return current if _is_model(current) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _element_type(annotation: Any) -> Any:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (tuple, list) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
