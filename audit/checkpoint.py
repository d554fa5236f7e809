"""Checkpoints: sign the log's size and root as a C2SP note, and hold a log to an older one."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from audit.chain import Finding, VerifyResult
from audit.key_history import KeyHistory
from audit.merkle import consistency_proof, root_from_leaf_hashes, verify_consistency
from audit.note import (
    NoteError,
    format_checkpoint,
    note_key_id,
    parse_checkpoint,
    sign_note,
    verify_note,
)


def issue(origin: str, size: int, root: bytes, name: str, key: Ed25519PrivateKey) -> str:
    return sign_note(format_checkpoint(origin, size, root), name, key)


def read_checkpoint(note: str, history: KeyHistory) -> tuple[str, int, bytes, str]:
    """Verify the note's signature against keys the log registered; (origin, size, root, signer)."""
    last_blank = note.rfind("\n\n")
    if last_blank < 0:
        raise NoteError("not a signed note: no blank line before the signatures")
    signer_names = {
        line.split(" ")[1]
        for line in note[last_blank + 2 :].splitlines()
        if line.startswith("\u2014 ") and len(line.split(" ")) == 3
    }
    for name in sorted(signer_names):
        for key in history.keys.values():
            if key.user != name:
                continue
            public = Ed25519PublicKey.from_public_bytes(key.public_key)
            try:
                text, _ = verify_note(note, {name: public})
            except NoteError:
                continue
            origin, size, root = parse_checkpoint(text)
            if key.valid_from > size or (key.revoked_at is not None and key.revoked_at < size - 1):
                continue
            return origin, size, root, name
    raise NoteError("the checkpoint's signature does not verify with any key this log registered")


def check_extension(result: VerifyResult, note: str) -> Finding | None:
    """Is the verified log an append-only extension of the log the checkpoint saw?"""
    try:
        origin, old_size, old_root, _signer = read_checkpoint(note, result.history)
    except NoteError as exc:
        return _unverified(result, note, exc)
    if result.history.origin is not None and origin != result.history.origin:
        return Finding(-1, f"checkpoint is for another log ({origin}), not {result.history.origin}")
    if old_size > result.size:
        return Finding(
            result.size,
            f"the log was truncated or rolled back: the checkpoint saw {old_size} events, "
            f"the log has {result.size}; events from {result.size} on are missing",
        )
    if old_size == result.size:
        if old_root != result.root:
            return Finding(
                0, f"the log was rewritten: same size {old_size} as the checkpoint, another root"
            )
        return None
    proof = consistency_proof(result.leaf_hashes, old_size)
    if not verify_consistency(old_size, result.size, old_root, result.root, proof):
        # Locate the damage for the auditor: the first prefix whose root differs cannot be known
        # from the old root alone, so name the checkpoint's range.
        if root_from_leaf_hashes(result.leaf_hashes[:old_size]) != old_root:
            return Finding(
                0,
                f"the first {old_size} events differ from those the checkpoint signed "
                "(rewritten history)",
            )
        return Finding(old_size, "the consistency proof from the checkpoint does not verify")
    return None


def _unverified(result: VerifyResult, note: str, error: NoteError) -> Finding:
    """Why a checkpoint whose signature did not verify is refused; truncation only if it can be.

    A truncation is the verdict only when the note is for this log, claims more events than
    remain, and is signed by a key the remaining log never registered (its registration may be
    in the missing tail). A bad signature by a key the log holds, or a note for another log,
    is a rejected checkpoint, whatever size it claims.
    """
    try:
        origin, claimed, _root = parse_checkpoint(note[: note.rfind("\n\n") + 1])
    except (NoteError, ValueError):
        return Finding(-1, f"checkpoint rejected: {error}")
    here = result.history.origin
    if here is not None and origin != here:
        return Finding(-1, f"checkpoint rejected: it is for another log ({origin}), not {here}")
    if _signed_by_known_key(note, result.history):
        return Finding(-1, f"checkpoint rejected: {error}")
    if claimed > result.size:
        return Finding(
            result.size,
            f"the log was truncated or rolled back: the checkpoint claims {claimed} events, "
            f"the log has {result.size}, and its signer is not in what remains",
        )
    return Finding(-1, "checkpoint rejected: it is signed by no key this log registered")


def _signed_by_known_key(note: str, history: KeyHistory) -> bool:
    """Does a signature line name a key (by its C2SP key ID) that the log registered?"""
    for line in note[note.rfind("\n\n") + 2 :].splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014":
            continue
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except ValueError:
            continue
        for key in history.keys.values():
            if key.user == parts[1] and note_key_id(parts[1], key.public_key) == raw[:4]:
                return True
    return False
