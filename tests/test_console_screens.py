"""Release, audit, admin and model-detail screens, driven by keys and pinned by snapshots."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Markdown, Static, TabbedContent

from audit.keys import KeyStore, Signer
from console.store.db import Store
from console.tui.app import SignoffApp, make_app
from fixtures.demo import DEMO_PASSPHRASE
from tests.conftest import fixed_clock
from tests.console_pilot import settle

# The default policy's production gates need a complete card and fairness results; the
# canary test is about the console, so it runs under a policy without gates.
NO_GATES_POLICY = """\
version = 1
stages = ["dev", "staging", "production"]

[stage.dev]
approvals = 1
approver_roles = ["reviewer", "risk-officer"]
gates = []

[stage.staging]
approvals = 1
approver_roles = ["reviewer", "risk-officer"]
gates = []

[stage.production]
approvals = 2
approver_roles = ["reviewer", "risk-officer"]
gates = []
canary_steps = [10, 50, 100]

[rollback]
break_glass_roles = ["release-manager", "admin"]
"""
SIZES = [(120, 40), (80, 24)]
BCC = "breast-cancer-classifier"


def demo_signer(home: Path, name: str) -> Signer:
    keys = KeyStore(home / "demo-keys")
    return Signer(name, keys.load_private(name, DEMO_PASSPHRASE.encode()))


def clocked_store(home: Path, start: str = "2026-11-03T10:00:00") -> Store:
    """The demo store with a clock that ticks one second per call, so screens are stable."""
    store = Store(home)
    store.clock = fixed_clock(start)
    return store


def console(home: Path, user: str, start: str = "2026-11-04T10:00:00") -> SignoffApp:
    """The console as `user`, on a fixed clock (the demo's open requests have not expired)."""
    return make_app(
        clocked_store(home, start), user=user, passphrase=lambda _n: DEMO_PASSPHRASE.encode()
    )


def request_approved(store: Store, model: str, version: int, stage: str, approvers: int) -> int:
    """A request by the author, approved by `approvers` reviewers: ready to execute."""
    from console.release.decisions import decide
    from console.release.requests import request_promotion

    home = store.home
    view = request_promotion(
        store, demo_signer(home, "dana"), model, version, stage, f"{model}:{version} to {stage}"
    )
    for name in ("rita", "rosa")[:approvers]:
        decide(store, demo_signer(home, name), view.id, "approve", "evidence reviewed")
    return view.id


def no_gates_policy(store: Store) -> None:
    from console.release.policy import set_policy

    set_policy(store, demo_signer(store.home, "ada"), NO_GATES_POLICY, "no-gates.toml")


def screen_table(app: SignoffApp, selector: str) -> DataTable[Any]:
    return app.screen.query_one(selector, DataTable)


def cell_text(table: DataTable[Any], row: int, column: int) -> str:
    value = table.get_cell_at((row, column))  # type: ignore[arg-type]
    return value.plain if isinstance(value, Text) else str(value)


def column_texts(table: DataTable[Any], column: int) -> list[str]:
    return [cell_text(table, row, column) for row in range(table.row_count)]


def static_text(app: SignoffApp, selector: str) -> str:
    content = app.screen.query_one(selector, Static).content
    return content.plain if isinstance(content, Text) else str(content)


def stage_row(app: SignoffApp, model: str, stage: str) -> int:
    table = screen_table(app, "#release-stages")
    rows = list(zip(column_texts(table, 0), column_texts(table, 1), strict=True))
    return rows.index((model, stage))


# ---- release ------------------------------------------------------------------------------


async def test_release_engineer_promotes_and_rolls_back_from_the_release_screen(
    demo_home: Path,
) -> None:
    from console.registry.views import get_model
    from console.release.history import history
    from console.tui.screens.release import ReleaseScreen
    from console.tui.widgets.modals import ConfirmModal

    store = clocked_store(demo_home)
    assert get_model(store, BCC).stages["dev"] == 3
    # Under the default policy: dev needs one reviewer and a passed validation (the demo ran it).
    request_id = request_approved(store, BCC, 2, "dev", 1)
    app = console(demo_home, "rel")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, ReleaseScreen)
        requests = screen_table(app, "#release-requests")
        assert cell_text(requests, 0, 0) == str(request_id)  # ready ones first
        assert "ready" in cell_text(requests, 0, 4)

        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("enter")  # the Confirm button has the focus
        await settle(pilot)
        assert get_model(store, BCC).stages["dev"] == 2
        row = stage_row(app, BCC, "dev")  # reloaded without asking
        assert cell_text(screen_table(app, "#release-stages"), row, 2) == "v2"
        assert str(request_id) not in column_texts(screen_table(app, "#release-requests"), 0)

        screen_table(app, "#release-stages").move_cursor(row=row)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "BREAK-GLASS" in app.screen.title_text
        await pilot.press("enter")  # an empty reason is refused by the modal
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press(*"hotfix", "enter")
        await settle(pilot)
        assert get_model(store, BCC).stages["dev"] == 3
        last = history(store, BCC, "dev").changes[-1]
        assert (last.kind, last.actor, last.break_glass, last.reason) == (
            "rollback",
            "rel",
            True,
            "hotfix",
        )
        stages = screen_table(app, "#release-stages")
        assert cell_text(stages, row, 2) == "v3 ↩"
        assert cell_text(stages, row, 6) == "ROLLBACK: hotfix"


