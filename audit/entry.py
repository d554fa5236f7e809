"""The signed form of one audit event: its canonical bytes, hash and domain-separated message."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from audit.canonical import canonical_json
from audit.merkle import leaf_hash

ENTRY_VERSION = 1
GENESIS_PREV = "0" * 64
# Domain separation: an event signature can never be replayed as a note, DSSE or other signature.
SIGNING_DOMAIN = b"signoff/audit-event/v1\n"
ENTRY_FIELDS = ("seq", "ts", "actor", "keyid", "action", "subject", "model")


@dataclass(frozen=True)
class EventRecord:
    """One stored audit row, as a verifier reads it (from the store or an export)."""

    seq: int
    ts: str
    actor: str
    keyid: str
    action: str
    subject: str
    model: str | None
    payload: bytes
    entry: bytes
    prev_hash: str
    entry_hash: str
    signature: bytes


def build_entry(
    *,
    seq: int,
    ts: str,
    actor: str,
    keyid: str,
    action: str,
    subject: str,
    model: str | None,
    payload: bytes,
    prev_hash: str,
) -> bytes:
    return canonical_json(
        {
            "v": ENTRY_VERSION,
            "seq": seq,
            "ts": ts,
            "actor": actor,
            "keyid": keyid,
            "action": action,
            "subject": subject,
            "model": model,
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "prev": prev_hash,
        }
    )


def entry_hash(entry: bytes) -> str:
    """The chain hash is the RFC 6962 leaf hash, so the chain and the Merkle tree share it."""
    return leaf_hash(entry).hex()


def signing_message(entry: bytes) -> bytes:
    return SIGNING_DOMAIN + entry


def parse_entry(entry: bytes) -> dict[str, object]:
    value = json.loads(entry.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("entry is not a JSON object")
    return value
