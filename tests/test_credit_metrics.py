"""Credit metrics against hand or library values, their gates, several sensitive attributes with a
decision threshold, and the review that shows paired, like-for-like numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from sklearn import metrics as skm

from console.validation.bootstrap import BootstrapPlan
from console.validation.checks import Check
from console.validation.credit import (
    binary_score_checks,
    calibration_fit,
    expected_calibration_error,
    hosmer_lemeshow,
    reliability,
    residual_check,
    score_edges,
    score_shares,
)
from console.validation.credit_details import ScoreDistribution
from console.validation.performance import classification_checks, regression_checks
from console.validation.prediction import Predictions
from console.validation.thresholds import DEFAULTS
from fixtures.demo import DEMO_PASSPHRASE
from tests.conftest import Runner, demo_store, one_line_error


def _scores(n: int = 4000, seed: int = 3, sharpen: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Scores and outcomes drawn so that outcome ~ Bernoulli(sigmoid(sharpen * logit(score)))."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(0.02, 0.98, n)
    logit = np.log(score / (1 - score))
    outcome = rng.uniform(size=n) < 1 / (1 + np.exp(-sharpen * logit))
    return score, outcome


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_roc_auc_and_gini_read_one_auc_computation_with_the_numbers_each_made_alone() -> None:
    """The run computes the AUC and its draws once (binary_roc_auc); performance.roc_auc and
    performance.gini given it record exactly what each recorded computing its own."""
    from console.validation.performance import binary_roc_auc

    score, positive = _scores(n=3000, seed=5)
    score = np.round(score, 2)  # ties
    plan = BootstrapPlan(score.size)
    shared = binary_roc_auc(positive, score, plan)
    assert shared is not None
    y = positive.astype(int)
    predictions = Predictions((score > 0.5).astype(int), np.column_stack([1 - score, score]), None)
    alone = [c.as_dict() for c in classification_checks(y, predictions, [0, 1], plan, DEFAULTS)]
    given = classification_checks(y, predictions, [0, 1], plan, DEFAULTS, shared)
    assert [c.as_dict() for c in given] == alone
    own = binary_score_checks(positive, score, True, plan, DEFAULTS, None)
    reused = binary_score_checks(positive, score, True, plan, DEFAULTS, None, shared)
    assert [c.as_dict() for c in reused] == [c.as_dict() for c in own]
    roc = _by_name(given)["performance.roc_auc"]
    assert _by_name(reused)["performance.gini"].value == 2 * roc.value - 1  # type: ignore[operator]
    # One class only: no AUC, and Gini says why instead of failing on a missing number.
    assert binary_roc_auc(np.ones(10, bool), np.linspace(0, 1, 10), BootstrapPlan(10)) is None


def test_gini_and_ks_equal_their_library_values() -> None:
    score, positive = _scores()
    checks = _by_name(
        binary_score_checks(positive, score, True, BootstrapPlan(score.size), DEFAULTS, None)
    )
    gini = checks["performance.gini"]
    assert gini.value == pytest.approx(2 * skm.roc_auc_score(positive, score) - 1, rel=1e-12)
    assert gini.detail.confidence_interval() is not None
    ks = checks["performance.ks_statistic"]
    assert ks.value == pytest.approx(stats.ks_2samp(score[positive], score[~positive]).statistic)
    # By hand: the largest gap between the two empirical CDFs, over every score.
    grid = np.sort(score)
    cdf_pos = np.searchsorted(np.sort(score[positive]), grid, side="right") / positive.sum()
    cdf_neg = np.searchsorted(np.sort(score[~positive]), grid, side="right") / (~positive).sum()
    assert ks.value == pytest.approx(np.abs(cdf_pos - cdf_neg).max())
    assert gini.status == ks.status == "pass"


def test_calibration_slope_and_intercept_match_a_maximum_likelihood_fit() -> None:
    for sharpen in (1.0, 2.0):
        score, positive = _scores(sharpen=sharpen)
        fit = calibration_fit(positive, score)
        assert fit is not None
        logit = np.log(score / (1 - score))

        def loss(ab: np.ndarray, x: np.ndarray = logit, y: np.ndarray = positive) -> float:
            z = ab[0] + ab[1] * x
            return float(np.sum(np.logaddexp(0, z) - y * z))

        found = optimize.minimize(loss, [0.0, 1.0], method="BFGS", options={"gtol": 1e-9})
        intercept, slope = found.x
        assert fit == pytest.approx((slope, intercept), abs=1e-3)
        assert fit[0] == pytest.approx(sharpen, abs=0.25)  # the slope recovers the sharpening
    checks = _by_name(
        binary_score_checks(positive, score, True, BootstrapPlan(score.size), DEFAULTS, None)
    )
    # A score that is half as sharp as the truth: slope 2, 1 away from calibrated, fails.
    assert checks["performance.calibration_slope_deviation"].status == "fail"


def test_expected_calibration_error_and_hosmer_lemeshow_by_hand() -> None:
    score = np.array([0.05, 0.15, 0.15, 0.55, 0.95, 0.95])
    positive = np.array([False, False, True, True, True, False])
    table = reliability(score, positive)
    assert table.counts == [1, 2, 1, 2]
    # bins 0.0-0.1, 0.1-0.2, 0.5-0.6, 0.9-1.0: |mean score - event rate| weighted by rows
    by_hand = (1 * 0.05 + 2 * abs(0.15 - 0.5) + 1 * abs(0.55 - 1) + 2 * abs(0.95 - 0.5)) / 6
    assert expected_calibration_error(table) == pytest.approx(by_hand)

    score, positive = _scores(n=1000, seed=11)
    hl = hosmer_lemeshow(score, positive)
    order = np.argsort(score, kind="stable")
    statistic = 0.0
    for group in np.array_split(order, 10):
        n, p, o = group.size, score[group].mean(), positive[group].sum()
        statistic += (o - n * p) ** 2 / (n * p * (1 - p))
    assert hl.statistic == pytest.approx(statistic) and hl.dof == 8
    checks = _by_name(
        binary_score_checks(positive, score, True, BootstrapPlan(score.size), DEFAULTS, None)
    )
    check = checks["performance.hosmer_lemeshow"]
    assert check.value == pytest.approx(stats.chi2.sf(statistic, 8))
    assert check.status == "info"  # not gated unless the policy sets min_hosmer_lemeshow_pvalue
    assert checks["performance.expected_calibration_error"].status == "pass"  # calibrated


def test_score_psi_is_the_baseline_run_until_a_later_run_compares_with_it() -> None:
    score, positive = _scores()
    plan = BootstrapPlan(score.size)
    first = _by_name(binary_score_checks(positive, score, True, plan, DEFAULTS, None))
    baseline = first["performance.score_psi"]
    assert baseline.status == "info" and baseline.value is None
    assert isinstance(baseline.detail, ScoreDistribution)
    assert baseline.detail.share == pytest.approx([0.1] * 10, abs=0.002)  # deciles
    same = _by_name(
        binary_score_checks(positive, score, True, plan, DEFAULTS, (4, baseline.detail))
    )
    assert same["performance.score_psi"].value == pytest.approx(0.0, abs=1e-12)
    shifted = np.clip(score + 0.3, 0, 1)
    moved = _by_name(
        binary_score_checks(positive, shifted, True, plan, DEFAULTS, (4, baseline.detail))
    )["performance.score_psi"]
    edges = score_edges(score)
    expected = np.array(score_shares(score, edges))
    actual = np.maximum(np.array(score_shares(shifted, edges)), 1e-4)
    by_hand = float(np.sum((actual - expected) * np.log(actual / expected)))
    assert moved.value == pytest.approx(by_hand) and moved.status == "fail"
    assert isinstance(moved.detail, ScoreDistribution) and moved.detail.baseline_run == 4


def test_residual_bias_and_an_optional_mae_bound() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(100, 20, 500)
    unbiased = residual_check(y, y + rng.normal(0, 5, 500), DEFAULTS)
    biased = residual_check(y, y - 10, DEFAULTS)
    assert unbiased.status == "pass" and biased.status == "fail"
    assert biased.value == pytest.approx(10 / np.std(y))
    plan = BootstrapPlan(y.size)
    mae = _by_name(regression_checks(y, y - 10, plan, DEFAULTS))["performance.mae"]
    assert mae.status == "info"  # in the target's units: no default bound
    gated = _by_name(regression_checks(y, y - 10, plan, {**DEFAULTS, "max_mae": 5.0}))
    assert gated["performance.mae"].status == "fail" and gated["performance.mae"].threshold == 5.0


def test_a_rare_event_model_with_low_recall_fails_the_default_gate() -> None:
    """Recall 0.07 on a 16.6% base rate: accuracy 0.84 would pass, balanced accuracy fails."""
    n, events, caught = 6000, 996, 70  # 16.6% base rate, recall 0.07
    y = np.zeros(n, dtype=int)
    y[:events] = 1
    predicted = np.zeros(n, dtype=int)
    predicted[:caught] = 1
    predicted[events : events + 30] = 1  # a few false alarms
    proba = np.column_stack([1 - predicted * 0.6 - 0.1, predicted * 0.6 + 0.1])
    checks = _by_name(
        classification_checks(
            y, Predictions(predicted, proba, None), [0, 1], BootstrapPlan(n), DEFAULTS
        )
    )
    assert checks["performance.recall"].value == pytest.approx(0.0703, abs=1e-4)
    accuracy = checks["performance.accuracy"]
    assert accuracy.value is not None and accuracy.value > DEFAULTS["min_accuracy"]
    assert accuracy.status == "info" and "balanced accuracy gates" in accuracy.detail.note
    balanced = checks["performance.balanced_accuracy"]
    assert balanced.status == "fail" and balanced.threshold == DEFAULTS["min_balanced_accuracy"]
    # A balanced target keeps accuracy as its gate.
    even = np.arange(n) % 2
    kept = _by_name(
        classification_checks(
            even, Predictions(even, None, None), [0, 1], BootstrapPlan(n), DEFAULTS
        )
    )
    assert kept["performance.accuracy"].status == "pass"
    assert kept["performance.balanced_accuracy"].status == "info"


# ---- the CLI: several attributes, their intersection, a decision threshold --------------------


@pytest.fixture
def demo(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    return demo_home


def _validate(signoff: Runner, home: Path, *extra: str) -> Any:
    data = home / "demo-data" / "credit-risk-v2-holdout.csv"
    return signoff(
        "validate", "credit-risk:2", "--data", data, "--target", "default",
        "--home", home, "--as", "dana", *extra,
    )  # fmt: skip


def test_several_sensitive_attributes_and_a_threshold_in_one_run(
    demo: Path, signoff: Runner
) -> None:
    from console.registry.views import get_version, load_version_estimator

    result = _validate(
        signoff, demo, "--sensitive", "gender", "--sensitive", "age_band", "--intersect",
        "--threshold", "0.3", "--json",
    )  # fmt: skip
    run = json.loads(result.stdout)
    checks = {c["name"]: c for c in run["checks"]}
    assert run["sensitive"] == "gender, age_band"
    assert run["summary"]["decision_threshold"] == 0.3
    for attribute in ("gender", "age_band", "gender&age_band"):
        for metric in ("groups", "demographic_parity", "equal_opportunity"):
            assert f"fairness.{metric}.{attribute}" in checks, (metric, attribute)
    assert "fairness.demographic_parity" not in checks  # several attributes: every name says which

    store = demo_store(demo)
    view = get_version(store, "credit-risk", 2)
    estimator = load_version_estimator(store, view)
    frame = pd.read_csv(demo / "demo-data" / "credit-risk-v2-holdout.csv")
    features = [str(c["name"]) for c in view.input_schema]
    selected = estimator.predict_proba(frame[features])[:, 1] > 0.3
    for attribute in ("gender", "age_band"):
        rates = pd.Series(selected).groupby(frame[attribute].astype(str).to_numpy()).mean()
        parity = checks[f"fairness.demographic_parity.{attribute}"]
        assert parity["value"] == pytest.approx(rates.max() - rates.min(), rel=1e-9)
    assert checks["performance.recall"]["value"] == pytest.approx(
        skm.recall_score(frame["default"], selected.astype(int))
    )
    groups = checks["fairness.groups.gender&age_band"]["detail"]["groups"]
    assert "female & <30" in groups and sum(g["count"] for g in groups.values()) == len(frame)
    # The gate covers every attribute: any failing one fails fairness.passed.
    failing = [c for c in checks.values() if c["category"] == "fairness" and c["status"] == "fail"]
    assert (result.exit_code == 1) == bool(failing or run["status"] == "fail")


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (("--threshold", "1.5"), "strictly between 0 and 1"),
        (("--sensitive", "gender", "--intersect"), "--intersect needs at least two"),
        (("--sensitive", "gender", "--sensitive", "gender"), "same column twice"),
        (("--sensitive", "gender", "--sensitive", "nope"), "'nope' is not in"),
    ],
)
def test_bad_fairness_flags_are_one_line_and_store_nothing(
    demo: Path, signoff: Runner, extra: tuple[str, ...], fragment: str
) -> None:
    before = signoff("validations", "credit-risk:2", "--home", demo, "--json").stdout
    assert fragment in one_line_error(_validate(signoff, demo, *extra))
    assert signoff("validations", "credit-risk:2", "--home", demo, "--json").stdout == before


# ---- the review: paired numbers first, different data said --------------------------------------


def test_show_request_puts_the_paired_comparison_first(demo: Path, signoff: Runner) -> None:
    from console.release.review import review_evidence

    evidence = review_evidence(demo_store(demo), 15)  # credit-risk:3 to dev, champion v2
    assert evidence.paired is not None and evidence.paired.current
    primary = evidence.paired.detail.primary
    assert primary is not None and primary.metric == "roc_auc"
    assert evidence.same_dataset is False  # the champion's latest run read another file
    assert [c.name for c in evidence.checks] == [c.name for c in evidence.candidate_run.checks]  # type: ignore[union-attr]
    assert {m.direction for m in evidence.metrics} == {"higher is better", "lower is better"}

    out = signoff("show-request", "15", "--home", demo).output
    assert f"roc_auc {primary.delta:+.4f}" in out
    assert "DIFFERENT DATASETS, the deltas are not like-for-like" in out
    assert "fail fairness.demographic_parity" in out  # every check with its status
    brier = next(line for line in out.splitlines() if " brier_score " in line)
    assert "lower is better" in brier and ("better" in brier.split("lower")[0] or "worse" in brier)


async def test_the_review_screen_shows_the_paired_numbers(demo_home: Path) -> None:
    from console.tui.app import make_app
    from console.tui.screens.review import ReviewScreen

    app = make_app(demo_store(demo_home), user="rita")
    async with app.run_test(size=(140, 60)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.open_review(15)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        body = str(app.screen.query_one("#champion-body").render())
        assert "Paired with champion" in body and "roc_auc v3 − v2" in body
        assert "different datasets" in body and "brier_score ↓" in body
        assert "fail fairness.demographic_parity" in body
