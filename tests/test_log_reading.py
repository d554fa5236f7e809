"""A long log is read in ranges of sequence numbers: every event once, in order, gaps skipped;
its events keep their payload's text and parse it when read."""

from __future__ import annotations

from sqlalchemy import text

from audit.entry import EventRecord
from console.auditing.log import iter_records
from console.auditing.replay_entries import Event, to_event
from tests.conftest import Team


def _seqs(team: Team, **options: int) -> list[int]:
    with team.store.session() as session:
        return [record.seq for record in iter_records(session, **options)]


def test_every_event_once_in_order_whatever_the_page(team: Team) -> None:
    with team.store.session() as session:
        total = int(
            session.connection().execute(text("SELECT count(*) FROM audit_events")).scalar()
        )
    assert total > 3
    every = list(range(total))
    assert _seqs(team) == every
    assert _seqs(team, page=1) == every
    assert _seqs(team, page=2, upto=3) == [0, 1, 2]
    assert _seqs(team, page=2, after=1) == every[2:]
    assert _seqs(team, after=total - 1) == []


def test_a_gap_in_the_numbers_is_skipped_not_walked(team: Team) -> None:
    total = len(_seqs(team))
    with team.store.session() as session:
        connection = session.connection()
        connection.execute(text("DELETE FROM audit_events WHERE seq = 2"))
        # Far beyond the rest: walking page by page would take a hundred million queries.
        connection.execute(
            text("UPDATE audit_events SET seq = 1000000000 WHERE seq = :last"), {"last": total - 1}
        )
    expected = [n for n in range(total - 1) if n != 2]
    assert _seqs(team, page=1) == [*expected, 1_000_000_000]
    assert _seqs(team, page=1, upto=1_000_000_000) == expected


def _record(payload: bytes) -> EventRecord:
    return EventRecord(
        seq=7,
        ts="2026-01-01T00:00:00Z",
        actor="ada",
        keyid="k",
        action="model.created",
        subject="model:m",
        model="m",
        payload=payload,
        entry=b"",
        prev_hash="",
        entry_hash="",
        signature=b"",
    )


def test_an_event_parses_its_payload_when_read() -> None:
    event = to_event(_record(b'{"name": "m", "owner": "ada"}'))
    assert event.body == b'{"name": "m", "owner": "ada"}'
    assert event.payload == {"name": "m", "owner": "ada"}
    assert to_event(_record(b"[1, 2]")).payload == {}
    assert to_event(_record(b"not json")).payload == {}
    assert to_event(_record(b"\xff")).payload == {}
    parsed = Event(1, "t", "ada", "", "settings.changed", "s", None, {"key": "v"})
    assert parsed.payload == {"key": "v"}
