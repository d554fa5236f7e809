"""Release, audit, admin and model-detail screens, driven by keys and pinned by snapshots."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Markdown, Static, TabbedContent
from textual.worker import WorkerCancelled

from audit.keys import KeyStore, Signer
from console.store.db import Store
from console.tui.app import SignoffApp, make_app
from fixtures.demo import DEMO_PASSPHRASE
from tests.conftest import fixed_clock

# Gates would need validation runs; these tests are about the console, not the gates.
SIMPLE_POLICY = """\
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
    return make_app(
        clocked_store(home, start), user=user, passphrase=lambda _n: DEMO_PASSPHRASE.encode()
    )


def request_approved(store: Store, model: str, version: int, stage: str, approvers: int) -> int:
    """A request by the author, approved by `approvers` reviewers: ready to execute."""
    from console.workflow import decide, request_promotion

    home = store.home
    view = request_promotion(
        store, demo_signer(home, "dana"), model, version, stage, f"{model}:{version} to {stage}"
    )
    for name in ("rita", "rosa")[:approvers]:
        decide(store, demo_signer(home, name), view.id, "approve", "looks right")
    return view.id


def promoted(store: Store, model: str, version: int, stage: str, approvers: int = 1) -> None:
    from console.deployments import promote

    request_id = request_approved(store, model, version, stage, approvers)
    promote(store, demo_signer(store.home, "rel"), request_id)


def simple_policy(store: Store) -> None:
    from console.policy import set_policy

    set_policy(store, demo_signer(store.home, "ada"), SIMPLE_POLICY, "simple-policy.toml")


