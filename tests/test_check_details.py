"""Typed check details: validation writes them as the JSON it always stored, and reads them back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from console.release.evidence import CheckView, latest_validation
from console.store.db import Store
from console.validation.check_detail import CheckDetail, Interval
from console.validation.details import (
    ConfusionMatrix,
    FairnessGap,
    GroupResults,
    MetricEstimate,
    details_as,
    details_of,
)
from console.validation.metrics import improves, lower_is_better
from console.validation.run_details import ChampionComparison
from console.validation.thresholds import DEFAULTS
from fixtures.demo import DEMO_PASSPHRASE
from tests.conftest import Runner


def stored(name: str, detail: object, category: str = "performance") -> CheckView:
    """A check as the store gives it back: its detail is the parsed JSON."""
    return CheckView(name, category, "info", None, None, json.loads(json.dumps(detail)))


def test_every_recorded_check_reads_back_as_the_json_it_stored(
    demo_home: Path, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    data = demo_home / "demo-data"
    runs = [
        ("credit-risk:1", "credit-risk-v1-holdout.csv", "default", "gender", "production"),
        ("diabetes-regressor:2", "diabetes-regressor-v2-holdout.csv", "progression", "sex", None),
    ]
    kinds: set[type[CheckDetail]] = set()
    for ref, file, target, sensitive, stage in runs:
        extra = ["--stage", stage] if stage else []
        result = signoff(
            "validate", ref, "--data", data / file, "--target", target, "--sensitive", sensitive,
            "--home", demo_home, "--as", "dana", *extra,
        )  # fmt: skip
        assert result.exit_code in (0, 1), result.output
        model, version = ref.split(":")
        run = latest_validation(Store(demo_home), model, int(version))
        assert run is not None
        for check in run.checks:
            detail = details_of(check)
            assert type(detail) is not CheckDetail, check.name  # every check has its own type
            assert detail.to_json() == check.detail, check.name
            kinds.add(type(detail))
    assert len(kinds) >= 14
    champion = run.check("champion.not_worse") if run else None
    assert champion is not None and isinstance(details_of(champion), ChampionComparison)


def test_multiclass_fairness_reads_back_with_its_per_class_rates() -> None:
    from console.validation.bootstrap import BootstrapPlan
    from console.validation.fairness import classification_fairness

    rng = np.random.default_rng(3)
    true = rng.integers(0, 3, size=400).astype(np.intp)
    pred = np.where(rng.random(400) < 0.8, true, rng.integers(0, 3, size=400)).astype(np.intp)
    groups = pd.Series(rng.choice(["a", "b", "c"], size=400))
    checks = classification_fairness(
        true, pred, groups, ["x", "y", "z"], BootstrapPlan(400), DEFAULTS, "segment"
    )
    for check in checks:
        written = check.as_dict()["detail"]
        assert details_of(stored(check.name, written, "fairness")).to_json() == written
    table = details_of(stored(checks[0].name, checks[0].as_dict()["detail"], "fairness"))
    assert isinstance(table, GroupResults) and table.positive_label is None
    assert "selection_rate[y]" in table.groups["a"].measures
    assert table.groups["a"].count == int((groups == "a").sum())


def test_a_parity_gap_without_two_large_groups_keeps_its_json() -> None:
    from console.validation.bootstrap import BootstrapPlan
    from console.validation.fairness import classification_fairness

    true = np.array([0, 1] * 20, dtype=np.intp)
    groups = pd.Series(["a"] * 35 + ["b"] * 5)
    checks = classification_fairness(
        true, true.copy(), groups, [0, 1], BootstrapPlan(40), DEFAULTS, "g"
    )
    parity = next(c for c in checks if c.name == "fairness.demographic_parity")
    assert parity.as_dict()["detail"] == {
        "column": "g",
        "ci95": None,
        "note": "fewer than two groups with 30+ rows to compare",
        "rule": "<=",
    }
    assert details_as(stored(parity.name, parity.as_dict()["detail"]), FairnessGap) == parity.detail


def test_a_champion_that_cannot_be_compared_keeps_its_json() -> None:
    detail = ChampionComparison(
        stage="production", tolerance=0.01, champion_version=3, note="why", reason="why"
    )
    expected = {
        "stage": "production",
        "tolerance": 0.01,
        "champion_version": 3,
        "note": "why",
        "reason": "why",
    }
    assert detail.to_json() == expected
    assert details_of(stored("champion.not_worse", expected, "champion")) == detail


def test_a_malformed_detail_reads_as_absent_fields_never_an_error() -> None:
    metric = details_of(stored("performance.accuracy", {"ci95": "wide", "rule": "~", "note": 3}))
    assert metric == MetricEstimate()
    matrix = details_of(stored("performance.confusion_matrix", {"labels": 3, "matrix": [[1]]}))
    assert isinstance(matrix, ConfusionMatrix) and matrix.predicted_counts() is None
    assert details_of(stored("fairness.groups", ["not", "a", "mapping"])) == GroupResults()
    unknown = details_of(stored("custom.check", {"note": "hello", "rule": ">="}))
    assert type(unknown) is CheckDetail and (unknown.note, unknown.rule) == ("hello", ">=")


def test_an_interval_of_another_level_is_read_from_ci_and_ci_level() -> None:
    detail = {"metric": "r_squared", "ci": [0.4, 0.6], "ci_level": 0.9, "rule": ">="}
    estimate = details_of(stored("performance.r2", detail))
    assert isinstance(estimate, MetricEstimate)
    assert estimate.interval == Interval(0.4, 0.6, 0.9) and estimate.metric == "r_squared"
    assert estimate.to_json() == {**detail, "note": ""}


def test_the_direction_of_each_metric() -> None:
    assert lower_is_better("performance.rmse") and lower_is_better("log_loss")
    assert not lower_is_better("performance.roc_auc")
    assert improves("rmse", -0.1) and not improves("rmse", 0.1)
    assert improves("accuracy", 0.0) and not improves("performance.accuracy", -0.01)
