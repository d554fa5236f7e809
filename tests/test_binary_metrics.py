"""The binary metrics registration records are bit for bit the floats scikit-learn computes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from console.registry.binary_metrics import binary_metrics


def _sklearn(y: Any, predicted: Any, scores: Any) -> dict[str, float]:
    labels = np.unique(y)
    return {
        "accuracy": float(skm.accuracy_score(y, predicted)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, predicted)),
        "f1": float(skm.f1_score(y, predicted, pos_label=labels[1])),
        "roc_auc": float(skm.roc_auc_score(y, scores)),
    }


def _case(rng: np.random.Generator, labels: tuple[Any, Any]) -> tuple[Any, Any, Any]:
    n = int(rng.integers(2, 400))
    y = np.where(rng.random(n) < rng.uniform(0.05, 0.95), labels[1], labels[0])
    y[0], y[1] = labels  # both labels present
    kind = rng.integers(3)
    if kind == 0:  # all one class predicted
        predicted = np.full(n, labels[int(rng.integers(2))], dtype=y.dtype)
    else:
        predicted = np.where(rng.random(n) < 0.5, y, labels[::-1][0]).astype(y.dtype)
    scores = rng.random(n)
    if kind == 2:  # many ties, as a tree's probabilities have
        scores = np.round(scores, 1)
    return y, predicted, scores


@pytest.mark.parametrize("labels", [(0, 1), (1, 2), (-1, 1), (False, True), (3, 7)])
def test_random_cases_match_scikit_learn_exactly(labels: tuple[Any, Any]) -> None:
    rng = np.random.default_rng(sum(int(v) for v in labels) + 11)
    for _ in range(150):
        y, predicted, scores = _case(rng, labels)
        ours = binary_metrics(y, predicted, lambda scores=scores: scores)
        assert ours is not None
        theirs = _sklearn(y, predicted, scores)
        assert {k: v.hex() for k, v in ours.items()} == {k: v.hex() for k, v in theirs.items()}


def test_a_fitted_classifier_on_its_training_frame() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(500, 6))
    y = ((x @ rng.normal(size=6) + rng.normal(scale=0.5, size=500)) > 0).astype(int)
    estimator = LogisticRegression().fit(x, y)
    predicted, scores = estimator.predict(x), estimator.predict_proba(x)[:, 1]
    ours = binary_metrics(y, predicted, lambda: scores)
    assert ours == _sklearn(y, predicted, scores)


def test_what_it_cannot_do_exactly_is_left_to_scikit_learn() -> None:
    y = np.array([0, 1, 1, 0])
    assert binary_metrics(y.astype(float), y, None) is None  # float labels
    assert binary_metrics(np.array(["a", "b", "b", "a"]), y, None) is None
    assert binary_metrics(y, np.array([0, 2, 1, 0]), None) is None  # a third label predicted
    assert binary_metrics(np.array([0, 1, 2, 0]), y, None) is None  # multiclass
    assert binary_metrics(y, y, lambda: np.array([0.1, np.nan, 0.2, 0.3])) is None
    assert binary_metrics(y, y, None) == {"accuracy": 1.0, "balanced_accuracy": 1.0, "f1": 1.0}