async def test_a_reviewer_is_refused_with_a_notification_and_nothing_changes(
    demo_home: Path,
) -> None:
    from console.registry.views import get_model

    store = clocked_store(demo_home)
    request_approved(store, BCC, 2, "dev", 1)
    app = console(demo_home, "rita")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("p", "enter")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("rita" in m and "reviewer" in m for m in messages), messages
        assert get_model(store, BCC).stages["dev"] == 3


def bcc_canary_ready(store: Store) -> None:
    """BCC v1 holds production (its first deployment, direct) and v3 staging; a request for v3
    to production, approved, would start a canary over v1."""
    from console.release.deployments import promote
    from console.release.requests import list_requests, withdraw

    rel = demo_signer(store.home, "rel")
    promote(store, rel, request_approved(store, BCC, 1, "production", 2))
    (staging,) = [r for r in list_requests(store, pending=True, model=BCC) if r.stage == "staging"]
    withdraw(store, demo_signer(store.home, "dana"), staging.id, "the policy changed")
    promote(store, rel, request_approved(store, BCC, 3, "staging", 1))
    request_approved(store, BCC, 3, "production", 2)


async def test_canary_step_and_abort_from_the_release_screen(demo_home: Path) -> None:
    from console.registry.views import get_model
    from console.release.history import history
    from console.release.policy import set_policy

    store = clocked_store(demo_home)
    no_gates_policy(store)
    bcc_canary_ready(store)
    app = console(demo_home, "rel")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("p", "enter")  # starts the canary at 10 %
        await settle(pilot)
        row = stage_row(app, BCC, "production")
        stages = screen_table(app, "#release-stages")
        assert "v3" in cell_text(stages, row, 3) and "10%" in cell_text(stages, row, 3)
        stages.move_cursor(row=row)
        # No outcomes are logged: compare is inconclusive, so the step asks for an override.
        await pilot.press("s")
        await settle(pilot)
        detail = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "Compare: WAIT" in detail and "override reason" in detail
        await pilot.press(*"CAB-9 ramp", "enter")
        await settle(pilot)
        assert "50%" in cell_text(screen_table(app, "#release-stages"), row, 3)
        last = history(store, BCC, "production").changes[-1]
        assert (last.kind, last.break_glass, last.reason) == ("canary.step", True, "CAB-9 ramp")
        # A policy change voids the request's approvals: the console's step is refused too.
        set_policy(store, demo_signer(demo_home, "ada"), NO_GATES_POLICY + "\n", "edited.toml")
        await pilot.press("s")
        await settle(pilot)
        await pilot.press(*"again", "enter")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("are void: the policy changed" in m for m in messages), messages
        assert history(store, BCC, "production").changes[-1].event_seq == last.event_seq
        await pilot.press("x", *"latency", "enter")
        await settle(pilot)
        last = history(store, BCC, "production").changes[-1]
        assert (last.kind, last.reason) == ("canary.aborted", "latency")
        assert get_model(store, BCC).stages.get("production") == 1  # the champion again
        assert cell_text(screen_table(app, "#release-stages"), row, 3) == "-"


