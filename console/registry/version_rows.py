"""A registration's version row and its event inserted as driver statements: no ORM flush to build.

On a DuckDB store the unit of work's own connection runs two fixed INSERTs (SQLAlchemy's
`exec_driver_sql`: no compilation, no unit-of-work bookkeeping, the same transaction, errors
translated as any other statement's). The event is built and signed by
`console.auditing.append` as every append is, and the rows hold the values the ORM would
insert, so both ways store the same bytes (`tests/test_api_driver_rows.py`). Elsewhere
(PostgreSQL) the ORM inserts them as before.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session

from audit.entry import EventRecord
from audit.keys import Signer
from console.auditing.append import EVENT_COLUMNS, event_values, next_event
from console.auditing.log import append_event, event_time, forget_head, log_head, to_record
from console.store.models import ModelVersion

VERSION_COLUMNS = tuple(column.name for column in ModelVersion.__table__.columns)  # type: ignore[attr-defined]


def _insert(table: str, columns: tuple[str, ...]) -> str:
    places = ", ".join(f"${i}" for i in range(1, len(columns) + 1))  # DuckDB's numbered style
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({places})"


EVENT_INSERT = _insert("audit_events", EVENT_COLUMNS)
VERSION_INSERT = _insert("model_versions", VERSION_COLUMNS)


def driver_statements(session: Session) -> bool:
    """Whether the unit of work's connection takes the fixed INSERTs (duckdb-engine's dialect)."""
    return session.connection().dialect.name == "duckdb"


def append_version(
    session: Session,
    signer: Signer,
    version: ModelVersion,
    action: str,
    payload: Mapping[str, object],
    *,
    ts: str,
) -> EventRecord:
    """Insert the version's event, then its row, in the unit of work's transaction.

    The log's head the unit cached is forgotten after (the next append reads it again); the
    caller knows the new head from the event returned.
    """
    subject = f"{version.model}:{version.number}"
    if not driver_statements(session):
        session.add(version)
        added = append_event(session, signer, action, subject, payload, ts=ts, model=version.model)
        return to_record(added)
    session.flush()  # rows the unit added before (a model, a dataset) go first, as they would
    ts = event_time(session, ts)
    seq, digest = log_head(session)
    record = next_event(
        (seq, digest, None), signer, action, subject, payload, ts=ts, model=version.model
    )
    connection = session.connection()
    try:
        connection.exec_driver_sql(EVENT_INSERT, event_values(record))
        connection.exec_driver_sql(
            VERSION_INSERT, tuple(getattr(version, name) for name in VERSION_COLUMNS)
        )
    finally:
        forget_head(session)
    return record
