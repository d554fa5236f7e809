"""The console driven as a person would: keys, workers, and screens pinned by snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from console.tui.app import COUNT_EVERY, make_app
from tests.conftest import demo_store
from tests.console_pilot import settle


async def test_models_screen_lists_the_demo_models(demo_home: Path) -> None:
    app = make_app(demo_store(demo_home), user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        models = app.screen.query_one("#models", DataTable)
        assert models.row_count == 4
        versions = app.screen.query_one("#versions", DataTable)
        assert versions.row_count == 3  # breast-cancer-classifier first
        await pilot.press("down")
        await settle(pilot)
        assert versions.row_count == 3  # credit-risk, with the retrained candidate
        await pilot.press("r")
        await settle(pilot)
        assert models.row_count == 4


async def test_the_models_screen_reads_a_models_versions_once_per_highlight(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page announces its highlighted model twice (the table's cursor, then the page):
    its versions are read once (with the page, in its worker); moving away and back, or
    reloading, reads them again."""
    import console.tui.screens.models as models_screen
    from console.tui.widgets.model_list import ModelList

    read: list[str] = []
    get_model = models_screen.get_model

    def counted(store: Any, name: str) -> Any:
        read.append(name)
        return get_model(store, name)

    monkeypatch.setattr(models_screen, "get_model", counted)
    app = make_app(demo_store(demo_home), user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        names = [m.name for m in app.screen.query_one(ModelList).models]
        first = names[0]
        assert read == [first]
        versions = app.screen.query_one("#versions", DataTable)
        assert versions.row_count == 3
        await pilot.press("down")
        await settle(pilot)
        await pilot.press("up")
        await settle(pilot)
        assert read[1:] == [names[1], first]
        assert versions.row_count == 3
        await pilot.press("r")
        await settle(pilot)
        assert read[3:] == [first]
        assert versions.row_count == 3


async def test_the_model_list_pages_and_filters_by_keys(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Static

    from console.tui.widgets import model_list

    monkeypatch.setattr(model_list, "PAGE_SIZE", 2)
    app = make_app(demo_store(demo_home), user="rita")

    def names() -> list[str]:
        table = app.screen.query_one("#models", DataTable)
        return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]

    def status() -> str:
        return str(app.screen.query_one("#model-page", Static).render())

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert names() == ["breast-cancer-classifier", "credit-risk"]
        assert status().startswith("1–2 of 4 · n: page")
        await pilot.press("n")
        await settle(pilot)
        assert names() == ["diabetes-regressor", "loan-default-gbm"]
        assert status().startswith("3–4 of 4 · p: page")
        title = str(app.screen.query_one("#model-title", Static).render())
        assert title.startswith("diabetes-regressor")  # versions follow the cursor
        await pilot.press("p")
        await settle(pilot)
        assert names() == ["breast-cancer-classifier", "credit-risk"]
        await pilot.press("slash", *"RISK", "enter")
        await settle(pilot)
        assert names() == ["credit-risk"] and status().startswith("1–1 of 1")
        await pilot.press("slash", "ctrl+u", *"nothing-like-this", "enter")
        await settle(pilot)
        assert names() == [] and status().startswith("no model matches 'nothing-like-this'")


async def test_the_key_bar_is_clickable(demo_home: Path) -> None:
    from console.tui.screens.models import ModelsScreen
    from console.tui.widgets.keybar import KeyBar

    app = make_app(demo_store(demo_home), user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        line = str(bar.render())
        assert " m Models " in line and line.rstrip().endswith("palette")
        await pilot.click(KeyBar, offset=(line.index(" m Models ") + 2, 0))
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)


async def test_the_console_opens_its_store_after_the_first_frame(demo_home: Path) -> None:
    from textual.widgets import Static

    app = make_app(demo_home, user="rita")  # a home, as the CLI passes it
    async with app.run_test(size=(80, 24)) as pilot:
        assert app._store is None  # painted; nothing opened yet
        waiting = str(app.screen.query_one("#dashboard-waiting", Static).render())
        assert waiting.startswith("rita: reading ")
        await settle(pilot)
        assert app._store is not None and app.log_size > 0
        assert app.screen.query_one("#awaiting", DataTable).row_count >= 1


async def test_a_store_the_console_cannot_open_ends_it_with_one_line(demo_home: Path) -> None:
    import duckdb

    con = duckdb.connect(str(demo_home / "signoff.duckdb"))
    con.execute("INSERT INTO schema_version VALUES (999, 'future')")
    con.close()
    app = make_app(demo_home, user="rita")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
    assert app.return_code == 2


def test_the_console_command_refuses_a_missing_store(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from console.cli import cli

    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "nowhere"), "--as", "rita"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: no signoff store at {tmp_path / 'nowhere'}; run `signoff init --admin NAME` "
        "or `signoff demo`"
    ]


