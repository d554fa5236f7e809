"""The store itself: forward-only migrations, and one transaction per unit of work."""

from __future__ import annotations

import duckdb
import pytest

from console.auditing.log import append_uncatalogued_event
from console.store.db import open_store
from console.store.migrations import SCHEMA_VERSION
from console.store.models import StoreInfo
from tests.conftest import BACKENDS, Team, store_fingerprint


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on the DuckDB file and on a PostgreSQL team store."""
    return str(request.param)


@pytest.mark.parametrize("backend", ["duckdb"])  # edits the DuckDB file
def test_an_older_store_is_migrated_forward(team: Team) -> None:
    team.store.dispose()
    con = duckdb.connect(str(team.home / "signoff.duckdb"))
    for table in (
        "promotion_requests",
        "approvals",
        "validation_runs",
        "validation_checks",
        "card_fields",
        "packages",
    ):
        con.execute(f"DROP TABLE {table}")
    con.execute("DELETE FROM schema_version WHERE version >= 2")
    con.close()
    store = open_store(team.home)
    store.dispose()
    con = duckdb.connect(str(team.home / "signoff.duckdb"))
    try:
        versions = [
            r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        ]
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    finally:
        con.close()
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert "promotion_requests" in tables


def test_a_failed_unit_of_work_changes_nothing(team: Team) -> None:
    before = store_fingerprint(team.home)
    with pytest.raises(RuntimeError), team.store.session() as session:
        session.add(StoreInfo(key="half", value="done"))
        append_uncatalogued_event(
            session, team["ada"], "test.event", "x", {}, ts=team.store.clock()
        )
        raise RuntimeError("boom")
    assert store_fingerprint(team.home) == before


def test_reads_in_one_block_share_one_connection(team: Team) -> None:
    from sqlalchemy import event
    from sqlmodel import select

    from console.store.models import User

    store = team.store
    opened: list[object] = []  # connections handed to a unit of work (a kept one counts too)
    event.listen(store.engine, "checkout", lambda *_: opened.append(1))
    with store.reading():
        for _ in range(3):
            with store.session() as session:
                assert session.exec(select(User)).all()
        with store.reading(), store.session() as session:  # nested: the same connection
            session.add(StoreInfo(key="written", value="inside a read block"))
        with pytest.raises(RuntimeError), store.session() as session:
            session.add(StoreInfo(key="failed", value="rolled back"))
            session.flush()
            raise RuntimeError("boom")
    assert len(opened) == 1
    with store.session() as session:  # its own connection again
        keys = {row.key for row in session.exec(select(StoreInfo)).all()}
    assert len(opened) == 2
    assert "written" in keys and "failed" not in keys


def test_next_key_counts_from_one_within_its_scope(team: Team) -> None:
    from sqlmodel import col

    from console.store.keys import next_id, next_key
    from console.store.models import Checkpoint, ModelVersion

    def checkpoint(number: int) -> Checkpoint:
        return Checkpoint(
            id=number, size=1, root_hex="00", note="n", issued_by="ada", issued_at="t"
        )

    with team.store.session() as session:
        assert next_id(session, Checkpoint) == 1
        session.add(checkpoint(1))
        session.add(checkpoint(5))  # not flushed yet: the next key still sees it
        assert next_id(session, Checkpoint) == 6
        assert next_key(session, ModelVersion.number, col(ModelVersion.model) == "none") == 1
        session.rollback()
