"""Appends signed events to the log inside the caller's transaction, and reads them back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sqlalchemy import event, text
from sqlmodel import Session

from audit.entry import GENESIS_PREV, EventRecord
from audit.keys import Signer
from audit.times import next_event_time
from console.auditing.append import RECORD_COLUMNS, record_from_row, signed_event
from console.auditing.catalogue import check_event
from console.store.backend import announce_change
from console.store.models import AuditEvent

_HEAD_KEY = "signoff.audit_head"


def forget_head(session: Session, *_args: object) -> None:
    """Drop the cached head (the transaction ended, or an event was appended in plain SQL)."""
    session.info.pop(_HEAD_KEY, None)


# A rollback or commit ends the transaction the cached head belongs to.
event.listen(Session, "after_rollback", forget_head)
event.listen(Session, "after_commit", forget_head)


def _head(session: Session) -> tuple[int, str, str | None]:
    """The last event's seq, entry hash and time, cached per transaction (read once per unit)."""
    head = session.info.get(_HEAD_KEY)
    if head is None:
        row = (
            session.connection()
            .execute(
                text(
                    "SELECT seq, entry_hash, ts FROM audit_events "
                    "WHERE seq = (SELECT max(seq) FROM audit_events)"
                )
            )
            .first()
        )
        head = (-1, GENESIS_PREV, None) if row is None else (int(row[0]), str(row[1]), str(row[2]))
        session.info[_HEAD_KEY] = head
    return head


def log_head(session: Session) -> tuple[int, str]:
    """The last event's seq and entry hash as this unit of work sees it (read once per unit)."""
    seq, digest, _ts = _head(session)
    return seq, digest


def event_time(session: Session, proposed: str) -> str:
    """The time the next event will carry: `proposed`, or the last event's if that is later.

    Time in the log never runs backwards. A clock set back (or a caller passing an old `ts`)
    is clamped rather than refused: refusing would stop all work on a store whose clock
    stepped back by a second, while clamping keeps the order that verification and request
    expiry rely on. Services compare deadlines with this time, never with the raw clock.
    """
    return next_event_time(proposed, _head(session)[2])


def append_event(
    session: Session,
    signer: Signer,
    action: str,
    subject: str,
    payload: Mapping[str, object],
    *,
    ts: str,
    model: str | None = None,
) -> AuditEvent:
    """Sign and add the next event; it commits or rolls back with the caller's state change.

    `ts` is a proposal: an event never carries a time before the previous event's. The action
    must be in the catalogue (`console.auditing.catalogue`) with a payload of its type.
    """
    check_event(action, payload)
    return append_uncatalogued_event(session, signer, action, subject, payload, ts=ts, model=model)


def append_uncatalogued_event(
    session: Session,
    signer: Signer,
    action: str,
    subject: str,
    payload: Mapping[str, object],
    *,
    ts: str,
    model: str | None = None,
) -> AuditEvent:
    """Sign and add any event: for tests that play a forger, whom no catalogue binds."""
    ts = event_time(session, ts)
    record = signed_event(_head(session), signer, action, subject, payload, ts=ts, model=model)
    event = AuditEvent(
        seq=record.seq,
        ts=record.ts,
        actor=record.actor,
        keyid=record.keyid,
        action=record.action,
        subject=record.subject,
        model=record.model,
        payload=record.payload,
        entry=record.entry,
        prev_hash=record.prev_hash,
        entry_hash=record.entry_hash,
        signature=record.signature,
    )
    session.add(event)
    session.flush()
    announce_change(session.connection())
    session.info[_HEAD_KEY] = (record.seq, record.entry_hash, record.ts)
    return event


def log_size(session: Session) -> int:
    value = session.connection().execute(text("SELECT count(*) FROM audit_events")).scalar()
    return int(value or 0)


def to_record(event: AuditEvent) -> EventRecord:
    return EventRecord(
        seq=event.seq,
        ts=event.ts,
        actor=event.actor,
        keyid=event.keyid,
        action=event.action,
        subject=event.subject,
        model=event.model,
        payload=bytes(event.payload),
        entry=bytes(event.entry),
        prev_hash=event.prev_hash,
        entry_hash=event.entry_hash,
        signature=bytes(event.signature),
    )


def iter_records(
    session: Session, *, page: int = 5000, upto: int | None = None, after: int = -1
) -> Iterator[EventRecord]:
    """Every event (after seq `after`) in sequence order, in pages so memory stays flat.

    A page is a range of sequence numbers, not `ORDER BY seq LIMIT n`: DuckDB answers a limit by
    sorting every later row, blobs and all (hundreds of MiB for a long log), where a range reads
    only its own row groups. A gap in the numbers (a damaged log) is skipped over, not walked.
    """
    connection = session.connection()
    shared: dict[str, str] = {}
    select = f"SELECT {RECORD_COLUMNS} FROM audit_events WHERE seq > :after AND seq <= :last"
    if upto is None:
        upto = int(connection.execute(text("SELECT max(seq) FROM audit_events")).scalar() or 0) + 1
    while after < upto - 1:
        if len(shared) > 100_000:  # names that hardly recur: start afresh
            shared.clear()
        last = min(after + page, upto - 1)
        rows = connection.execute(
            text(select + " ORDER BY seq"), {"after": after, "last": last}
        ).all()
        if not rows:  # a gap: go on from the next event there is
            following = connection.execute(
                text("SELECT min(seq) FROM audit_events WHERE seq > :after AND seq < :upto"),
                {"after": after, "upto": upto},
            ).scalar()
            if following is None:
                return
            after = int(following) - 1
            continue
        for row in rows:
            yield record_from_row(row, shared)
        after = last
