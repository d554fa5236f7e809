"""What a console session keeps: styles parsed once, the acting user read once, a model's
detail in a few reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.css.stylesheet import Stylesheet

from console.identity.users import UserView
from console.store.db import Store
from tests.conftest import demo_store
from tests.test_console_screens import console, settle, static_text

MODE_KEYS = ["m", "i", "a", "e", "l", "u", "o", "d"]


async def test_a_first_visit_does_not_reparse_the_stylesheet_but_a_theme_change_does(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each screen is styled as it mounts; re-parsing every style for it cost 30-50 ms a
    switch. After a theme change, a screen shown before must still take the new theme."""
    reparsed: list[int] = []
    reparse = Stylesheet.reparse

    def counted(stylesheet: Stylesheet) -> None:
        reparsed.append(1)
        reparse(stylesheet)

    monkeypatch.setattr(Stylesheet, "reparse", counted)
    app = console(demo_home, "rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        at_start = len(reparsed)
        for key in MODE_KEYS:
            await pilot.press(key)
            await settle(pilot)
        assert len(reparsed) == at_start, "a first visit re-parsed the stylesheet"

        models_background = app.get_screen_stack("models")[0].styles.background
        light = "textual-light" if app.theme != "textual-light" else "textual-dark"
        app.theme = light
        await settle(pilot)
        assert len(reparsed) == at_start + 1  # the dashboard, shown: restyled at once
        await pilot.press("m")
        await settle(pilot)
        assert len(reparsed) == at_start + 2  # the models screen, behind: restyled on its visit
        assert app.screen.styles.background != models_background
        await pilot.press("d", "m")
        await settle(pilot)
        assert len(reparsed) == at_start + 2


async def test_the_acting_user_is_read_once_per_session(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.identity import users

    reads: list[str] = []
    find_user, list_users = users.find_user, users.list_users

    def counted_find(store: Store, name: str) -> UserView | None:
        reads.append(name)
        return find_user(store, name)

    def counted_list(store: Store) -> list[UserView]:
        reads.append("*")
        return list_users(store)

    monkeypatch.setattr(users, "find_user", counted_find)
    monkeypatch.setattr(users, "list_users", counted_list)
    app = console(demo_home, "rel")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in ["l", "e", "d", "r", "l", "r"]:
            await pilot.press(key)
            await settle(pilot)
        assert reads == ["rel"]
        assert "rel (release-manager)" in static_text(app, "#release-who")


def test_a_model_detail_takes_the_same_queries_for_one_version_or_many(demo_home: Path) -> None:
    """The detail screen once read each version's latest run one by one (and each request's
    decisions one by one): a model with a long history took as many queries."""
    from sqlalchemy import event

    from console.registry.detail import model_detail

    store = demo_store(demo_home)
    statements: list[str] = []

    def executed(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", executed)

    def queries(name: str) -> tuple[int, int, int]:
        statements.clear()
        detail = model_detail(store, name)
        return len(statements), len(detail.model.versions), len(detail.latest_runs)

    many, versions, runs = queries("breast-cancer-classifier")
    one, single, _ = queries("diabetes-regressor")
    assert (versions, runs) == (3, 3) and single < versions
    assert many == one
