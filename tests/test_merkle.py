"""RFC 9162 Merkle hashing and proofs: public vectors, a recursive reference, and attacks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)


def _vector_file(name: str) -> Path:
    """The public vectors: a copy in tests/vectors/, else the shared ../shared/vectors/."""
    repo = Path(__file__).resolve().parents[1]
    local = repo / "tests" / "vectors" / name
    return local if local.exists() else repo.parent / "shared" / "vectors" / name


VECTORS: dict[str, Any] = json.loads(_vector_file("merkle.json").read_text(encoding="utf-8"))
VECTOR_LEAVES = [leaf_hash(bytes.fromhex(h)) for h in VECTORS["leaves_hex"]]


# A straightforward recursive reading of RFC 9162 section 2.1, as an independent reference.
def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


def flip(data: bytes, position: int = 0) -> bytes:
    out = bytearray(data)
    out[position % len(out)] ^= 0x01
    return bytes(out)


# Public vectors.


def test_vector_hashes() -> None:
    assert EMPTY_ROOT.hex() == VECTORS["empty_root"]
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert leaf_hash(b"L123456").hex() == VECTORS["leaf_hash_of_L123456"]
    assert node_hash(b"N123", b"N456").hex() == VECTORS["node_hash_of_N123_N456"]


@pytest.mark.parametrize("size", range(1, 9))
def test_vector_roots(size: int) -> None:
    assert root_from_leaf_hashes(VECTOR_LEAVES[:size]).hex() == VECTORS["roots_hex"][size - 1]


def test_vector_inclusion_proof() -> None:
    proof = inclusion_proof(VECTOR_LEAVES, 5)
    assert [p.hex() for p in proof] == VECTORS["inclusion_proof_index5_size8"]
    root = bytes.fromhex(VECTORS["roots_hex"][7])
    assert verify_inclusion(VECTOR_LEAVES[5], 5, 8, proof, root)


def test_vector_consistency_proof() -> None:
    proof = consistency_proof(VECTOR_LEAVES, 6)
    assert [p.hex() for p in proof] == VECTORS["consistency_proof_6_to_8"]
    old_root = bytes.fromhex(VECTORS["roots_hex"][5])
    new_root = bytes.fromhex(VECTORS["roots_hex"][7])
    assert verify_consistency(6, 8, old_root, new_root, proof)


# The fast constructions agree with the recursive definitions.


@given(st.integers(min_value=0, max_value=300), st.binary(max_size=4))
def test_root_matches_recursive_reference(size: int, salt: bytes) -> None:
    d = leaves(size, salt)
    assert root_from_leaf_hashes(d) == ref_mth(d)
    assert root_from_leaf_hashes(tuple(d)) == ref_mth(d)


@given(st.data())
def test_proofs_match_recursive_reference(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=200))
    d = leaves(size)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old_size = data.draw(st.integers(min_value=1, max_value=size))
    assert inclusion_proof(d, index) == ref_path(index, d)
    assert consistency_proof(d, old_size) == ref_subproof(old_size, d, True)


# Every honest proof verifies; every altered claim fails.


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=200), st.binary(max_size=4))
def test_every_inclusion_proof_verifies_and_tampering_fails(size: int, salt: bytes) -> None:
    d = leaves(size, salt)
    root = root_from_leaf_hashes(d)
    for index in range(size):
        proof = inclusion_proof(d, index)
        assert verify_inclusion(d[index], index, size, proof, root)
        assert not verify_inclusion(d[index], index, size, proof, flip(root))
        assert not verify_inclusion(flip(d[index]), index, size, proof, root)
        assert not verify_inclusion(d[index], size, size, proof, root)
        if size > 1:
            assert not verify_inclusion(d[index], (index + 1) % size, size, proof, root)
        for position in range(len(proof)):
            bad = list(proof)
            bad[position] = flip(bad[position], position)
            assert not verify_inclusion(d[index], index, size, bad, root)
        assert not verify_inclusion(d[index], index, size, [*proof, root], root)
        if proof:
            assert not verify_inclusion(d[index], index, size, proof[:-1], root)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=200), st.binary(max_size=4))
def test_every_consistency_proof_verifies_and_tampering_fails(size: int, salt: bytes) -> None:
    d = leaves(size, salt)
    roots = [root_from_leaf_hashes(d[:m]) for m in range(size + 1)]
    new_root = roots[size]
    for m in range(1, size + 1):
        proof = consistency_proof(d, m)
        assert verify_consistency(m, size, roots[m], new_root, proof)
        assert not verify_consistency(m, size, flip(roots[m]), new_root, proof)
        assert not verify_consistency(m, size, roots[m], flip(new_root), proof)
        for position in range(len(proof)):
            bad = list(proof)
            bad[position] = flip(bad[position], position)
            assert not verify_consistency(m, size, roots[m], new_root, bad)
        assert not verify_consistency(m, size, roots[m], new_root, [*proof, new_root])
        if proof:
            assert not verify_consistency(m, size, roots[m], new_root, proof[:-1])
        # No size mutation here: RFC 6962 roots do not commit to the tree size (a tree of
        # 3 leaves hashes like one of 4 whose right pair is a single node); the signed
        # checkpoint binds size and root together.


# Edge cases.


def test_verify_inclusion_edges() -> None:
    d = leaves(4)
    root = root_from_leaf_hashes(d)
    assert verify_inclusion(d[0], 0, 1, [], d[0])
    assert not verify_inclusion(d[0], 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(d[0], -1, 4, inclusion_proof(d, 0), root)
    assert not verify_inclusion(d[0], 0, 4, [b"short"], root)


def test_verify_consistency_edges() -> None:
    d = leaves(5)
    root = root_from_leaf_hashes(d)
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, root, [root])
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, flip(root), [])
    assert not verify_consistency(5, 5, root, root, [root])
    assert not verify_consistency(6, 5, root, root, [])
    assert not verify_consistency(-1, 5, root, root, [])
    assert not verify_consistency(3, 5, root_from_leaf_hashes(d[:3]), root, [])
    assert consistency_proof(d, 0) == []
    assert consistency_proof(d, 5) == []


def test_bad_arguments() -> None:
    d = leaves(3)
    with pytest.raises(ValueError):
        inclusion_proof(d, 3)
    with pytest.raises(ValueError):
        inclusion_proof([], 0)
    with pytest.raises(ValueError):
        consistency_proof(d, 4)
    with pytest.raises(ValueError):
        root_from_leaf_hashes([b"too short"])
    with pytest.raises(ValueError):
        root_from_leaf_hashes(["x" * 32])  # type: ignore[list-item]
