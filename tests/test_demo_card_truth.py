"""The demo's model cards claim only the fairness checks that each model's validation runs made."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from console.registry.cards import card_fields
from console.store.db import Store
from console.store.models import ValidationRun
from fixtures.demo_fairness import FAIRNESS_OVER

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
