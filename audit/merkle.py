"""RFC 9162 Merkle tree hashing and proofs, so the audit log's history can be proven append-only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "root_from_computed_hashes",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_STATE = hashlib.sha256(_LEAF_PREFIX)


def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    """Leaf hashes of many entries: one copied SHA-256 state each, no Python call per entry."""
    copy = _LEAF_STATE.copy
    hashes: list[bytes] = []
    append = hashes.append
    for data in entries:
        hasher = copy()
        hasher.update(data)
        append(hasher.digest())
    return hashes


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two subtree roots: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """Largest power of two strictly smaller than size (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def _checked_leaves(leaf_hashes: Sequence[bytes]) -> list[bytes]:
    level = list(leaf_hashes)
    # Set-based checks: about 50 ms for a million leaves, far cheaper than a Python loop.
    if level and (set(map(type, level)) != {bytes} or set(map(len, level)) != {HASH_SIZE}):
        raise ValueError(f"leaf hashes must be {HASH_SIZE}-byte bytes objects")
    return level


def _root(level: list[bytes]) -> bytes:
    """Root of already checked leaf hashes, built level by level.

    Pairing nodes left to right and carrying an odd last node up unchanged gives the RFC
    shape: the left subtree at every split is a perfect tree of a power-of-two size, so
    only the rightmost node of a level is ever unpaired.
    """
    if not level:
        return EMPTY_ROOT
    base = hashlib.sha256(_NODE_PREFIX)
    while len(level) > 1:
        upper: list[bytes] = []
        append = upper.append
        for left, right in zip(level[0::2], level[1::2], strict=False):
            hasher = base.copy()
            hasher.update(left)
            hasher.update(right)
            append(hasher.digest())
        if len(level) % 2:
            append(level[-1])
        level = upper
    return level[0]


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash (RFC 9162 MTH) of a list of leaf hashes; EMPTY_ROOT for none."""
    return _root(_checked_leaves(leaf_hashes))


def root_from_computed_hashes(leaf_hashes: list[bytes]) -> bytes:
    """Root of leaf hashes this process made with `leaf_hashes`: their type and size are known."""
    return _root(leaf_hashes)


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path (RFC 9162 2.1.3.1) for the leaf at index, ordered from the leaf up."""
    leaves = _checked_leaves(leaf_hashes)
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of size {len(leaves)}")
    # Walk down from the root; each step records the sibling subtree we do not enter.
    siblings: list[bytes] = []
    lo, hi = 0, len(leaves)
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            siblings.append(_root(leaves[mid:hi]))
            hi = mid
        else:
            siblings.append(_root(leaves[lo:mid]))
            lo = mid
    siblings.reverse()
    return siblings


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """Consistency proof (RFC 9162 2.1.4.1) from the first old_size leaves to all of them.

    Returns [] when old_size is 0 or the full size: nothing needs proving.
    """
    leaves = _checked_leaves(leaf_hashes)
    if not 0 <= old_size <= len(leaves):
        raise ValueError(f"old size {old_size} is outside 0..{len(leaves)}")
    if old_size in (0, len(leaves)):
        return []
    # SUBPROOF(m, D[lo:hi], b) walked iteratively: siblings collected top-down, then reversed.
    siblings: list[bytes] = []
    lo, hi, m = 0, len(leaves), old_size
    whole_old_subtree = True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            siblings.append(_root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            siblings.append(_root(leaves[lo : lo + k]))
            lo, m = lo + k, m - k
            whole_old_subtree = False
    proof = [] if whole_old_subtree else [_root(leaves[lo:hi])]
    proof.extend(reversed(siblings))
    return proof


def _valid_hashes(*hashes: object) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff proof shows leaf_hash at index in the tree of size leaves with root."""
    if not 0 <= index < size or not _valid_hashes(leaf_hash, root, *proof):
        return False
    fn, sn = index, size - 1
    running = leaf_hash
    for sibling in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            running = node_hash(sibling, running)
            # Skip the levels where this node was carried up without a sibling.
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            running = node_hash(running, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and running == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff proof shows the tree (old_size, old_root) is a prefix of (new_size, new_root)."""
    if not 0 <= old_size <= new_size or not _valid_hashes(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree of the new one: its root starts the path.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    old_running = new_running = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            old_running = node_hash(node, old_running)
            new_running = node_hash(node, new_running)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_running = node_hash(new_running, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and old_running == old_root and new_running == new_root
