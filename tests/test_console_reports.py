"""The Reports screen: an auditor gets a signed compliance PDF from the console by keys alone."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from textual.binding import Binding

from console.auditing.trail import audit_size, list_events
from console.errors import BadInput
from console.files import check_output
from console.tui.app import SignoffApp, make_app
from fixtures.demo import DEMO_PASSPHRASE
from tests.console_pilot import settle
from tests.test_console_screens import (
    SIZES,
    clocked_store,
    console,
    keys_then_mask,
    static_text,
)


def _shown(app: SignoffApp) -> dict[str, str]:
    """The result panel as {label: value}: written, report, sha256, recorded."""
    lines = static_text(app, "#reports-result").splitlines()
    return {label: value.strip() for label, _, value in (line.partition(" ") for line in lines)}


def _messages(app: SignoffApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_an_auditor_writes_a_signed_report_by_keyboard(
    demo_home: Path, tmp_path: Path
) -> None:
    from console.tui.screens.reports import ReportsScreen
    from console.tui.widgets.modals import PassphraseModal

    store = clocked_store(demo_home, "2026-11-04T10:00:00")
    output = tmp_path / "out" / "credit-risk-v3.pdf"
    output.parent.mkdir()
    app = make_app(store, user="aud")  # no passphrase source: the console asks for it
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        await pilot.press("down")  # credit-risk
        await settle(pilot)
        await pilot.press("enter", "up")  # newest first; v2 serves production, v3 is above it
        await pilot.press("enter", "end")  # sr-11-7, the last framework
        await pilot.press("enter")  # the file name, selected on focus: typing replaces it
        await settle(pilot)
        assert static_text(app, "#reports-summary") == (
            "credit-risk v3 against SR 11-7, Supervisory Guidance on Model Risk Management"
        )
        await pilot.press(*str(output), "enter")
        await settle(pilot)
        assert isinstance(app.screen, PassphraseModal)
        await pilot.press(*DEMO_PASSPHRASE, "enter")
        await settle(pilot)
        await settle(pilot)
        shown = _shown(app)
        assert "done" in static_text(app, "#reports-stage")
        panel = static_text(app, "#reports-result")

    # v2 serves production with open incidents: the panel names the report's findings.
    assert re.fullmatch(r"\d+ open: .*\d+ INCIDENT, \d+ WINDOW.*", shown["findings"])
    assert "INCIDENT v2 incident " in panel and "more in the PDF" in panel

    assert shown["written"] == str(output)
    data = output.read_bytes()
    assert shown["sha256"] == hashlib.sha256(data).hexdigest()
    pages = len(PdfReader(output).pages)
    assert shown["report"] == f"credit-risk v3, sr-11-7 · {pages} pages"
    event = list_events(store, action="report.generated", limit=1)[0]
    assert shown["recorded"].startswith(f"event #{event.seq} (report.generated)")
    assert (event.actor, event.model) == ("aud", "credit-risk")
    assert event.payload["sha256"] == shown["sha256"]
    assert (event.payload["version"], event.payload["framework"]) == (3, "sr-11-7")


async def test_an_author_is_refused_and_nothing_is_written(demo_home: Path, tmp_path: Path) -> None:
    store = clocked_store(demo_home)
    size = audit_size(store)
    output = tmp_path / "dana.pdf"
    app = console(demo_home, "dana")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab", *str(output), "enter")
        await settle(pilot)
        messages = _messages(app)
        assert any("dana is author" in m for m in messages), messages
        assert "not generated" in static_text(app, "#reports-stage")
    assert not output.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dana.pdf")]
    assert audit_size(store) == size


async def test_a_missing_directory_is_the_service_message(demo_home: Path, tmp_path: Path) -> None:
    store = clocked_store(demo_home)
    size = audit_size(store)
    output = tmp_path / "missing" / "report.pdf"
    with pytest.raises(BadInput) as refused:
        check_output(output)
    app = console(demo_home, "aud")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab", *str(output), "enter")
        await settle(pilot)
        assert _messages(app) == [refused.value.message]
        assert app.signer is None  # refused before the key was asked for
    assert not output.parent.exists()
    assert audit_size(store) == size


def test_the_app_keys_are_free_on_every_screen(tmp_path: Path) -> None:
    """Screen bindings win over the app's: a screen using a navigation key could never leave
    for that screen (the inbox once took `o` from monitoring)."""
    from console.store.db import Store
    from console.tui.keymap import key_groups

    palette = make_app(Store(tmp_path / "unused")).extra_commands()
    assert "Compliance report" in [name for name, _help, _run in palette]

    def keys(bindings: list[Any]) -> set[str]:
        return {
            key
            for binding in bindings
            for key in (binding.key if isinstance(binding, Binding) else binding[0]).split(",")
        }

    groups = key_groups()
    assert groups[0][0] == "Everywhere"
    app_keys = keys(groups[0][1])
    assert {"d", "m", "i", "a", "e", "l", "u", "o"} <= app_keys
    for title, bindings in groups[1:]:
        # The review screen is a step inside the inbox, left with escape: its `a` approves
        # (through the signed-decision modal, so a stray press signs nothing).
        allowed = {"a"} if title == "Review" else set()
        assert not (app_keys & keys(bindings)) - allowed, title


@pytest.mark.parametrize("size", SIZES)
def test_reports_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = console(demo_home, "aud")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("e"))
