"""The reviewer's read model: the candidate beside the champion, compared the way each metric reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.registry.cards import card_fields
from console.release.review import review_evidence
from console.validation.metrics import LOWER_IS_BETTER
from tests.conftest import demo_store


def test_a_request_is_compared_with_the_version_holding_its_stage(demo_home: Path) -> None:
    store = demo_store(demo_home)
    evidence = review_evidence(store, 15)  # the demo's open request: credit-risk:3 to dev
    request = evidence.request
    assert (request.model, request.version, request.stage) == ("credit-risk", 3, "dev")
    assert evidence.champion is not None and evidence.champion.number == 2
    assert evidence.candidate_run is not None and evidence.champion_run is not None
    assert [m.check for m in evidence.metrics] == sorted(m.check for m in evidence.metrics)
    assert not evidence.training  # the candidate was validated: no in-sample fallback

    directions = set()
    for row in evidence.metrics:
        assert row.champion_value is not None and row.delta is not None
        assert row.delta == pytest.approx(row.value - row.champion_value)
        lower = row.metric in LOWER_IS_BETTER
        assert row.improves == (row.delta <= 0 if lower else row.delta >= 0), row.metric
        directions.add(lower)
    assert directions == {True, False}  # both kinds of metric are present and read their way
    brier = next(m for m in evidence.metrics if m.metric == "brier_score")
    assert brier.improves == (brier.value <= (brier.champion_value or 0.0))

    # The retrained v3 inherited v2's card and nobody has confirmed it yet: the same text,
    # every field waiting for its author.
    mine, theirs = card_fields(store, "credit-risk", 3), card_fields(store, "credit-risk", 2)
    assert mine == theirs and mine and evidence.card_changes == []
    assert evidence.card_diff is not None and evidence.card_diff.against == 2
    assert evidence.card_diff.unconfirmed == list(mine)
    assert evidence.failed_checks == [
        c.name for c in evidence.candidate_run.checks if c.status == "fail"
    ]
