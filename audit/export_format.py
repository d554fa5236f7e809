"""The auditor's export: events.jsonl, keys.json and checkpoint.txt, readable with the stdlib."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.entry import EventRecord
from audit.key_history import KeyHistory

EVENTS_FILE = "events.jsonl"
KEYS_FILE = "keys.json"
CHECKPOINT_FILE = "checkpoint.txt"


def record_to_json(record: EventRecord) -> str:
    return json.dumps(
        {
            "seq": record.seq,
            "ts": record.ts,
            "actor": record.actor,
            "keyid": record.keyid,
            "action": record.action,
            "subject": record.subject,
            "model": record.model,
            "payload_b64": base64.b64encode(record.payload).decode(),
            "entry_b64": base64.b64encode(record.entry).decode(),
            "prev_hash": record.prev_hash,
            "entry_hash": record.entry_hash,
            "signature_b64": base64.b64encode(record.signature).decode(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def record_from_json(line: str) -> EventRecord:
    data = json.loads(line)
    return EventRecord(
        seq=int(data["seq"]),
        ts=str(data["ts"]),
        actor=str(data["actor"]),
        keyid=str(data["keyid"]),
        action=str(data["action"]),
        subject=str(data["subject"]),
        model=data.get("model"),
        payload=base64.b64decode(data["payload_b64"]),
        entry=base64.b64decode(data["entry_b64"]),
        prev_hash=str(data["prev_hash"]),
        entry_hash=str(data["entry_hash"]),
        signature=base64.b64decode(data["signature_b64"]),
    )


def read_events(directory: Path) -> Iterator[EventRecord]:
    with (directory / EVENTS_FILE).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield record_from_json(line)


def keys_document(history: KeyHistory) -> list[dict[str, object]]:
    """Per key: whose, which role, its id and PEM, and the sequence range it was valid for."""
    rows: list[dict[str, object]] = []
    for key in sorted(history.keys.values(), key=lambda k: (k.valid_from, k.keyid)):
        user = history.users.get(key.user)
        pem = Ed25519PublicKey.from_public_bytes(key.public_key).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        rows.append(
            {
                "name": key.user,
                "role": user.role if user else None,
                "keyid": key.keyid,
                "public_key_pem": pem.decode("ascii"),
                "valid_from_seq": key.valid_from,
                "revoked_at_seq": key.revoked_at,
            }
        )
    return rows
