"""Checks a payload's values against its catalogue type, so tests catch a writer that drifts."""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from audit.canonical import canonical_json
from console.auditing.catalogue import CATALOGUE, check_event


@functools.cache
def _hints(typed: Any) -> dict[str, Any]:
    return get_type_hints(typed)


def problems(value: object, hint: Any, where: str) -> list[str]:
    """What in `value` does not fit `hint`, one line each (empty when it fits)."""
    if hint is Any or hint is object:
        return []
    if hint is type(None) or hint is None:
        return [] if value is None else [f"{where}: {value!r} is not None"]
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [problems(value, option, where) for option in get_args(hint)]
        return [] if any(not found for found in options) else [f"{where}: {value!r} is not {hint}"]
    if origin is typing.Literal:
        return [] if value in get_args(hint) else [f"{where}: {value!r} is not {hint}"]
    if is_typeddict(hint):
        if not isinstance(value, Mapping):
            return [f"{where}: {value!r} is not a {hint.__name__}"]
        hints = _hints(hint)
        found = [f"{where}.{key}: missing" for key in hint.__required_keys__ - set(value)]
        found += [f"{where}.{key}: not in {hint.__name__}" for key in set(value) - set(hints)]
        for key, item in value.items():
            if key in hints:
                found += problems(item, hints[key], f"{where}.{key}")
        return found
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        (item_hint,) = get_args(hint)
        return [
            p for n, item in enumerate(value) for p in problems(item, item_hint, f"{where}[{n}]")
        ]
    if origin is dict:
        if not isinstance(value, Mapping):
            return [f"{where}: {value!r} is not a mapping"]
        key_hint, item_hint = get_args(hint)
        found = []
        for key, item in value.items():
            found += problems(key, key_hint, f"{where} key")
            found += problems(item, item_hint, f"{where}[{key!r}]")
        return found
    if hint is bool:
        return [] if isinstance(value, bool) else [f"{where}: {value!r} is not a bool"]
    if hint is int:
        fits = isinstance(value, int) and not isinstance(value, bool)
        return [] if fits else [f"{where}: {value!r} is not an int"]
    if hint is float:
        # JSON writes 1.0 as 1, so an int is a float too.
        fits = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if fits else [f"{where}: {value!r} is not a number"]
    if hint is str:
        return [] if isinstance(value, str) else [f"{where}: {value!r} is not a str"]
    raise TypeError(f"{where}: no check for {hint!r}")


def payload_problems(action: str, payload: Mapping[str, object]) -> list[str]:
    """What in the payload differs from its action's catalogue type."""
    return problems(payload, CATALOGUE[action].payload, action)


def check_event_strictly(action: str, payload: Mapping[str, object]) -> None:
    """`append_event`'s check, plus every value's type as the log will hold it."""
    check_event(action, payload)
    found = payload_problems(action, json.loads(canonical_json(dict(payload))))
    if found:
        raise ValueError("payload differs from the catalogue: " + "; ".join(found))