def prepare_release_story(home: Path) -> None:
    """Stages held, a rollback, a canary at 10 %, one ready and one waiting request."""
    from console.deployments import canary_step, rollback

    store = clocked_store(home)
    rel = demo_signer(home, "rel")
    simple_policy(store)
    promoted(store, BCC, 2, "dev")
    promoted(store, BCC, 3, "dev")
    rollback(store, rel, BCC, "dev", "v3 flags too many benign samples")
    for version in (1, 2):
        promoted(store, "credit-risk", version, "dev")
        promoted(store, "credit-risk", version, "staging")
        promoted(store, "credit-risk", version, "production", approvers=2)
        if version == 1:  # v1 goes 10 % → 50 % → 100 %; v2 stays at 10 %
            canary_step(store, rel, "credit-risk", "production")
            canary_step(store, rel, "credit-risk", "production")
    request_approved(store, "diabetes-regressor", 2, "dev", 1)
    from console.workflow import request_promotion

    request_promotion(store, demo_signer(home, "dana"), BCC, 1, "dev", "baseline for comparison")
    store.dispose()


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker finished and its messages were handled."""
    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):  # replaced by a newer exclusive worker
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


# Digests, key ids and the store id are random per demo build: mask them before a snapshot.
RANDOM_ID = re.compile(r"[0-9a-f]{12,}")


def _stable() -> set[str]:
    from console.policy import default_policy_text

    return {hashlib.sha256(default_policy_text().encode()).hexdigest()}


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
        if static.parent is not None and isinstance(static.parent, Markdown):
            continue
        content = static.content
        if isinstance(content, str) and RANDOM_ID.search(content):
            static.update(_mask(content))
    await pilot.pause()


def keys_then_mask(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await mask_ids(pilot)

    return run


def screen_table(app: SignoffApp, selector: str) -> DataTable[Any]:
    return app.screen.query_one(selector, DataTable)


def cell_text(table: DataTable[Any], row: int, column: int) -> str:
    value = table.get_cell_at((row, column))  # type: ignore[arg-type]
    return value.plain if isinstance(value, Text) else str(value)


def static_text(app: SignoffApp, selector: str) -> str:
    content = app.screen.query_one(selector, Static).content
    return content.plain if isinstance(content, Text) else str(content)


# ---- release ------------------------------------------------------------------------------


async def test_release_engineer_promotes_and_rolls_back_from_the_release_screen(
    demo_home: Path,
) -> None:
    from console.evidence import stage_history
    from console.registry import get_model
    from console.tui.modals import ConfirmModal
    from console.tui.release_screen import ReleaseScreen

    store = clocked_store(demo_home)
    simple_policy(store)
    promoted(store, BCC, 2, "dev")
    request_id = request_approved(store, BCC, 3, "dev", 1)
    app = console(demo_home, "rel")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, ReleaseScreen)
        requests = screen_table(app, "#release-requests")
        assert cell_text(requests, 0, 0) == str(request_id)
        assert "ready" in cell_text(requests, 0, 4)

        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("enter")  # the Confirm button has the focus
        await settle(pilot)
        assert get_model(store, BCC).stages["dev"] == 3
        stages = screen_table(app, "#release-stages")  # reloaded without asking
        assert (cell_text(stages, 0, 0), cell_text(stages, 0, 2)) == (BCC, "v3")
        assert "no open request" in cell_text(screen_table(app, "#release-requests"), 0, 1)

        await pilot.press("b")  # the cursor is on breast-cancer-classifier dev
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("enter")  # an empty reason is refused by the modal
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press(*"hotfix", "enter")
        await settle(pilot)
        assert get_model(store, BCC).stages["dev"] == 2
        last = stage_history(store, BCC, "dev")[-1]
        assert (last.kind, last.actor, last.break_glass, last.reason) == (
            "rollback",
            "rel",
            True,
            "hotfix",
        )
        assert cell_text(screen_table(app, "#release-stages"), 0, 2) == "v2 ↩"
        assert "ROLLBACK: hotfix" in cell_text(screen_table(app, "#release-stages"), 0, 6)


async def test_a_reviewer_is_refused_with_a_notification_and_nothing_changes(
    demo_home: Path,
) -> None:
    from console.registry import get_model

    store = clocked_store(demo_home)
    simple_policy(store)
    request_approved(store, BCC, 2, "dev", 1)
    app = console(demo_home, "rita")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("p", "enter")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("rita" in m or "role" in m for m in messages), messages
        assert get_model(store, BCC).stages.get("dev") is None


async def test_canary_step_and_abort_from_the_release_screen(demo_home: Path) -> None:
    from console.evidence import stage_history
    from console.registry import get_model

    store = clocked_store(demo_home)
    simple_policy(store)
    for stage in ("dev", "staging"):
        promoted(store, "credit-risk", 1, stage)
    promoted(store, "credit-risk", 1, "production", approvers=2)  # canary at 10 %
    app = console(demo_home, "rel")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        stages = screen_table(app, "#release-stages")
        rows = [(cell_text(stages, r, 0), cell_text(stages, r, 1)) for r in range(stages.row_count)]
        stages.move_cursor(row=rows.index(("credit-risk", "production")))
        assert "10%" in cell_text(stages, stages.cursor_row, 3)
        await pilot.press("s", "enter")
        await settle(pilot)
        assert "50%" in cell_text(screen_table(app, "#release-stages"), stages.cursor_row, 3)
        await pilot.press("x", *"latency", "enter")
        await settle(pilot)
        assert stage_history(store, "credit-risk", "production")[-1].kind == "canary.aborted"
        assert get_model(store, "credit-risk").stages.get("production") is None
        assert cell_text(screen_table(app, "#release-stages"), stages.cursor_row, 3) == "-"


# ---- audit --------------------------------------------------------------------------------


async def test_an_auditor_verifies_the_log_and_writes_a_checkpoint(demo_home: Path) -> None:
    from console.auditing import audit_size, latest_checkpoint
    from console.tui.audit_screen import AuditScreen

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
        shown = static_text(app, "#audit-checkpoint")
        assert shown.splitlines()[1] == str(size)
        assert shown.splitlines()[0].startswith("signoff/")
        # The checkpoint's own event is on the first page, without a manual reload.
        assert cell_text(screen_table(app, "#audit-events"), 0, 3) == "audit.checkpoint"


async def test_audit_log_pages_with_n_and_p_and_filters(demo_home: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from console.auditing import audit_size
    from console.tui.audit_screen import PAGE_SIZE, EventModal
    from console.users import add_user

    store = clocked_store(demo_home)
    ada = demo_signer(demo_home, "ada")
    for n in range(90):
        add_user(store, ada, f"user{n:02d}", "author", Ed25519PrivateKey.generate().public_key())
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
        await pilot.press("n")
        await settle(pilot)
        assert first_seq() == newest - PAGE_SIZE
        await pilot.press("n")
        await settle(pilot)
        assert first_seq() == newest - 2 * PAGE_SIZE
        assert cell_text(events, events.row_count - 1, 0) == "0"
        await pilot.press("n")  # the oldest page: stays
        await settle(pilot)
        assert first_seq() == newest - 2 * PAGE_SIZE
        await pilot.press("p")
        await settle(pilot)
        assert first_seq() == newest - PAGE_SIZE
        await pilot.press("p")
        await settle(pilot)
        assert first_seq() == newest

        await pilot.press("slash", "tab", *"dana", "enter")
        await settle(pilot)
        actors = {cell_text(events, r, 2) for r in range(events.row_count)}
        assert actors == {"dana"}
        assert "actor=dana" in static_text(app, "#audit-status")

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EventModal)
        assert app.screen.event.actor == "dana"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EventModal)


# ---- model detail and admin ---------------------------------------------------------------


async def test_model_detail_tabs_render_for_a_demo_model(demo_home: Path) -> None:
    from console.tui.model_detail_screen import ModelDetailScreen
    from console.tui.models_screen import ModelsScreen
    from console.validation.service import run_validation

    store = clocked_store(demo_home)
    holdout = demo_home / "demo-data" / f"{BCC}-v3-holdout.csv"
    run_validation(store, demo_signer(demo_home, "rita"), BCC, 3, holdout, "malignant")
    app = console(demo_home, "rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ModelDetailScreen)
        assert screen.selected == 3
        versions = screen_table(app, "#detail-versions")
        assert versions.row_count == 3
        assert "pass run 1" in cell_text(versions, 0, 3)
        markdown = screen.query_one("#card-body", Markdown)
        assert markdown.source is not None
        assert "# Model card: breast-cancer-classifier v3" in markdown.source
        assert not markdown.source.startswith("---")  # front matter stripped

        tabs = screen.query_one("#detail-tabs", TabbedContent)
        await pilot.press("2")
        assert tabs.active == "validation"
        checks = screen_table(app, "#validation-checks")
        names = [cell_text(checks, r, 0) for r in range(checks.row_count)]
        assert "performance.accuracy" in names
        assert any(name.startswith("drift.* (") for name in names)
        await pilot.press("3")
        assert tabs.active == "lineage"
        lineage = static_text(app, "#lineage-body")
        assert "v3 ← v2 ← v1" in lineage
        assert "rows     426" in lineage
        await pilot.press("4")
        assert tabs.active == "history"
        await pilot.press("5")
        assert tabs.active == "drift"
        drift = screen_table(app, "#drift-table")
        assert drift.row_count == 30  # one PSI per feature
        psi = [float(cell_text(drift, r, 1)) for r in range(drift.row_count)]
        assert psi == sorted(psi, reverse=True)

        await pilot.press("down")  # v2 has no validation run
        await settle(pilot)
        assert screen.selected == 2
        assert "no validation run" in static_text(app, "#drift-summary").lower()
        assert screen_table(app, "#drift-table").row_count == 0
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ModelsScreen)


async def test_admin_screen_is_read_only_and_says_so(demo_home: Path) -> None:
    from console.users import list_users

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
    from console.tui.modals import ConfirmModal

    store = clocked_store(demo_home)
    simple_policy(store)
    promoted(store, BCC, 2, "dev")
    request_id = request_approved(store, BCC, 3, "dev", 1)
    app = console(demo_home, "rel")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.refresh_commands()  # the app does this whenever the log grows
        await settle(pilot)
        commands = {name: run for name, _help, run in app.extra_commands()}
        assert "Verify audit log" in commands and "Write checkpoint" in commands
        assert f"Roll back {BCC} dev" in commands
        await commands[f"Promote request {request_id}: {BCC}:3 → dev"]()  # type: ignore[misc]
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "Promote request" in str(app.screen.title_text)


# ---- snapshots ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_model_detail_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = console(demo_home, "rita")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("m", "enter"))


def test_model_detail_drift_snapshot(demo_home: Path, snap_compare: Any) -> None:
    from console.validation.service import run_validation

    store = clocked_store(demo_home)
    holdout = demo_home / "demo-data" / f"{BCC}-v3-holdout.csv"
    run_validation(store, demo_signer(demo_home, "rita"), BCC, 3, holdout, "malignant")
    app = console(demo_home, "rita")
    run_before = keys_then_mask("m", "enter", "5")
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_audit_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = console(demo_home, "aud")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("a"))


@pytest.mark.parametrize("size", SIZES)
def test_release_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    prepare_release_story(demo_home)
    app = console(demo_home, "rel")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("l"))


@pytest.mark.parametrize("size", SIZES)
def test_admin_screen_snapshot(demo_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    app = console(demo_home, "ada")
    assert snap_compare(app, terminal_size=size, run_before=keys_then_mask("u"))