# ---- audit --------------------------------------------------------------------------------


async def test_an_auditor_verifies_the_log_and_writes_a_checkpoint(demo_home: Path) -> None:
    from console.auditing.trail import audit_size, latest_checkpoint
    from console.tui.screens.audit import AuditScreen

    store = clocked_store(demo_home)
    size = audit_size(store)
    app = console(demo_home, "aud")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        await pilot.press("v")
        await settle(pilot)
        assert app.last_verification is not None
        assert app.last_verification.startswith(f"OK: {size} events verified; root ")
        assert static_text(app, "#audit-verdict").startswith("OK: ")

        await pilot.press("c")
        await settle(pilot)
        checkpoint = latest_checkpoint(store)
        assert checkpoint is not None
        assert (checkpoint.issued_by, checkpoint.size) == ("aud", size)
        shown = static_text(app, "#audit-checkpoint").splitlines()
        assert shown[0].startswith("signoff/") and shown[1] == str(size)
        # The checkpoint's own event is on the first page without a manual reload.
        assert cell_text(screen_table(app, "#audit-events"), 0, 0) == str(size)
        assert cell_text(screen_table(app, "#audit-events"), 0, 3) == "audit.checkpoint"


async def test_audit_log_pages_with_n_and_p_and_filters(demo_home: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from console.auditing.trail import audit_size
    from console.identity.users import add_user
    from console.tui.screens.audit import PAGE_SIZE, EventModal

    store = clocked_store(demo_home)
    ada = demo_signer(demo_home, "ada")
    for n in range(max(0, 2 * PAGE_SIZE + 10 - audit_size(store))):  # three pages at least
        add_user(store, ada, f"user{n:03d}", "author", Ed25519PrivateKey.generate().public_key())
    newest = audit_size(store) - 1
    app = console(demo_home, "aud")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        events = screen_table(app, "#audit-events")

        def first_seq() -> int:
            return int(cell_text(events, 0, 0))

        assert (first_seq(), events.row_count) == (newest, PAGE_SIZE)
        for page in (1, 2):
            await pilot.press("n")
            await settle(pilot)
            assert first_seq() == newest - page * PAGE_SIZE
        await pilot.press("n")  # keep going until the oldest page; it ends at event 0
        await settle(pilot)
        while cell_text(events, events.row_count - 1, 0) != "0":
            await pilot.press("n")
            await settle(pilot)
        oldest = first_seq()
        await pilot.press("n")  # the oldest page stays
        await settle(pilot)
        assert first_seq() == oldest
        await pilot.press("p")
        await settle(pilot)
        assert first_seq() == oldest + PAGE_SIZE
        await pilot.press("g")
        await settle(pilot)
        assert first_seq() == newest

        await pilot.press("slash", "tab", *"rel", "enter")  # model, then actor
        await settle(pilot)
        assert set(column_texts(events, 2)) == {"rel"}
        assert "actor=rel" in static_text(app, "#audit-status")

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventModal)
        assert app.screen.event.actor == "rel"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, EventModal)


# ---- model detail, admin, palette ---------------------------------------------------------


