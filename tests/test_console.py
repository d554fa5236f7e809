"""The console driven as a person would: keys, workers, and screens pinned by snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from console.store.db import Store
from console.tui.app import make_app


async def test_models_screen_lists_the_demo_models(demo_home: Path) -> None:
    app = make_app(Store(demo_home), user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        models = app.screen.query_one("#models", DataTable)
        assert models.row_count == 3
        versions = app.screen.query_one("#versions", DataTable)
        assert versions.row_count == 3  # breast-cancer-classifier first
        await pilot.press("down")
        await pilot.pause()
        assert versions.row_count == 2  # credit-risk
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert models.row_count == 3


async def test_console_notices_changes_made_by_another_process(demo_home: Path) -> None:
    from audit.keys import KeyStore, Signer
    from console.users import revoke_user
    from fixtures.demo import DEMO_PASSPHRASE

    store = Store(demo_home)
    app = make_app(store, user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        screen: Any = app.screen
        before = screen.seen_log_size
        keys = KeyStore(demo_home / "demo-keys")
        admin = Signer("ada", keys.load_private("ada", DEMO_PASSPHRASE.encode()))
        revoke_user(Store(demo_home), admin, "rosa")
        screen.poll()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.seen_log_size == before + 1


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_models_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = make_app(Store(demo_home), user="rita")

    async def settle(pilot: Any) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=settle)
