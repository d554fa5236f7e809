"""A package's governance: its version's signed decisions and stage history, provable offline.

`governance.json` holds the events themselves as the log holds them (canonical payloads, entries,
signatures and hash-chain links), the key events that register every signer, a checkpoint over
the log up to the last of them signed by the packager, and an inclusion proof of each event.
The checkpoint covers only the prefix the package needs, so packaging again (which appends a
`package.built` event) gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlmodel import Session, col, or_, select

from audit import checkpoint as checkpoints
from audit.canonical import canonical_json, sha256_hex
from audit.chain import verify_records
from audit.entry import EventRecord
from audit.excerpt import inclusion_proofs
from audit.export_format import keys_document, record_to_json
from audit.key_history import KeyHistory
from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import iter_records, to_record
from console.auditing.projection import KEY_ACTIONS
from console.errors import IntegrityError, StateForged
from console.store.db import Store
from console.store.models import Approval, AuditEvent, StoreInfo

GOVERNANCE = "governance.json"
GOVERNANCE_FORMAT = "https://signoff.dev/package/governance/v1"
DECISIONS = (actions.PROMOTION_APPROVED, actions.PROMOTION_REJECTED)
REQUEST_CLOSED = (*DECISIONS, actions.PROMOTION_WITHDRAWN)
STAGE_CHANGES = (
    actions.PROMOTION_EXECUTED,
    actions.CANARY_STARTED,
    actions.CANARY_STEP,
    actions.CANARY_COMPLETED,
    actions.CANARY_ABORTED,
    actions.ROLLBACK_EXECUTED,
)


def governance_member(store: Store, signer: Signer, model: str, version: int) -> bytes | None:
    """`governance.json` for MODEL:VERSION, or None when no request or stage ever named it."""
    with store.snapshot(), store.session() as session:
        chosen = _version_events(session, model, version)
        if not any(r.action != actions.VERSION_REGISTERED for r in chosen):
            return None
        chosen += _key_events(session, {r.actor for r in chosen} | {signer.name})
        size = max(r.seq for r in chosen) + 1
        prefix = list(iter_records(session, upto=size))
        statements = _statements(session, [r for r in chosen if r.action in DECISIONS])
        origin = session.get(StoreInfo, "origin")
    log = verify_records(prefix, expected_total=size)
    if not log.ok or log.size != size or origin is None:
        first = log.first
        why = f"sequence {first.seq}: {first.reason}" if first else "it is incomplete"
        raise IntegrityError(
            f"refusing to sign a checkpoint over a log that does not verify ({why}); "
            "run `signoff audit verify`"
        )
    events = sorted({r.seq: r for r in chosen}.values(), key=lambda r: r.seq)
    proofs = inclusion_proofs(log.leaf_hashes, (r.seq for r in events))
    history = _replayed_keys(events)
    note = checkpoints.issue(origin.value, size, log.root, signer.name, signer.private_key)
    return canonical_json(
        {
            "format": GOVERNANCE_FORMAT,
            "model": model,
            "version": version,
            "checkpoint": note,
            "events": [
                {**json.loads(record_to_json(r)), "inclusion": [h.hex() for h in proofs[r.seq]]}
                for r in events
            ],
            "statements": statements,
            "keys": keys_document(history),
        }
    )


def _payload(record: EventRecord) -> dict[str, object]:
    value = json.loads(record.payload)
    return value if isinstance(value, dict) else {}


def _version_events(session: Session, model: str, version: int) -> list[EventRecord]:
    """The version's registration, its requests, their decisions and its stage changes."""
    rows = session.exec(
        select(AuditEvent).where(AuditEvent.model == model).order_by(col(AuditEvent.seq))
    ).all()
    chosen: list[EventRecord] = []
    requests: set[int] = set()
    for record in map(to_record, rows):
        payload = _payload(record)
        if record.action in (actions.VERSION_REGISTERED, actions.PROMOTION_REQUESTED):
            if payload.get("model") == model and payload.get("version") == version:
                chosen.append(record)
                if record.action == actions.PROMOTION_REQUESTED:
                    requests.add(int(str(payload.get("request"))))
        elif record.action in REQUEST_CLOSED:
            if payload.get("request") in requests:
                chosen.append(record)
        elif record.action in STAGE_CHANGES and version in (
            payload.get("version"),
            payload.get("replaced_version"),
            payload.get("champion"),
        ):
            chosen.append(record)
    return chosen


def _key_events(session: Session, signers: set[str]) -> list[EventRecord]:
    """Genesis and every key event of the signers, closed over who signed those in turn."""
    rows = session.exec(
        select(AuditEvent)
        .where(or_(col(AuditEvent.seq) == 0, col(AuditEvent.action).in_(KEY_ACTIONS)))
        .order_by(col(AuditEvent.seq))
    ).all()
    records = [to_record(row) for row in rows]
    people = set(signers)
    while True:
        chosen = [r for r in records if r.seq == 0 or _payload(r).get("name") in people]
        more = {r.actor for r in chosen} - people
        if not more:
            return chosen
        people |= more


def _replayed_keys(events: Iterable[EventRecord]) -> KeyHistory:
    history = KeyHistory()
    for record in events:
        history.apply(record.seq, record.actor, record.action, _payload(record))
    return history


def _statements(session: Session, decisions: list[EventRecord]) -> dict[str, str]:
    """Each decision's signed statement (event seq -> canonical JSON), held to its event."""
    found: dict[str, str] = {}
    for record in decisions:
        row = session.exec(select(Approval).where(Approval.event_seq == record.seq)).first()
        statement = bytes(row.statement) if row is not None else b""
        if sha256_hex(statement) != _payload(record).get("statement_sha256"):
            raise StateForged(
                f"the approvals row of event {record.seq} does not hold the statement its event "
                "signed; run `signoff audit verify`"
            )
        found[str(record.seq)] = statement.decode("utf-8")
    return found