async def test_the_palette_searches_the_registry_for_models(demo_home: Path) -> None:
    from textual.widgets import OptionList

    from console.tui.screens.models import ModelsScreen
    from console.tui.widgets.model_list import ModelList

    app = make_app(demo_store(demo_home), user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)  # the palette shows (its providers started) before one types
        await pilot.press(*"open model diab")
        await settle(pilot)  # the registry is searched in a thread: settled once it answered
        results = app.screen.query("CommandList").results(OptionList)
        prompts = [str(o.prompt) for r in results for o in r.options]
        assert prompts and "diabetes-regressor" in prompts[0], (
            "the palette never offered diabetes-regressor first"
        )
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        assert app.screen.query_one(ModelList).current_name() == "diabetes-regressor"


def test_the_palettes_rollbacks_read_only_the_last_stage(demo_home: Path) -> None:
    from console.release.policy import load_policy
    from console.release.status import stage_status
    from console.tui.release_data import release_commands

    store = demo_store(demo_home)
    everything = stage_status(store)
    for stage in load_policy(store).stage_names:
        assert stage_status(store, stage=stage) == [s for s in everything if s.stage == stage]
    last = load_policy(store).stage_names[-1]
    rollbacks = [c for c in release_commands(store) if c.request_id is None]
    assert [(c.model, c.stage) for c in rollbacks] == [
        (s.model, s.stage) for s in everything if s.stage == last and s.version is not None
    ]
    assert rollbacks  # the demo serves a version in its last stage


async def test_console_notices_changes_made_by_another_process(demo_home: Path) -> None:
    from audit.keys import KeyStore, Signer
    from console.identity.users import revoke_user
    from fixtures.demo import DEMO_PASSPHRASE

    store = demo_store(demo_home)
    app = make_app(store, user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = app.log_size
        keys = KeyStore(demo_home / "demo-keys")
        admin = Signer("ada", keys.load_private("ada", DEMO_PASSPHRASE.encode()))
        revoke_user(demo_store(demo_home), admin, "rosa")
        app.poll_store()
        await settle(pilot)  # the reload may cancel a load still running: settle waits anyway
        assert app.log_size == before + 1


async def test_a_store_files_poll_counts_the_log_only_once_it_was_written(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit.keys import KeyStore, Signer
    from console.identity.users import revoke_user
    from fixtures.demo import DEMO_PASSPHRASE

    monkeypatch.setattr("console.tui.app.POLL_SECONDS", 3600.0)  # only the test polls
    app = make_app(demo_store(demo_home), user="rita")
    counted: list[int] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(app, "poll_store", lambda: counted.append(app.log_size))
        app.poll_file()  # the first look at the file counts
        app.poll_file()  # nothing written since: the file is not opened
        assert len(counted) == 1
        keys = KeyStore(demo_home / "demo-keys")
        admin = Signer("ada", keys.load_private("ada", DEMO_PASSPHRASE.encode()))
        revoke_user(demo_store(demo_home), admin, "rosa")
        app.poll_file()  # another client wrote: counted
        assert len(counted) == 2
        for _ in range(COUNT_EVERY - 1):
            app.poll_file()
        assert len(counted) == 2
        app.poll_file()  # and every COUNT_EVERY polls anyway
        assert len(counted) == 3


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
@pytest.mark.parametrize("key", ["d", "m", "i"])
def test_screen_snapshots(
    demo_home: Path, snap_compare: Any, size: tuple[int, int], key: str
) -> None:
    app = make_app(demo_store(demo_home), user="rita")

    async def show(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=show)


async def test_reviewer_approves_from_the_inbox_with_a_passphrase(demo_home: Path) -> None:
    """The reviewer's flow: inbox, review, approve, passphrase once, result without refresh."""
    from textual.widgets import Input

    from console.release.requests import list_requests
    from fixtures.demo import DEMO_PASSPHRASE

    store = demo_store(demo_home)
    waiting = list_requests(store, awaiting="rita")
    assert waiting, "the demo leaves requests in rita's inbox"
    target = waiting[0]
    app = make_app(store, user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        table = app.screen.query_one("#requests", DataTable)
        assert str(table.get_row_at(0)[0]) == "★"
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "ReviewScreen"
        await pilot.press("a")
        await settle(pilot)
        app.screen.query_one("#comment", Input).value = "Evidence reviewed in the console."
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "PassphraseModal"
        app.screen.query_one("#passphrase", Input).value = DEMO_PASSPHRASE
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        body = str(app.screen.query_one("#evidence-body").render())
        assert "rita (reviewer)" in body
    from console.release.requests import get_request

    assert "rita" in get_request(store, target.id).counted


async def test_wrong_passphrase_is_a_notification_not_a_crash(demo_home: Path) -> None:
    from textual.widgets import Input

    store = demo_store(demo_home)
    app = make_app(store, user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        app.screen.query_one("#comment", Input).value = "ok"
        await pilot.press("enter")
        await settle(pilot)
        app.screen.query_one("#passphrase", Input).value = "wrong"
        await pilot.press("enter")
        await settle(pilot)
        assert app.signer is None
        assert any("wrong passphrase" in str(n.message) for n in app._notifications)


async def test_a_service_error_in_a_screen_worker_is_a_notification(demo_home: Path) -> None:
    from console.tui.screens.review import ReviewScreen

    app = make_app(demo_store(demo_home), user="rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ReviewScreen(999))
        await settle(pilot)  # the failed worker is waited for; the app made it a notification
        assert any("no request 999" in str(n.message) for n in app._notifications)