async def test_model_detail_tabs_render_for_a_demo_model(demo_home: Path) -> None:
    from console.tui.screens.model_detail import ModelDetailScreen
    from console.tui.screens.models import ModelsScreen

    app = console(demo_home, "rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)  # Enter opens the highlighted model: the list must show it first
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ModelDetailScreen)
        assert screen.selected == 3
        versions = screen_table(app, "#detail-versions")
        assert column_texts(versions, 0) == ["v3", "v2", "v1"]
        assert "pass run" in cell_text(versions, 0, 3)
        markdown = screen.query_one("#card-body", Markdown)
        assert markdown.source is not None
        assert "# Model card: breast-cancer-classifier v3" in markdown.source
        assert not markdown.source.startswith("---")  # front matter stripped

        tabs = screen.query_one("#detail-tabs", TabbedContent)
        await pilot.press("2")
        assert tabs.active == "validation"
        names = column_texts(screen_table(app, "#validation-checks"), 0)
        assert "performance.accuracy" in names
        assert any(name.startswith("drift.* (") for name in names)
        await pilot.press("3")
        assert tabs.active == "lineage"
        lineage = static_text(app, "#lineage-body")
        assert "v3 ← v2 ← v1" in lineage and "rows     426" in lineage
        await pilot.press("4")
        assert tabs.active == "history"
        history = column_texts(screen_table(app, "#history-table"), 3)
        assert "rollback" in history and "promotion" in history
        await pilot.press("5")
        assert tabs.active == "drift"
        drift = screen_table(app, "#drift-table")
        assert drift.row_count == 30  # one PSI per feature
        psi = [float(value) for value in column_texts(drift, 1)]
        assert psi == sorted(psi, reverse=True)

        await pilot.press("down", "down")  # v1: three features
        await settle(pilot)
        assert screen.selected == 1
        assert screen_table(app, "#drift-table").row_count == 3
        assert "v1 ← " not in static_text(app, "#lineage-body")
        await pilot.press("1")  # the card is rendered when its tab shows
        await settle(pilot)
        assert "# Model card: breast-cancer-classifier v1" in str(markdown.source)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)


async def test_admin_screen_is_read_only_and_says_so(demo_home: Path) -> None:
    from console.identity.users import list_users

    for user, expected in (("ada", "only through the CLI"), ("aud", "Read-only")):
        app = console(demo_home, user)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("u")
            await settle(pilot)
            assert expected in static_text(app, "#admin-note")
            users = screen_table(app, "#admin-users")
            assert users.row_count == len(list_users(Store(demo_home)))
            assert "sha256" in static_text(app, "#admin-digest")


async def test_palette_offers_release_and_audit_actions(demo_home: Path) -> None:
    from console.tui.widgets.modals import ConfirmModal

    request_id = request_approved(clocked_store(demo_home), BCC, 2, "dev", 1)
    app = console(demo_home, "rel")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.refresh_commands()  # the app does this whenever the log grows
        await settle(pilot)
        commands = {name: run for name, _help, run in app.extra_commands()}
        assert "Verify audit log" in commands and "Write checkpoint" in commands
        assert "Roll back credit-risk production" in commands
        await commands[f"Promote request {request_id}: {BCC}:2 → dev"]()  # type: ignore[misc]
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert app.screen.title_text == f"Promote request {request_id}?"


