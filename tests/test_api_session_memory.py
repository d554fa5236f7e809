"""What a registration session remembers between its registrations: its own writes, not read back
while the log's head is the one it left; anything else written, and it reads and proves again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlmodel import col, select

from console import api
from console.api import _parquet, _saved
from console.auditing import catalogue as actions
from console.auditing.trail import verify_store
from console.errors import Refused, StateForged
from console.registry.cards import card_fields, set_card_fields
from console.registry.register import RegisterRequest, register_version
from console.registry.session_memory import ProfiledFrames, Proven
from console.store.db import Store
from console.store.models import AuditEvent
from tests.conftest import Team
from tests.session_frames import churn_frame, fitted

CARD = {"license": "apache-2.0", "caveats_and_recommendations": "Re-validate on local data."}


@contextmanager
def _statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store's engine runs inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def test_a_session_reads_only_the_head_once_it_knows_the_line(team: Team) -> None:
    frame = churn_frame()
    with api.session(team.store, team["dana"]) as s:
        for c in (0.5, 1.0):
            s.register_model("churn", fitted(frame, c), frame, target="label")
        with _statements(team.store) as seen:
            done = s.register_model("churn", fitted(frame, 2.0), frame, target="label")
    assert done.version == 3
    reads = [q for q in seen if q.startswith("SELECT")]
    assert len(reads) == 1 and "max(seq) FROM audit_events" in reads[0]
    assert [q.split(" (")[0] for q in seen if q.startswith("INSERT")] == [
        "INSERT INTO audit_events",
        "INSERT INTO model_versions",
    ]
    assert verify_store(team.store).ok


def test_another_units_writes_are_read_again(team: Team) -> None:
    """A version registered and a card edited outside the session between its registrations:
    the session numbers after them, inherits the edited card, and the log verifies."""
    frame = churn_frame()
    with api.session(team.store, team["dana"]) as s:
        s.register_model("churn", fitted(frame, 0.5), frame, target="label")
        s.register_model("churn", fitted(frame, 1.0), frame, target="label")
        outside = api.register_model(
            team.store, team["dana"], "churn", fitted(frame, 1.5), frame, target="label"
        )
        assert outside.version == 3
        assert s.register_model("churn", fitted(frame, 2.0), frame, target="label").version == 4
        set_card_fields(team.store, team["dana"], "churn", 4, CARD)
        fifth = s.register_model("churn", fitted(frame, 3.0), frame, target="label")
        sixth = s.register_model("churn", fitted(frame, 4.0), frame, target="label")
    assert (fifth.version, sixth.version) == (5, 6)
    assert card_fields(team.store, "churn", 5) == CARD
    assert card_fields(team.store, "churn", 6) == CARD  # from the session's memory of v5
    with team.store.session() as session:
        inherited = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == actions.CARD_INHERITED)
            .order_by(col(AuditEvent.seq))
        ).all()
    sources = [json.loads(bytes(e.payload))["from_version"] for e in inherited]
    assert [e.subject for e in inherited] == ["churn:5", "churn:6"] and sources == [4, 5]
    assert verify_store(team.store).ok


def test_a_remembered_line_still_refuses_an_artifact_it_holds(team: Team) -> None:
    frame = churn_frame()
    artifact, trusted = _saved(fitted(frame))
    other, _ = _saved(fitted(frame, 2.0))

    def request(data: bytes, *, allow: bool = False) -> RegisterRequest:
        return RegisterRequest(
            model="churn",
            artifact=data,
            artifact_source="churn (in-process estimator)",
            train_data=Path("train.parquet"),
            target="label",
            trust_types=trusted,
            allow_duplicate=allow,
            train_parquet=_parquet(frame),
        )

    proven, frames = Proven(), ProfiledFrames()
    with team.store.reading():
        for data in (artifact, other, _saved(fitted(frame, 3.0))[0]):
            register_version(team.store, team["dana"], request(data), proven=proven, frames=frames)
        assert proven.lines["churn"].holders[hashlib.sha256(artifact).hexdigest()] == 1
        with pytest.raises(Refused, match="churn:1 already holds this artifact"):
            register_version(
                team.store, team["dana"], request(artifact), proven=proven, frames=frames
            )
        again = register_version(
            team.store, team["dana"], request(artifact, allow=True), proven=proven, frames=frames
        )
    assert again.version == 4
    with team.store.session() as session:
        last = session.get(AuditEvent, again.event_seq)
        assert last is not None and json.loads(bytes(last.payload))["duplicate_of"] == 1


def test_a_forged_row_is_still_caught(team: Team) -> None:
    """The memory starts from a proof: a users row edited before the session is refused at its
    first registration; a version row edited after the session is caught by verification."""
    frame = churn_frame()
    with team.store.session() as session:
        session.connection().execute(text("UPDATE users SET role = 'admin' WHERE name = 'dana'"))
    with api.session(team.store, team["dana"]) as s, pytest.raises(StateForged):
        s.register_model("churn", fitted(frame), frame, target="label")
    with team.store.session() as session:
        session.connection().execute(text("UPDATE users SET role = 'author' WHERE name = 'dana'"))
    with api.session(team.store, team["dana"]) as s:
        for c in (0.5, 1.0, 2.0):
            s.register_model("churn", fitted(frame, c), frame, target="label")
    assert verify_store(team.store).ok
    with team.store.session() as session:
        session.connection().execute(
            text("UPDATE model_versions SET target = 'forged' WHERE model = 'churn' AND number = 3")
        )
    assert not verify_store(team.store).ok
