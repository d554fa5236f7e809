"""A console on the team store learns of a colleague's action from the server, not by polling."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from console.release.requests import request_promotion
from console.store.db import Store
from console.tui.app import make_app
from tests.conftest import Team
from tests.console_pilot import settle
from tests.workflow_helpers import register_versions


@pytest.fixture
def backend() -> str:
    return "postgresql"


def colleague(team: Team, url: str) -> Store:
    """Another client of the same database: its own Store, its own connections."""
    return Store(team.home, url=url)


def test_a_listener_hears_committed_events_and_not_rolled_back_ones(
    team: Team, pg_url: str
) -> None:
    register_versions(team, 1)
    heard = threading.Semaphore(0)
    stop = threading.Event()
    listener = threading.Thread(
        target=team.store.backend.watch, args=(stop, heard.release), daemon=True
    )
    listener.start()
    try:
        assert heard.acquire(timeout=30)  # the catch-up call once it listens
        other = colleague(team, pg_url)
        # A unit of work that fails after its event was flushed announces nothing.
        with pytest.raises(RuntimeError), other.session() as session:
            from console.auditing.log import append_uncatalogued_event

            append_uncatalogued_event(
                session, team["dana"], "test.noted", "tumour:1", {}, ts=other.clock()
            )
            raise RuntimeError("the command failed after its event")
        assert not heard.acquire(timeout=1.5)
        request_promotion(other, team["dana"], "tumour", 1, "dev", "ready")
        assert heard.acquire(timeout=30)
    finally:
        stop.set()
        listener.join(timeout=10)
    assert not listener.is_alive()


async def test_the_console_sees_a_colleagues_request_without_polling(
    team: Team, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were the console polling, an hour between polls would hide the colleague's request.
    monkeypatch.setattr("console.tui.app.POLL_SECONDS", 3600.0)
    register_versions(team, 1)
    app = make_app(team.store, user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)  # the first poll read the log's size
        before = app.log_size
        assert before > 0
        request_promotion(colleague(team, pg_url), team["dana"], "tumour", 1, "dev", "ready")
        for _ in range(600):  # generous on a loaded machine; the listener gathers every 0.5 s
            await pilot.pause(0.05)
            if app.log_size == before + 1:
                break
        assert app.log_size == before + 1
    await asyncio.sleep(0)


def test_a_duckdb_store_cannot_announce_changes(tmp_path: Path) -> None:
    from console.store.backend import DuckDBFile

    assert DuckDBFile(tmp_path / "signoff.duckdb").watch(threading.Event(), lambda: None) is False
