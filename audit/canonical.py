"""Canonical JSON bytes, so that whatever is hashed or signed has exactly one encoding."""

from __future__ import annotations

import hashlib
import json
import math

__all__ = ["canonical_json", "sha256_hex"]


def _check(obj: object, active: set[int]) -> None:
    """Raise unless obj is made only of JSON types with str keys and finite numbers."""
    if obj is None or isinstance(obj, (str, bool, int)):
        return
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"canonical JSON has no NaN or Infinity: {obj!r}")
        return
    if isinstance(obj, (dict, list, tuple)):
        # A cycle would recurse forever; track the containers on the current path.
        if id(obj) in active:
            raise ValueError("canonical JSON cannot encode a circular reference")
        active.add(id(obj))
        if isinstance(obj, dict):
            for key, value in obj.items():
                if not isinstance(key, str):
                    raise TypeError(f"canonical JSON keys must be str, not {type(key).__name__}")
                _check(value, active)
        else:
            for item in obj:
                _check(item, active)
        active.discard(id(obj))
        return
    raise TypeError(f"canonical JSON cannot encode {type(obj).__name__}")


def canonical_json(obj: object) -> bytes:
    """Encode obj as UTF-8 JSON with sorted keys and no insignificant white space.

    Keys are sorted by code point. Only dict, list, tuple, str, int, float, bool and None
    are accepted (TypeError otherwise); NaN, Infinity and unpaired surrogates are
    ValueErrors.
    """
    _check(obj, set())
    text = json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"canonical JSON must be valid Unicode: {exc.reason}") from exc


def sha256_hex(data: bytes) -> str:
    """Return the lowercase hex SHA-256 digest of data."""
    return hashlib.sha256(data).hexdigest()
