"""Cards that follow the line: a new version starts from its parent's human-written fields,
recorded as one signed event, marked until confirmed or edited, diffed field by field, and
proven from the log like every other card field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from console import api
from console.registry.card_inheritance import field_origins, unconfirmed_fields
from console.registry.cards import card_fields, set_card_fields
from console.store.models import AuditEvent
from tests.conftest import Runner, Team, demo_store, one_line_error, store_fingerprint

PARENT_CARD = {
    "intended_use.primary_uses": "Triage of FNA samples for a second reading.",
    "caveats_and_recommendations": "Re-validate on local data.",
    "license": "apache-2.0",
}


def register(team: Team, *, parent: int | None = None, seed: int = 0, model: str = "tumour") -> int:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, :4].copy()
    frame.columns = ["radius", "texture", "perimeter", "area"]
    frame["malignant"] = 1 - data.target
    estimator = LogisticRegression(max_iter=200 + seed).fit(
        frame.drop(columns="malignant"), frame["malignant"]
    )
    registered = api.register_model(
        team.store, team["dana"], model, estimator, frame, target="malignant", parent=parent
    )
    return registered.version


def card_actions(team: Team, model: str = "tumour") -> list[tuple[str, str, dict[str, object]]]:
    with team.store.session() as session:
        events = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.action).startswith("card."), AuditEvent.model == model)
            .order_by(col(AuditEvent.seq))
        ).all()
        return [(e.action, e.subject, json.loads(bytes(e.payload))) for e in events]


@pytest.fixture
def line(team: Team) -> Team:
    """tumour:1 with a written card, then tumour:2 registered after it (inheriting)."""
    register(team)
    set_card_fields(team.store, team["dana"], "tumour", 1, PARENT_CARD)
    register(team, seed=1)
    return team


# ---- slice 1: inheritance at registration ---------------------------------------------------


def test_a_new_version_inherits_the_previous_card_in_one_signed_event(line: Team) -> None:
    assert card_fields(line.store, "tumour", 2) == PARENT_CARD
    inherited = [a for a in card_actions(line) if a[0] == "card.inherited"]
    assert inherited == [
        (
            "card.inherited",
            "tumour:2",
            {"model": "tumour", "version": 2, "from_version": 1, "fields": PARENT_CARD},
        )
    ]
    origins = field_origins(line.store, "tumour", 2)
    assert {o.label() for o in origins.values()} == {"inherited from v1, not confirmed"}
    assert [o.field for o in unconfirmed_fields(line.store, "tumour", 2)] == list(PARENT_CARD)


def test_the_parent_wins_over_the_previous_version(line: Team) -> None:
    set_card_fields(line.store, line["dana"], "tumour", 2, {"license": "mit"})
    number = register(line, parent=1, seed=2)
    assert number == 3
    assert card_fields(line.store, "tumour", 3)["license"] == "apache-2.0"
    last = card_actions(line)[-1]
    assert last[0] == "card.inherited" and last[2]["from_version"] == 1


def test_nothing_to_inherit_signs_nothing(team: Team) -> None:
    register(team)
    register(team, seed=1)
    assert card_actions(team) == []
    assert card_fields(team.store, "tumour", 2) == {}


def test_inheritance_copies_what_the_log_says_not_a_forged_row(line: Team, signoff: Runner) -> None:
    with line.store.session() as session:
        session.connection().execute(
            text("UPDATE card_fields SET value = 'forged' WHERE version = 1 AND field = 'license'")
        )
    register(line, seed=2)
    assert card_fields(line.store, "tumour", 3)["license"] == "apache-2.0"


# ---- slice 2: confirm and diff ----------------------------------------------------------------


def test_confirm_marks_fields_and_edit_replaces_the_mark(line: Team, signoff: Runner) -> None:
    result = signoff(
        "card", "confirm", "tumour:2", "--field", "license", "--home", line.home, "--as", "rita"
    )
    assert result.exit_code == 0, result.output
    assert "confirmed on the card of tumour:2: license" in result.output
    assert "still not confirmed: intended_use.primary_uses, caveats_and_recommendations" in (
        result.output
    )
    origins = field_origins(line.store, "tumour", 2)
    assert origins["license"].label() == "inherited from v1, confirmed by rita"
    edit = signoff(
        "card", "edit", "tumour:2", "--set", "caveats_and_recommendations=Only adults.",
        "--home", line.home, "--as", "dana",
    )  # fmt: skip
    assert edit.exit_code == 0, edit.output
    assert [o.field for o in unconfirmed_fields(line.store, "tumour", 2)] == [
        "intended_use.primary_uses"
    ]
    rest = signoff("card", "confirm", "tumour:2", "--home", line.home, "--as", "dana")
    assert rest.exit_code == 0, rest.output
    assert "confirmed on the card of tumour:2: intended_use.primary_uses" in rest.output
    confirmed = [a for a in card_actions(line) if a[0] == "card.confirmed"]
    assert [sorted(a[2]["fields"]) for a in confirmed] == [  # type: ignore[call-overload]
        ["license"],
        ["intended_use.primary_uses"],
    ]
    verify = signoff("audit", "verify", "--home", line.home)
    assert verify.exit_code == 0, verify.output


def test_diff_names_each_field_state_with_old_and_new_text(line: Team, signoff: Runner) -> None:
    set_card_fields(
        line.store,
        line["dana"],
        "tumour",
        2,
        {"license": "mit", "contact": "ML team <ml@example.org>"},
    )
    signoff(
        "card", "confirm", "tumour:2", "--field", "caveats_and_recommendations",
        "--home", line.home, "--as", "dana",
    )  # fmt: skip
    result = signoff("card", "diff", "tumour:2", "--home", line.home, "--json")
    assert result.exit_code == 0, result.output
    diff = json.loads(result.output)
    states = {f["field"]: (f["state"], f["old"], f["new"]) for f in diff["fields"]}
    assert diff["against"] == 1
    assert states == {
        "intended_use.primary_uses": (
            "inherited-unconfirmed",
            PARENT_CARD["intended_use.primary_uses"],
            PARENT_CARD["intended_use.primary_uses"],
        ),
        "caveats_and_recommendations": (
            "unchanged",
            "Re-validate on local data.",
            "Re-validate on local data.",
        ),
        "license": ("edited", "apache-2.0", "mit"),
        "contact": ("new", "", "ML team <ml@example.org>"),
    }
    shown = signoff("card", "diff", "tumour:2", "--home", line.home)
    assert shown.exit_code == 0, shown.output
    assert "license: edited (written by dana)" in shown.output
    assert "was:  apache-2.0" in shown.output and "now:  mit" in shown.output
    assert "caveats_and_recommendations: unchanged (inherited from v1, confirmed by dana)" in (
        shown.output
    )
    assert "not confirmed: intended_use.primary_uses" in shown.output


def test_diff_escapes_control_characters_stored_before_the_rule(
    line: Team, signoff: Runner
) -> None:
    with line.store.session() as session:  # text from before control characters were refused
        session.connection().execute(
            text(
                "UPDATE card_fields SET value = 'mit\x1b[2J' WHERE version = 2 AND field = 'license'"
            )
        )
    shown = signoff("card", "diff", "tumour:2", "--home", line.home)
    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.output and "mit\\x1b[2J" in shown.output


# ---- attacks -------------------------------------------------------------------------------------


def test_confirm_needs_the_card_edit_permission(line: Team, signoff: Runner) -> None:
    before = store_fingerprint(line.home)
    result = signoff("card", "confirm", "tumour:2", "--home", line.home, "--as", "rel")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert store_fingerprint(line.home) == before


def test_confirm_a_field_not_inherited_is_refused(line: Team, signoff: Runner) -> None:
    set_card_fields(line.store, line["dana"], "tumour", 2, {"contact": "ml@example.org"})
    before = store_fingerprint(line.home)
    for field, why in [
        ("contact", "card field contact of tumour:2 was not inherited"),
        ("factors", "card field factors of tumour:2 was not inherited"),
        ("colour", "unknown card field 'colour'"),
    ]:
        result = signoff(
            "card", "confirm", "tumour:2", "--field", field, "--home", line.home, "--as", "dana"
        )
        assert why in one_line_error(result)
    assert store_fingerprint(line.home) == before
    once = signoff(
        "card", "confirm", "tumour:2", "--field", "license", "--home", line.home, "--as", "dana"
    )
    assert once.exit_code == 0, once.output
    again = signoff(
        "card", "confirm", "tumour:2", "--field", "license", "--home", line.home, "--as", "dana"
    )
    assert "already confirmed (by dana)" in one_line_error(again)


def test_confirm_with_nothing_inherited_is_refused(team: Team, signoff: Runner) -> None:
    register(team)
    result = signoff("card", "confirm", "tumour:1", "--home", team.home, "--as", "dana")
    assert "no inherited field of tumour:1 awaits confirmation" in one_line_error(result)


def test_diff_of_a_version_without_parent(team: Team, signoff: Runner) -> None:
    register(team)
    result = signoff("card", "diff", "tumour:1", "--home", team.home)
    assert "tumour:1 has no parent and no earlier version" in one_line_error(result)
    itself = signoff("card", "diff", "tumour:1", "--against", "1", "--home", team.home)
    assert "is tumour:1 itself" in one_line_error(itself)
    missing = signoff("card", "diff", "tumour:1", "--against", "7", "--home", team.home)
    assert missing.exit_code != 0 and "Traceback" not in missing.output


# ---- slice 3: the log proves the rows and their marks --------------------------------------------


@pytest.mark.parametrize(
    "forgery",
    [
        "UPDATE card_fields SET value = 'forged' WHERE version = 2 AND field = 'license'",
        # a confirmation nobody signed: the row claims the editing event of v1
        "UPDATE card_fields SET event_seq = (SELECT min(event_seq) FROM card_fields "
        "WHERE version = 1) WHERE version = 2",
        "DELETE FROM card_fields WHERE version = 2 AND field = 'license'",
    ],
)
def test_audit_verify_catches_an_edited_inherited_row(
    line: Team, signoff: Runner, forgery: str
) -> None:
    assert signoff("audit", "verify", "--home", line.home).exit_code == 0
    with line.store.session() as session:
        session.connection().execute(text(forgery))
    verify = signoff("audit", "verify", "--home", line.home)
    assert verify.exit_code != 0, verify.output
    assert "card_fields" in verify.output
    refused = signoff("card", "confirm", "tumour:2", "--home", line.home, "--as", "dana")
    assert refused.exit_code != 0 and "differs from its signed log" in refused.output


def test_readme_documents_the_new_commands() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for words in ("card confirm", "card diff", "card.inherited", "card.confirmed"):
        assert words in readme


# ---- slice 4: the faces, on the demo (credit-risk:3 retrained from v2, card not confirmed) ----


@pytest.fixture
def demo(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from fixtures.demo import DEMO_PASSPHRASE

    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    return demo_home


def test_the_demo_versions_after_the_first_inherit(demo: Path) -> None:
    store = demo_store(demo)
    assert field_origins(store, "credit-risk", 1)["license"].label() == "written by dana"
    assert field_origins(store, "credit-risk", 2)["license"].label() == (
        "inherited from v1, confirmed by dana"
    )
    caveats = field_origins(store, "credit-risk", 2)["caveats_and_recommendations"]
    assert caveats.label() == "written by dana"  # v2's author rewrote what differs
    waiting = unconfirmed_fields(store, "credit-risk", 3)
    assert {o.label() for o in waiting} == {"inherited from v2, not confirmed"}
    assert len(waiting) == 9


def test_show_request_warns_of_unconfirmed_inherited_fields(demo: Path, signoff: Runner) -> None:
    result = signoff("show-request", "15", "--home", demo)  # credit-risk:3 to dev
    assert result.exit_code == 0, result.output
    assert "card against v2: no field changed" in result.output
    assert (
        "warning: card fields inherited from v2 and not confirmed: intended_use.primary_uses"
        in result.output
    )
    assert "(signoff card confirm credit-risk:3, or card edit)" in result.output


def test_rendered_cards_label_inherited_fields_with_their_origin(
    demo: Path, signoff: Runner
) -> None:
    card = signoff("card", "credit-risk:3", "--home", demo)
    assert card.exit_code == 0, card.output
    assert "(Inherited from v2, not confirmed.)" in card.output
    assert "inherited, not confirmed: intended_use.primary_uses" in card.output
    changes = card.output[card.output.index("Changes from v2") :]
    assert "inherited-unconfirmed" in changes and "edited" not in changes.split("###")[0]
    two = signoff("card", "credit-risk:2", "--home", demo, "--format", "json")
    fields = json.loads(two.output)["model_details"]["signoff"]["card_fields"]
    assert fields["license"]["origin"] == "inherited from v1, confirmed by dana"
    assert fields["caveats_and_recommendations"]["origin"] == "written by dana"
    # v3's validation differs from v2's, for which the text was written: confirming is knowing.
    signoff(
        "card", "confirm", "credit-risk:3", "--acknowledge-evidence", "--home", demo, "--as", "dana"
    )
    again = signoff("card", "credit-risk:3", "--home", demo)
    assert "(Inherited from v2, confirmed by dana.)" in again.output
    assert "not confirmed" not in again.output


def test_checklist_evidence_names_the_origin_and_holds_back_unconfirmed_fields(
    demo: Path,
) -> None:
    from reports.checklist import find_evidence
    from reports.snapshot import take_snapshot

    store = demo_store(demo)
    evidence = find_evidence(take_snapshot(store, as_of=None), "credit-risk", 3)
    uses = evidence["card.intended_use"]
    assert uses.found and not uses.holds
    assert any("inherited from v2, not confirmed (card.inherited #" in r for r in uses.refs)
    assert not any("card.edited" in r for r in uses.refs)
    confirmed = find_evidence(take_snapshot(store, as_of=None), "credit-risk", 2)
    contact = confirmed["card.contact"]
    assert contact.holds
    assert contact.refs[0].startswith(
        "contact inherited from v1, confirmed by dana (card.confirmed #"
    )


async def test_the_review_screen_shows_the_card_against_its_source(demo: Path) -> None:
    from rich.text import Text
    from textual.widgets import Static

    from console.tui.screens.review import ReviewScreen
    from tests.test_console_screens import console, settle

    app = console(demo, "rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_review(15)  # credit-risk:3, retrained from v2, its card inherited
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        content = app.screen.query_one("#champion-body", Static).content
        text_shown = content.plain if isinstance(content, Text) else str(content)
        assert "Card against v2 no field changed" in text_shown
        assert "not confirmed (inherited from v2): intended_use.primary_uses" in text_shown
