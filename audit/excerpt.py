"""A log excerpt: chosen events with inclusion proofs under one checkpoint, checked offline.

A package carries the few events its version's governance rests on; this proves each is an
unaltered event of the log a signed checkpoint commits to, signed by a key the excerpt's own
key events show valid at its sequence. What an excerpt cannot show is an event left out of it
(a later revocation, say): the checkpoint's signer vouches for the whole log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint import read_checkpoint
from audit.entry import ENTRY_FIELDS, EventRecord, parse_entry, signing_message
from audit.key_history import KeyHistory
from audit.merkle import inclusion_proof, leaf_hash, verify_inclusion
from audit.note import NoteError, parse_checkpoint, verify_note

__all__ = ["ExcerptCheck", "inclusion_proofs", "verify_excerpt"]

_UNPROVEN = "it is not proven to be in the log of"


def inclusion_proofs(leaf_hashes: Sequence[bytes], seqs: Iterable[int]) -> dict[int, list[bytes]]:
    """The RFC 9162 audit path of each chosen event in the tree of `leaf_hashes`."""
    return {seq: inclusion_proof(leaf_hashes, seq) for seq in sorted(set(seqs))}


@dataclass
class ExcerptCheck:
    """What checking an excerpt found: the checkpoint it rests on and the events that hold."""

    origin: str | None = None
    size: int = 0
    root: bytes = b""
    checkpoint_signer: str | None = None
    pinned: bool = False  # the checkpoint verified with a key the caller trusts
    history: KeyHistory = field(default_factory=KeyHistory)
    records: dict[int, EventRecord] = field(default_factory=dict)  # seq -> verified event
    payloads: dict[int, dict[str, object]] = field(default_factory=dict)
    roles: dict[int, str | None] = field(default_factory=dict)  # seq -> its actor's role then
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_excerpt(
    records: Sequence[EventRecord],
    proofs: Mapping[int, Sequence[bytes]],
    note: str,
    trusted: Sequence[Ed25519PublicKey] | None = None,
) -> ExcerptCheck:
    """Check every record, its inclusion under the checkpoint, its signer and signature.

    The checkpoint must verify with one of `trusted` when given, else with a key the
    excerpt's own key events registered; its origin must be the one the genesis event names.
    Only records without a problem land in `records`.
    """
    check = ExcerptCheck()
    try:
        check.origin, check.size, check.root = parse_checkpoint(note[: note.rfind("\n\n") + 1])
    except (NoteError, ValueError) as exc:
        check.problems.append(f"the checkpoint is malformed: {exc}")
        return check
    ordered = sorted(records, key=lambda r: r.seq)
    if not ordered or ordered[0].seq != 0:
        check.problems.append("the excerpt lacks the log's genesis event (sequence 0)")
        return check
    _check_origin(ordered[0], check)
    previous: EventRecord | None = None
    found: list[str] = []
    unproven = 0
    for record in ordered:
        if previous is not None and previous.seq == record.seq:
            found.append(f"event {record.seq} appears twice")
            continue
        problem = _record_problem(record, previous, proofs.get(record.seq), check)
        if problem is None:
            check.records[record.seq] = record
        else:
            unproven += problem.startswith(_UNPROVEN)
            found.append(f"event {record.seq} ({record.action}): {problem}")
        previous = record
    if unproven == len(ordered):  # one line for a checkpoint of another log, not one per event
        found = [
            f"none of its {len(ordered)} events is proven to be in the log of {check.size} "
            "events the checkpoint signs"
        ]
    check.problems.extend(found)
    _check_checkpoint(note, trusted, check)
    return check


def _check_origin(genesis: EventRecord, check: ExcerptCheck) -> None:
    """The checkpoint must name the log whose genesis event the excerpt starts with."""
    try:
        payload = json.loads(genesis.payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return  # the record's own check names it
    origin = payload.get("origin") if isinstance(payload, dict) else None
    if genesis.action == "store.created" and origin != check.origin:
        check.problems.append(f"the checkpoint is for another log ({check.origin}), not {origin}")


def _record_problem(
    record: EventRecord,
    previous: EventRecord | None,
    proof: Sequence[bytes] | None,
    check: ExcerptCheck,
) -> str | None:
    try:
        entry = parse_entry(record.entry)
        payload = json.loads(record.payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return "its signed entry or payload is not JSON"
    if not isinstance(payload, dict):
        return "its payload is not a JSON object"
    for name in ENTRY_FIELDS:
        if entry.get(name) != getattr(record, name):
            return f"its {name} differs from the signed entry"
    if entry.get("payload_sha256") != hashlib.sha256(record.payload).hexdigest():
        return "its payload does not match the signed digest"
    if entry.get("prev") != record.prev_hash:
        return "its hash-chain link differs from the signed entry"
    if (
        previous is not None
        and previous.seq == record.seq - 1
        and previous.entry_hash != (record.prev_hash)
    ):
        return "its hash-chain link does not name the event before it"
    leaf = leaf_hash(record.entry)
    if leaf.hex() != record.entry_hash:
        return "its entry hash does not match the entry"
    if proof is None or not verify_inclusion(leaf, record.seq, check.size, proof, check.root):
        return f"{_UNPROVEN} {check.size} events the checkpoint signs"
    # Key events replay in order, as the full verifier does: genesis registers its own key.
    history = check.history
    if record.seq == 0:
        invalid = history.apply(0, record.actor, record.action, payload)
        invalid = invalid or history.check_signer(0, record.actor, record.keyid)
    else:
        invalid = history.check_signer(record.seq, record.actor, record.keyid)
    if invalid:
        return invalid
    key = Ed25519PublicKey.from_public_bytes(history.keys[record.keyid].public_key)
    try:
        key.verify(record.signature, signing_message(record.entry))
    except InvalidSignature:
        return "its signature does not verify"
    check.roles[record.seq] = history.role_of(record.actor)
    if record.seq != 0:
        invalid = history.apply(record.seq, record.actor, record.action, payload)
        if invalid:
            return invalid
    check.payloads[record.seq] = payload
    return None


def _check_checkpoint(
    note: str, trusted: Sequence[Ed25519PublicKey] | None, check: ExcerptCheck
) -> None:
    if trusted is None:
        try:
            *_, check.checkpoint_signer = read_checkpoint(note, check.history)
        except NoteError as exc:
            check.problems.append(f"the checkpoint is rejected: {exc}")
        return
    names = _signature_names(note)
    for key in trusted:
        for name in names:
            try:
                verify_note(note, {name: key})
            except NoteError:
                continue
            check.checkpoint_signer, check.pinned = name, True
            return
    check.problems.append("the checkpoint is not signed by the trusted key(s)")


def _signature_names(note: str) -> list[str]:
    lines = note[note.rfind("\n\n") + 2 :].splitlines()
    return sorted({line[2:].split(" ")[0] for line in lines if line.startswith("\u2014 ")})
