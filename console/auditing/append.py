"""Signs the next event of the log, built once for the ORM's unit of work and for a plain-SQL write.

`console.auditing.log.append_event` (a `Store.session()`) and `append_event_rows` (any
`WriteRows`: the driver-level DuckDB write of `approve`, `reject` and `card edit`) both build
the event here, so the two paths store the same bytes: canonical payload, entry, hash chain and
signature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from audit.canonical import canonical_json
from audit.entry import GENESIS_PREV, EventRecord, build_entry, entry_hash, signing_message
from audit.keys import Signer
from audit.times import next_event_time
from console.auditing.catalogue import check_event
from console.store.rows import Rows, WriteRows

RECORD_COLUMNS = "seq, ts, actor, keyid, action, subject, model, payload, entry, prev_hash, entry_hash, signature"
HEAD_QUERY = (
    "SELECT seq, entry_hash, ts FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)"
)
Head = tuple[int, str, str | None]  # the last event's seq, entry hash and time


def read_head(rows: Rows) -> Head:
    """The log's last event as `rows` sees it ((-1, 64 zeros, None) for an empty log)."""
    found = rows.all(HEAD_QUERY)
    if not found:
        return (-1, GENESIS_PREV, None)
    seq, digest, ts = found[0]
    return (int(seq), str(digest), str(ts))


def signed_event(
    head: Head,
    signer: Signer,
    action: str,
    subject: str,
    payload: Mapping[str, object],
    *,
    ts: str,
    model: str | None,
) -> EventRecord:
    """The event after `head` at `ts` (already clamped to the head's time), chained and signed."""
    seq, prev = head[0] + 1, head[1]
    payload_bytes = canonical_json(dict(payload))
    entry = build_entry(
        seq=seq,
        ts=ts,
        actor=signer.name,
        keyid=signer.keyid,
        action=action,
        subject=subject,
        model=model,
        payload=payload_bytes,
        prev_hash=prev,
    )
    return EventRecord(
        seq=seq,
        ts=ts,
        actor=signer.name,
        keyid=signer.keyid,
        action=action,
        subject=subject,
        model=model,
        payload=payload_bytes,
        entry=entry,
        prev_hash=prev,
        entry_hash=entry_hash(entry),
        signature=signer.sign(signing_message(entry)),
    )


def append_event_rows(
    rows: WriteRows,
    signer: Signer,
    action: str,
    subject: str,
    payload: Mapping[str, object],
    *,
    ts: str,
    model: str | None = None,
) -> EventRecord:
    """`append_event` in plain SQL: a catalogued action, inserted in the caller's transaction."""
    head = read_head(rows)
    ts = next_event_time(ts, head[2])  # time in the log never runs backwards (`event_time`)
    record = next_event(head, signer, action, subject, payload, ts=ts, model=model)
    rows.execute(
        f"INSERT INTO audit_events ({', '.join(EVENT_COLUMNS)}) "
        f"VALUES ({', '.join(':' + name for name in EVENT_COLUMNS)})",
        {name: getattr(record, name) for name in EVENT_COLUMNS},
    )
    rows.log_grew()
    return record


def record_from_row(row: Sequence[Any], shared: dict[str, str] | None = None) -> EventRecord:
    """One `audit_events` row, selected as `RECORD_COLUMNS`, as the verifier's record.

    With `shared`, names that recur from row to row (actor, key, action, subject, model) are
    kept once: a report holds every record of a long log at the same time.
    """
    one = (
        (lambda value: value) if shared is None else (lambda value: shared.setdefault(value, value))
    )
    model = row[6]
    return EventRecord(
        seq=int(row[0]),
        ts=row[1],
        actor=one(row[2]),
        keyid=one(row[3]),
        action=one(row[4]),
        subject=one(row[5]),
        model=None if model is None else one(model),
        payload=bytes(row[7]),
        entry=bytes(row[8]),
        prev_hash=row[9],
        entry_hash=row[10],
        signature=bytes(row[11]),
    )


EVENT_COLUMNS = tuple(name.strip() for name in RECORD_COLUMNS.split(","))


def next_event(
    head: Head,
    signer: Signer,
    action: str,
    subject: str,
    payload: Mapping[str, object],
    *,
    ts: str,
    model: str | None = None,
) -> EventRecord:
    """The catalogued event after `head` (`ts` already clamped to it), signed but not inserted:
    for a writer that inserts it on its own connection (`event_values` in `EVENT_COLUMNS` order)."""
    check_event(action, payload)
    return signed_event(head, signer, action, subject, payload, ts=ts, model=model)


def event_values(record: EventRecord) -> tuple[object, ...]:
    """The event's row in `EVENT_COLUMNS` order: what `append_event_rows` inserts."""
    return tuple(getattr(record, name) for name in EVENT_COLUMNS)
