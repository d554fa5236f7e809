"""Canonical JSON: one byte encoding per value, and a refusal for anything ambiguous."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.canonical import canonical_json, sha256_hex

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def test_sorted_keys_and_no_white_space() -> None:
    assert canonical_json({"b": 1, "a": [1, 2.5, None, True, False], "c": {"z": "", "y": {}}}) == (
        b'{"a":[1,2.5,null,true,false],"b":1,"c":{"y":{},"z":""}}'
    )


def test_utf8_not_escaped() -> None:
    assert canonical_json({"name": "Zoë ✓"}) == '{"name":"Zoë ✓"}'.encode()


def test_keys_sorted_by_code_point() -> None:
    assert canonical_json({"é": 1, "z": 2, "A": 3}) == '{"A":3,"z":2,"é":1}'.encode()


def test_tuple_is_a_list() -> None:
    assert canonical_json((1, "a")) == b'[1,"a"]'


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, {"x": [math.nan]}])
def test_rejects_nan_and_infinity(value: object) -> None:
    with pytest.raises(ValueError):
        canonical_json(value)


@pytest.mark.parametrize("value", [{1: "a"}, {None: 1}, {"a": {(1, 2): 3}}, {True: 1}])
def test_rejects_non_str_keys(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_json(value)


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, object(), {"a": [bytearray(b"x")]}])
def test_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_json(value)


def test_rejects_lone_surrogate() -> None:
    with pytest.raises(ValueError):
        canonical_json({"a": "\ud800"})


def test_rejects_cycle() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError):
        canonical_json(loop)


def test_shared_subobject_is_not_a_cycle() -> None:
    shared = {"k": 1}
    assert canonical_json([shared, shared]) == b'[{"k":1},{"k":1}]'


@given(json_values)
def test_roundtrip_is_stable(value: object) -> None:
    encoded = canonical_json(value)
    assert canonical_json(json.loads(encoded)) == encoded


def test_sha256_hex() -> None:
    assert sha256_hex(b"") == hashlib.sha256(b"").hexdigest()
    assert sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
