"""The console on a team store shows what it shows on the DuckDB file, screen for screen."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from console.errors import SignoffError
from console.store import db
from console.store.db import Store, open_store
from console.tui.app import SignoffApp, make_app
from fixtures.demo import DEMO_PASSPHRASE
from tests.conftest import Runner, fixed_clock
from tests.console_pilot import settle
from tests.postgres_server import Server

SCREENS = ["d", "m", "i", "a", "e", "l", "u", "o"]
HOLD_SECONDS = 60.0  # how long a held server keeps the console waiting at most


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture
def team_copy(demo_home: Path, pg_url: str, signoff: Runner, tmp_path: Path) -> str:
    """The demo moved into a PostgreSQL database, as a team moving its store would."""
    moved = signoff(
        "store", "copy", "--home", demo_home, "--to", pg_url, "--artifacts", tmp_path / "shared"
    )
    assert moved.exit_code == 0, moved.output
    return pg_url


def console_on(home: Path, url: str | None) -> SignoffApp:
    store = Store(home, url=url)
    store.clock = fixed_clock("2026-11-04T10:00:00")
    return make_app(store, user="rita", passphrase=lambda _n: DEMO_PASSPHRASE.encode())


def visible_text(app: App[None]) -> str:
    """The screen's characters, without styling or the parts that name where the store is."""
    svg = app.export_screenshot()
    words = re.findall(r">([^<>]+)</text>", svg)
    text = " ".join(w.replace("&#160;", " ") for w in words)
    return re.sub(r"\s+", " ", text)


async def screens_of(app: SignoffApp) -> dict[str, str]:
    shown: dict[str, str] = {}
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        for key in SCREENS:
            await pilot.press(key)
            await settle(pilot)
            shown[key] = visible_text(app)
    return shown


async def test_every_screen_shows_the_same_on_postgresql_as_on_the_duckdb_file(
    demo_home: Path, team_copy: str
) -> None:
    on_file = await screens_of(console_on(demo_home, None))
    on_server = await screens_of(console_on(demo_home, team_copy))
    for key in SCREENS:
        assert on_server[key] == on_file[key], key
        assert len(on_server[key]) > 200, key  # a screen with its data, not an empty frame


async def test_the_console_paints_before_it_reaches_the_team_store(
    demo_home: Path, team_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server answers only once the test lets it (a slow network, held still): a console
    # that waited for it before its first frame would not paint until the hold ran out.
    answer = threading.Event()
    reach = db.open_store

    def held(*args: Any, **kwargs: Any) -> Store:
        answer.wait(HOLD_SECONDS)
        return reach(*args, **kwargs)

    monkeypatch.setattr(db, "open_store", held)
    app = make_app(demo_home, user="rita", url=team_copy)  # a home and a URL, as the CLI passes
    async with app.run_test(size=(140, 44)) as pilot:
        assert app._store is None  # painted; the server not reached yet
        assert "signoff" in visible_text(app)
        answer.set()
        await settle(pilot)
        assert app._store is not None and app._store.kind == "postgresql"
        assert app.log_size > 0
        assert len(visible_text(app)) > 200


@pytest.mark.parametrize("database", ["no_such_database", "password"])
async def test_a_team_store_the_console_cannot_reach_ends_it_with_the_clis_line(
    pg_server: Server, tmp_path: Path, database: str
) -> None:
    url = pg_server.url(database)
    if database == "password":  # refused before any connection: it would end up in logs
        url = url.replace(f"{pg_server.user}@", f"{pg_server.user}:secret@")
    with pytest.raises(SignoffError) as refused:  # what every other command says
        open_store(tmp_path, url=url)
    app = make_app(tmp_path, user="rita", url=url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
    assert app.return_code == refused.value.exit_code == 2
    assert app.open_error is not None and app.open_error.message == refused.value.message


HEADLESS_CONSOLE = """
import sys
from textual.app import App
run = App.run
App.run = lambda self, **_: run(self, headless=True, size=(80, 24))
from console.cli import main
sys.argv = ["signoff", *sys.argv[1:]]
main()
"""


def test_signoff_on_a_database_it_cannot_reach_prints_one_line_and_exits_2(
    pg_server: Server, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    url = pg_server.url("no_such_database")
    with pytest.raises(SignoffError) as refused:
        open_store(tmp_path, url=url)
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            HEADLESS_CONSOLE,
            "--home",
            str(tmp_path),
            "--db",
            url,
            "--as",
            "rita",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 2
    assert done.stderr == f"error: {refused.value.message}\n"  # one line, no traceback


def test_the_palettes_entries_are_the_same_on_postgresql(demo_home: Path, team_copy: str) -> None:
    from console.tui.release_data import ReleaseCommand, release_commands

    def entries(url: str | None) -> list[ReleaseCommand]:
        store = Store(demo_home, url=url)
        store.clock = fixed_clock("2026-11-04T10:00:00")
        try:
            return release_commands(store)
        finally:
            store.dispose()

    on_file = entries(None)
    assert entries(team_copy) == on_file
    assert any(c.request_id is None for c in on_file)  # a rollback: the last stage's holders
