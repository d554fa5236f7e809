"""The fast paths of a validation run give scikit-learn's numbers, and reproducibility on a large
file compares the same evenly spaced rows on every run."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from console.validation.bootstrap import BootstrapPlan, ranked_auc
from console.validation.credit import LOGIT_EPS, calibration_fit
from console.validation.performance import classification_checks
from console.validation.prediction import Predictions, array_sha256
from console.validation.thresholds import DEFAULTS
from tests.conftest import Runner
from tests.test_validation import (  # noqa: F401  (fixtures)
    backend,
    checks_of,
    demo,
    estimator_of,
    holdout,
    run_json,
    validate,
)


def _sklearn_values(y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    k = proba.shape[1]
    labels = list(range(k))
    average: dict[str, object] = (
        {"average": "binary", "pos_label": 1} if k == 2 else {"average": "macro"}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": skm.accuracy_score(y, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, labels=labels, zero_division=0, **average),
            "recall": skm.recall_score(y, pred, labels=labels, zero_division=0, **average),
            "f1": skm.f1_score(y, pred, labels=labels, zero_division=0, **average),
            "log_loss": skm.log_loss(y, proba, labels=labels),
        }


@pytest.mark.parametrize("k", [2, 3])
def test_threshold_metrics_and_log_loss_are_sklearns_bit_for_bit(k: int) -> None:
    rng = np.random.default_rng(17 + k)
    for trial in range(12):
        n = int(rng.integers(30, 2000))
        proba = rng.random((n, k))
        if trial % 3 == 0:
            proba = np.round(proba, 1) + 0.01  # ties
        proba /= proba.sum(axis=1, keepdims=True)
        y = np.array([rng.choice(k, p=row) for row in proba])
        pred = proba.argmax(axis=1)
        if trial % 4 == 1:
            pred[:] = 0  # a class never predicted: zero_division
        if len(np.unique(y)) < k:
            continue
        checks = {
            c.name: c
            for c in classification_checks(
                y, Predictions(pred, proba, None), list(range(k)), BootstrapPlan(n), DEFAULTS
            )
        }
        for name, expected in _sklearn_values(y, pred, proba).items():
            assert checks[f"performance.{name}"].value == expected, (trial, name)
        matrix = checks["performance.confusion_matrix"].detail.matrix  # type: ignore[union-attr]
        assert matrix == skm.confusion_matrix(y, pred, labels=list(range(k))).tolist()
        if k == 2:
            brier = checks["performance.brier_score"].value
            assert brier == pytest.approx(skm.brier_score_loss(y == 1, proba[:, 1]), rel=1e-12)


def test_ranked_auc_is_sklearns_auc_with_ties_counted_half() -> None:
    rng = np.random.default_rng(5)
    for decimals in (0, 1, 2, 8):
        score = np.round(rng.random(3000), decimals)
        positive = rng.random(3000) < score
        value, statistic = ranked_auc(positive, score)
        assert value == pytest.approx(skm.roc_auc_score(positive, score), rel=1e-12)
        identity = np.arange(3000, dtype=np.intp)[None, :]
        assert statistic(identity)[0] == pytest.approx(value, rel=1e-12)
    value, _ = ranked_auc(np.ones(5, bool), np.linspace(0, 1, 5))
    assert np.isnan(value)  # one class: no AUC


def test_calibration_fit_is_the_maximum_likelihood_fit_on_large_and_separable_data() -> None:
    rng = np.random.default_rng(8)
    score = rng.uniform(0.01, 0.99, 300_000)  # above the warm-start size
    logit = np.log(score / (1 - score))
    positive = rng.random(score.size) < 1 / (1 + np.exp(-(0.8 * logit - 0.2)))
    fit = calibration_fit(positive, score)
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(logit[:, None], positive)
    assert fit == pytest.approx((reference.coef_[0, 0], reference.intercept_[0]), abs=1e-6)
    # Separable classes have no finite maximum: Newton gives up, scikit-learn's solver answers.
    score = np.linspace(0.05, 0.95, 200)
    positive = score > 0.5
    clipped = np.clip(score, LOGIT_EPS, 1 - LOGIT_EPS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(
            np.log(clipped / (1 - clipped))[:, None], positive.astype(int)
        )
    assert calibration_fit(positive, score) == pytest.approx(
        (reference.coef_[0, 0], reference.intercept_[0]), rel=1e-9
    )


@pytest.mark.parametrize("backend", ["duckdb"])  # computation over the data file
def test_reproducibility_on_a_large_file_compares_evenly_spaced_rows(
    demo: Path,  # noqa: F811
    signoff: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.validation import reproducibility

    model, data = "breast-cancer-classifier", holdout(demo, "breast-cancer-classifier", 2)
    frame = pd.read_csv(data)
    result = validate(signoff, demo, f"{model}:2", data, "malignant", "--json")
    assert result.exit_code == 0, result.output
    whole = checks_of(run_json(result))["reproducibility.predictions"]["detail"]
    assert whole["rows"] == len(frame)  # a small file: every row

    monkeypatch.setattr(reproducibility, "SAMPLE_ROWS", 25)
    digests = []
    for _ in range(2):
        result = validate(signoff, demo, f"{model}:2", data, "malignant", "--json")
        assert result.exit_code == 0, result.output
        check = checks_of(run_json(result))["reproducibility.predictions"]
        assert check["status"] == "pass" and check["detail"]["rows"] == 25
        assert check["detail"]["first"] == check["detail"]["second"]
        assert "25 evenly spaced rows" in check["detail"]["note"]
        digests.append(check["detail"]["first"]["predictions_sha256"])
    assert digests[0] == digests[1]
    estimator, features = estimator_of(demo, model, 2)
    positions = np.linspace(0, len(frame) - 1, 25).round().astype(int)
    assert positions[0] == 0 and positions[-1] == len(frame) - 1
    predicted = np.asarray(estimator.predict(frame.iloc[positions][features]))
    assert array_sha256(predicted) == digests[0]
