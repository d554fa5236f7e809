"""The demo's model cards claim only what each version's validation runs found: the fairness they
measured, and no inherited text passed off as true of a version whose evidence differs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlmodel import select

from console.registry.cards import card_fields
from console.store.db import Store
from console.store.models import AuditEvent, ValidationRun
from fixtures.demo_fairness import FAIRNESS_OVER
from tests.conftest import Runner

# How the demo's cards name each sensitive column in prose.
SPOKEN = {"gender": "gender", "age_band": "age band"}


def _claimed(card: dict[str, str]) -> set[str]:
    """The columns a card says validation measures by: `by <name>` in a sentence that measures."""
    sentences = [s for value in card.values() for s in value.replace("\n", " ").split(". ")]
    return {
        column
        for sentence in sentences
        if "measure" in sentence
        for column, name in SPOKEN.items()
        if f"by {name}" in sentence
    }


def test_each_demo_card_claims_the_fairness_its_runs_measured(demo_template: Path) -> None:
    store = Store(demo_template)
    try:
        with store.session() as session:
            runs = session.exec(select(ValidationRun).order_by(ValidationRun.id)).all()
        checked = []
        for run in runs:
            measured = set(run.sensitive.split(", ")) if run.sensitive else set()
            assert measured == set(FAIRNESS_OVER[run.model]), (run.model, run.version)
            card = card_fields(store, run.model, run.version)
            assert _claimed(card) == measured, (run.model, run.version, card)
            checked.append((run.model, run.version, sorted(measured)))
    finally:
        store.dispose()
    # Every demo model was validated, and the credit models over the groups the cards name.
    assert {model for model, _, _ in checked} == set(FAIRNESS_OVER)
    assert ("credit-risk", 2, ["age_band", "gender"]) in checked
    assert ("loan-default-gbm", 1, ["gender"]) in checked


def test_a_card_that_claimed_a_group_not_measured_is_caught() -> None:
    card = {"factors": "Fairness is measured by gender and by age band at every validation."}
    assert _claimed(card) == {"gender", "age_band"}
    assert _claimed({"factors": "Sex is an input. Review performance by age by hand."}) == set()


# ---- inherited text beside the evidence it was written for (credit-risk v3) -------------------

_METRICS = {"demographic parity": "demographic_parity", "equal opportunity": "equal_opportunity"}
_FAILS = re.compile(
    r"fails ((?:(?:demographic parity|equal opportunity) by [a-z ]+?(?:, and |, |\.))+)"
)


def _fairness_claims(text: str) -> set[str]:
    """The fairness checks a sentence says a version fails: `fails METRIC by A and by B, and …`."""
    claims = set()
    for clause in _FAILS.findall(text):
        for metric, spoken in _METRICS.items():
            for part in clause.split(metric)[1:]:
                groups = part.split(", and ")[0].split(", ")[0].rstrip(".")
                for name in groups.removeprefix(" by ").split(" and by "):
                    column = {v: k for k, v in SPOKEN.items()}[name.strip()]
                    claims.add(f"fairness.{spoken}.{column}")
    return claims


def test_no_demo_card_passes_off_text_written_for_other_evidence(demo_template: Path) -> None:
    from console.registry.card_diff import source_diff
    from console.registry.views import list_models
    from reports.card_data import build_card
    from reports.card_markdown import render_markdown

    store = Store(demo_template)
    try:
        contradicted = {}
        for model in list_models(store):
            for version in model.versions:
                diff = source_diff(store, model.name, version.number)
                evidence = diff.evidence if diff is not None else None
                if evidence is None or not evidence.contradicted:
                    continue
                contradicted[(model.name, version.number)] = evidence
                card = render_markdown(build_card(store, model.name, version.number))
                said = f"**{evidence.heading.capitalize()}:** " + "; ".join(evidence.findings())
                # Beside every inherited field the card shows as prose, and nowhere else.
                beside = card.count(f"(Inherited from v{evidence.source}, not confirmed.)")
                assert beside and card.count(said) == beside, (model.name, version.number)
                assert f"### Evidence since v{evidence.source}" in card
        # The teaching case stays: v3 inherits v2's card, and v2's fairness claim fails for v3.
        assert list(contradicted) == [("credit-risk", 3)]
        v3 = contradicted[("credit-risk", 3)]
        assert "fairness.demographic_parity.gender: pass in v2, fail in v3" in v3.findings()
        # v2's caveat says its parity gap is under the limit: true of v2, whose run passes.
        with store.session() as session:
            v2 = session.exec(
                select(ValidationRun).where(
                    ValidationRun.model == "credit-risk", ValidationRun.version == 2
                )
            ).one()
        assert (
            "under the policy's limit"
            in card_fields(store, "credit-risk", 2)["caveats_and_recommendations"]
        )
        assert v2.passed
    finally:
        store.dispose()


def test_the_caveat_the_demo_author_writes_for_v3_says_what_v3_fails(demo_home: Path) -> None:
    from console.registry.card_inheritance import unconfirmed_fields
    from console.release.evidence import latest_validation
    from fixtures.demo_cards import demo_card_fields, fill_demo_cards
    from tests.test_cards import demo_signer

    caveat = demo_card_fields("credit-risk", 3)["caveats_and_recommendations"]
    store = Store(demo_home)
    try:
        run = latest_validation(store, "credit-risk", 3)
        assert run is not None
        failing = {c.name for c in run.by_category("fairness") if c.status == "fail"}
        assert failing and _fairness_claims(caveat) == failing
        fill_demo_cards(store, demo_signer(demo_home, "dana"))
        assert card_fields(store, "credit-risk", 3)["caveats_and_recommendations"] == caveat
        assert unconfirmed_fields(store, "credit-risk", 3) == []
        with store.session() as session:
            [confirmed] = session.exec(
                select(AuditEvent).where(
                    AuditEvent.action == "card.confirmed", AuditEvent.subject == "credit-risk:3"
                )
            ).all()
            evidence = json.loads(bytes(confirmed.payload))["evidence"]
        assert evidence["acknowledged"] is True and evidence["changes"]
    finally:
        store.dispose()


def test_fairness_claims_are_read_from_the_sentence() -> None:
    text = "It fails demographic parity by gender and by age band, and equal opportunity by age band, so"
    assert _fairness_claims(text) == {
        "fairness.demographic_parity.gender",
        "fairness.demographic_parity.age_band",
        "fairness.equal_opportunity.age_band",
    }
    assert _fairness_claims("It passes demographic parity by gender.") == set()


# ---- every face shows it ---------------------------------------------------------------------

V3_DP = "fairness.demographic_parity.gender: pass in v2, fail in v3"


def test_show_request_warns_that_the_inherited_text_is_contradicted(
    demo_home: Path, signoff: Runner
) -> None:
    result = signoff("show-request", "15", "--home", demo_home)  # credit-risk:3 to dev
    assert result.exit_code == 0, result.output
    [warning] = [
        line
        for line in result.output.splitlines()
        if line.startswith("  warning: the inherited card text was written for v2; since then: ")
    ]
    assert V3_DP in warning


def _pdf_text(path: Path) -> str:
    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def _card_section(text: str) -> str:
    start = text.rindex("Card fields written by people")  # the section, not its contents line
    return text[start : text.index("Lineage", start)]


def test_the_compliance_report_card_section_shows_the_difference_only_where_it_is(
    demo_home: Path, signoff: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fixtures.demo import DEMO_PASSPHRASE

    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    monkeypatch.setenv("SIGNOFF_KEYS", str(demo_home / "demo-keys"))
    sections = {}
    for version in (2, 3):
        out = tmp_path / f"v{version}.pdf"
        result = signoff(
            "report", f"credit-risk:{version}", "-o", out, "--home", demo_home, "--as", "aud"
        )
        assert result.exit_code == 0, result.output
        sections[version] = " ".join(_card_section(_pdf_text(out)).split())
    v3 = sections[3]
    assert "(inherited from v2, not confirmed; card.inherited #" in v3
    assert "Written for v2; since then: " in v3 and V3_DP in v3
    assert "card.edited" not in v3  # the inherited values were never edited for v3
    # v2's fields were written or confirmed for v2: nothing was inherited unconfirmed.
    v2 = sections[2]
    assert "since then" not in v2 and "Written for" not in v2
    assert "(by dana; card.edited #" in v2 and "confirmed by dana; card.confirmed #" in v2


async def test_the_console_card_and_review_show_the_difference(demo_home: Path) -> None:
    from rich.text import Text
    from textual.widgets import Markdown, Static

    from console.tui.screens.model_detail import ModelDetailScreen
    from console.tui.screens.review import ReviewScreen
    from tests.console_pilot import settle
    from tests.test_console_screens import console

    app = console(demo_home, "rita")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ModelDetailScreen("credit-risk"))
        await settle(pilot)
        assert isinstance(app.screen, ModelDetailScreen) and app.screen.selected == 3
        source = app.screen.query_one("#card-body", Markdown).source
        assert "**Written for v2; since then:** " in source and V3_DP in source
        assert "### Evidence since v2" in source
        app.open_review(15)  # credit-risk:3, retrained from v2, its card inherited
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        content = app.screen.query_one("#champion-body", Static).content
        shown = content.plain if isinstance(content, Text) else str(content)
        assert "  written for v2; since then:\n" in shown
        assert f"    {V3_DP}\n" in shown