async def test_release_stages_page_and_filter_and_the_palette_reaches_any_page(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.tui.screens import release as release_screen
    from console.tui.widgets.modals import ConfirmModal

    monkeypatch.setattr(release_screen, "STAGE_PAGE", 1)
    app = console(demo_home, "rel")

    def models() -> list[str]:
        return sorted(set(column_texts(screen_table(app, "#release-stages"), 0)))

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert models() == [BCC]
        assert static_text(app, "#release-page").startswith("models 1–1 of 3 · ]: page")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert models() == ["credit-risk"]
        assert static_text(app, "#release-page").startswith("models 2–2 of 3 · [ ]: page")
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert models() == [BCC]
        await pilot.press("slash", *"DIAB", "enter")
        await settle(pilot)
        assert models() == ["diabetes-regressor"]
        # Only the last stage's holders are palette entries; each opens on its own page.
        app.refresh_commands()
        await settle(pilot)
        rollbacks = [name for name, _h, _r in app.extra_commands() if name.startswith("Roll")]
        assert rollbacks == ["Roll back credit-risk production"]
        run = next(r for n, _h, r in app.extra_commands() if n == rollbacks[0])
        await run()  # type: ignore[misc]
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert app.screen.title_text == "BREAK-GLASS: roll back production of credit-risk?"


async def test_text_that_looks_like_markup_shows_as_typed(demo_home: Path) -> None:
    """A comment such as "[/b]" once raised in the renderer and closed the console for
    everyone who opened the request; whatever users type is shown, never interpreted."""
    from console.release.decisions import decide
    from console.release.requests import request_promotion
    from console.tui.screens.review import ReviewScreen
    from console.tui.widgets.model_list import ModelList

    store = clocked_store(demo_home)
    why, nope = "[/b] why [red]not", "[/x] nope [bold"
    view = request_promotion(
        store, demo_signer(demo_home, "dana"), "diabetes-regressor", 1, "dev", why
    )
    decide(store, demo_signer(demo_home, "rita"), view.id, "reject", nope)
    app = console(demo_home, "rosa")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_review(view.id)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        evidence = static_text(app, "#evidence-body")
        assert f"Why  {why}" in evidence and nope in evidence
        assert "[rejected]" in static_text(app, "#review-title")
        await pilot.press("escape", "m")
        await settle(pilot)
        await pilot.press("slash", *"[/b]", "enter")
        await settle(pilot)
        status = str(app.screen.query_one("#model-page", Static).render())
        assert status.startswith("no model matches '[/b]'")
        app.screen.query_one(ModelList).show_model("diabetes-regressor")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        history = " ".join(column_texts(screen_table(app, "#history-table"), 4))
        assert why in history or nope in history
        app.notify("cannot write [/i]/x.pdf")  # service messages carry paths users typed
        await settle(pilot)
        assert app.is_running


# ---- snapshots ----------------------------------------------------------------------------

# Digests, key ids and the store id are random per demo build: mask them before a snapshot.
RANDOM_ID = re.compile(r"[0-9a-f]{12,}")


def _stable() -> set[str]:
    return {hashlib.sha256(NO_GATES_POLICY.encode()).hexdigest()}


def _mask(text: str) -> str:
    keep = _stable()
    return RANDOM_ID.sub(lambda m: m.group() if m.group() in keep else "x" * len(m.group()), text)


async def mask_ids(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    for markdown in screen.query(Markdown):
        if markdown.source and RANDOM_ID.search(markdown.source):
            await markdown.update(_mask(markdown.source))
    for table in screen.query(DataTable):
        for row_key in list(table.rows):
            for column_key in list(table.columns):
                value = table.get_cell(row_key, column_key)
                plain = value.plain if isinstance(value, Text) else str(value)
                if RANDOM_ID.search(plain):
                    table.update_cell(row_key, column_key, _mask(plain))
    for static in screen.query(Static):
        if isinstance(static.parent, Markdown):
            continue
        content = static.content
        if isinstance(content, str) and RANDOM_ID.search(content):
            static.update(_mask(content))
        elif isinstance(content, Text) and RANDOM_ID.search(content.plain):
            masked = content.copy()
            masked.plain = _mask(content.plain)  # same length: the styles stay in place
            static.update(masked)
    await settle(pilot)


def keys_then_mask(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await mask_ids(pilot)
        # A screen that failed to render must fail its snapshot, not be pinned as it broke.
        assert pilot.app.is_running and pilot.app._exception is None, pilot.app._exception

    return run


@pytest.mark.parametrize("size", SIZES)
def test_model_detail_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = console(demo_home, "rita")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("m", "enter"))


def test_model_detail_drift_snapshot(demo_home: Path, snap_compare: Any) -> None:
    app = console(demo_home, "rita")
    run_before = keys_then_mask("m", "enter", "5")
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_audit_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = console(demo_home, "aud")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("a"))


@pytest.mark.parametrize("size", SIZES)
def test_release_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = console(demo_home, "rel")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("l"))


@pytest.mark.parametrize("size", SIZES)
def test_admin_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    no_gates_policy(clocked_store(demo_home))  # pins the screen, not the default policy's text
    app = console(demo_home, "ada")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("u"))


@pytest.mark.parametrize("size", SIZES)
def test_review_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = console(demo_home, "rita")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("i", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_monitoring_screen_snapshot(
    demo_home: Path, snap_compare: Any, size: tuple[int, int]
) -> None:
    app = console(demo_home, "raj")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("o"))


@pytest.mark.parametrize("size", SIZES)
def test_help_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = console(demo_home, "rita")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("question_mark"))
