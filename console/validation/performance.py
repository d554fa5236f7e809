"""Performance metrics as sklearn.metrics defines them, each with a bootstrap 95% interval.

The threshold metrics (accuracy, balanced accuracy, precision, recall, F1) and the confusion
matrix are read from one count of (true, predicted) pairs with scikit-learn's formulas, and a
binary ROC AUC from one ranking of the scores (bootstrap.ranked_auc), log loss and a binary
Brier score as the means of their per-row terms: the values scikit-learn gives, without its
per-call label scans of every row. Multiclass AUC and Brier score are scikit-learn's own. The intervals come from the same quantities recomputed, vectorised, on the
run's bootstrap resamples (console.validation.bootstrap).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from console.validation.bootstrap import (
    BootstrapPlan,
    Floats,
    Indices,
    Statistic,
    auc_of,
    confusion_counts,
    mean_of,
    r2_of,
    ranked_auc,
)
from console.validation.checks import Check, at_least, at_most, finite
from console.validation.details import ConfusionMatrix, MetricEstimate
from console.validation.metrics import CLASSIFICATION, REGRESSION
from console.validation.prediction import Predictions

PROBA_EPS = float(np.finfo(np.float64).eps)


def codes(values: NDArray[Any], classes: list[Any]) -> Indices:
    """Class positions of labels (all known: dataset.check_target refuses others)."""
    import pandas as pd

    return np.asarray(pd.Index(classes).get_indexer(values), dtype=np.intp)


def positive_scores(predictions: Predictions) -> Floats | None:
    """A binary classifier's score for the second class (probability or decision value)."""
    if predictions.proba is not None and predictions.proba.shape[1] == 2:
        return predictions.proba[:, 1]
    return predictions.scores


class RocAuc:
    """A binary classifier's ROC AUC on all rows and on each of the plan's resamples.

    The draws are computed once, when first read, or by classification_checks in the same pass
    over the resamples as its other statistics (the plan's seeded resamples make them equal).
    """

    def __init__(self, value: float, statistic: Statistic, plan: BootstrapPlan) -> None:
        self.value, self.statistic, self.plan = value, statistic, plan
        self._draws: Floats | None = None

    @property
    def draws(self) -> Floats:
        if self._draws is None:
            self._draws = self.plan.run({"roc_auc": self.statistic})["roc_auc"]
        return self._draws

    def pending(self, plan: BootstrapPlan) -> bool:
        """True when the draws are still to be computed, on `plan`'s resamples."""
        return self._draws is None and plan == self.plan

    def settle(self, draws: Floats | None) -> Floats:
        """The draws, taking those computed with another run's statistics when still pending."""
        if self._draws is None and draws is not None:
            self._draws = draws
        return self.draws


def binary_roc_auc(
    positive: NDArray[np.bool_], score: Floats, plan: BootstrapPlan
) -> RocAuc | None:
    """ROC AUC (sklearn's, bootstrap.ranked_auc) and its bootstrap draws, or None when a class
    is missing.

    Computed once per run: performance.roc_auc and performance.gini (2 AUC - 1) read the same
    numbers, which the plan's seeded resamples make what each would have computed alone.
    """
    if positive.all() or not positive.any():
        return None
    value, statistic = ranked_auc(positive, score)
    return RocAuc(value, statistic, plan)


def _confusion_metric(kind: str, k: int, cm: Floats) -> Floats:
    """accuracy, balanced_accuracy, precision, recall or f1 of each (k, k) matrix in `cm`
    (rows true, columns predicted), with sklearn's formulas: zero_division=0, macro averages
    over the k classes, balanced accuracy over the classes present."""
    diag = np.diagonal(cm, axis1=1, axis2=2)
    actual, predicted = cm.sum(axis=2), cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "accuracy":
            return np.asarray(diag.sum(axis=1) / cm.sum(axis=(1, 2)), dtype=np.float64)
        recall = np.where(actual > 0, diag / actual, np.nan)
        if kind == "balanced_accuracy":
            return np.asarray(np.nanmean(recall, axis=1), dtype=np.float64)
        precision = np.where(predicted > 0, diag / predicted, 0.0)
        recall = np.nan_to_num(recall, nan=0.0)
        f1 = np.where(actual + predicted > 0, 2 * diag / (actual + predicted), 0.0)
        per_class = {"precision": precision, "recall": recall, "f1": f1}[kind]
        if k == 2:
            return np.asarray(per_class[:, 1], dtype=np.float64)
        return np.asarray(per_class.mean(axis=1), dtype=np.float64)


def _from_confusion(kind: str, k: int, counts: Callable[[Indices], Floats]) -> Statistic:
    """accuracy, balanced_accuracy, precision, recall or f1 from resampled confusion matrices."""
    return lambda index: _confusion_metric(kind, k, counts(index))


def classification_checks(
    y: NDArray[Any],
    predictions: Predictions,
    classes: list[Any],
    plan: BootstrapPlan,
    thresholds: dict[str, float],
    roc_auc: RocAuc | None = None,
) -> list[Check]:
    """performance.{accuracy, balanced_accuracy, precision, recall, f1, roc_auc, log_loss,
    brier_score, confusion_matrix}; a binary classifier's `roc_auc` (binary_roc_auc) is used
    as given."""
    from sklearn import metrics as skm

    k = len(classes)
    binary = k == 2
    labels = np.asarray(classes)
    true, pred = codes(y, classes), codes(predictions.predicted, classes)
    averaging: dict[str, Any] = (
        {"pos_label": classes[1], "average": "binary"} if binary else {"average": "macro"}
    )
    values: dict[str, float | None] = {}
    statistics: dict[str, Statistic] = {}
    reasons: dict[str, str] = {}
    counts = confusion_counts(true, np.maximum(pred, 0), k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if (pred >= 0).all():  # every prediction is a class: one count gives every value
            matrix = np.bincount(true * k + pred, minlength=k * k).reshape(k, k)
            for name in ("accuracy", "balanced_accuracy", "precision", "recall", "f1"):
                values[name] = float(_confusion_metric(name, k, matrix[None].astype(float))[0])
        else:  # a label outside the classes: scikit-learn's own handling
            _sklearn_threshold_metrics(y, predictions.predicted, labels, averaging, values)
            matrix = skm.confusion_matrix(y, predictions.predicted, labels=labels)
        for name in ("accuracy", "balanced_accuracy", "precision", "recall", "f1"):
            statistics[name] = _from_confusion(name, k, counts)
        _probabilistic(y, true, labels, predictions, values, statistics, reasons, roc_auc)
    shared = roc_auc is not None and "roc_auc" in values and "roc_auc" not in statistics
    if shared and roc_auc is not None and roc_auc.pending(plan):
        statistics["roc_auc"] = roc_auc.statistic  # one pass over the resamples for all
    draws = plan.run(statistics)
    if shared and roc_auc is not None:
        draws["roc_auc"] = roc_auc.settle(draws.get("roc_auc"))
    checks: list[Check] = []
    bounds = _classification_bounds(true, k, thresholds)
    for name in CLASSIFICATION:
        value = finite(values.get(name))
        detail = _estimate(plan, value, draws.get(name), reasons.get(name))
        if name == "accuracy" and bounds["accuracy"] is None:
            detail = replace(detail, note=f"{detail.note}; not gated: {_imbalance(true, k)}")
        if name in ("precision", "recall", "f1"):
            detail = replace(
                detail,
                average="binary" if binary else "macro",
                positive_label=classes[1] if binary else None,
            )
        checks.append(
            at_least(f"performance.{name}", "performance", value, bounds.get(name), detail)
        )
    checks.append(
        Check(
            "performance.confusion_matrix",
            "performance",
            "info",
            None,
            None,
            ConfusionMatrix(
                labels=list(classes),
                matrix=matrix.tolist(),
                note="rows true, columns predicted: " + str(matrix.tolist())[:80],
            ),
        )
    )
    return checks


def _sklearn_threshold_metrics(
    y: NDArray[Any],
    predicted: NDArray[Any],
    labels: NDArray[Any],
    averaging: dict[str, Any],
    values: dict[str, float | None],
) -> None:
    from sklearn import metrics as skm

    values["accuracy"] = skm.accuracy_score(y, predicted)
    values["balanced_accuracy"] = skm.balanced_accuracy_score(y, predicted)
    for name, metric in (
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ):
        values[name] = metric(y, predicted, labels=labels, zero_division=0, **averaging)


def _rarest_share(true: Indices, k: int) -> float:
    return float(np.bincount(true, minlength=k).min() / max(true.size, 1))


def _imbalance(true: Indices, k: int) -> str:
    return f"the rarest class is {_rarest_share(true, k):.1%} of rows; balanced accuracy gates"


def _classification_bounds(
    true: Indices, k: int, thresholds: dict[str, float]
) -> dict[str, float | None]:
    """The gated metrics: accuracy, or balanced accuracy when a class is rare (accuracy rewards
    predicting the majority: recall 0.07 on a 16.6% base rate still scores 0.83)."""
    imbalanced = _rarest_share(true, k) < thresholds["imbalanced_class_share"]
    return {
        "accuracy": None if imbalanced else thresholds["min_accuracy"],
        "balanced_accuracy": thresholds["min_balanced_accuracy"] if imbalanced else None,
        "roc_auc": thresholds["min_roc_auc"],
    }


def _probabilistic(
    y: NDArray[Any],
    true: Indices,
    labels: NDArray[Any],
    predictions: Predictions,
    values: dict[str, float | None],
    statistics: dict[str, Statistic],
    reasons: dict[str, str],
    roc_auc: RocAuc | None,
) -> None:
    """roc_auc, log_loss and brier_score, where the estimator gives scores or probabilities."""
    from sklearn import metrics as skm

    k = len(labels)
    present = np.unique(true)
    proba = predictions.proba
    scores = positive_scores(predictions)
    if present.size < 2:
        reasons["roc_auc"] = "the data holds a single class; ROC AUC needs two"
    elif k == 2 and roc_auc is not None:
        values["roc_auc"] = roc_auc.value
    elif k == 2 and scores is not None:
        values["roc_auc"], statistics["roc_auc"] = ranked_auc(true == 1, scores)
    elif k > 2 and proba is not None and present.size == k:
        values["roc_auc"] = skm.roc_auc_score(y, proba, multi_class="ovr", labels=labels)
        per_class = [auc_of(true == j, proba[:, j]) for j in range(k)]
        statistics["roc_auc"] = lambda index: np.mean([s(index) for s in per_class], axis=0)
    elif k > 2 and proba is not None:
        reasons["roc_auc"] = "some classes are absent from the data; one-vs-rest AUC needs all"
    else:
        reasons["roc_auc"] = "the estimator gives no scores (no predict_proba)"
    if proba is None:
        reasons["log_loss"] = reasons["brier_score"] = "the estimator has no predict_proba"
        return
    clipped = np.clip(proba / proba.sum(axis=1, keepdims=True), PROBA_EPS, 1.0)
    rows = np.arange(true.size)
    # sklearn's log loss: the mean of -log(probability of the true class), clipped to
    # [eps, 1 - eps]; and its binary Brier score, the mean of (p - outcome)^2.
    own = proba[rows, true]
    values["log_loss"] = float(np.mean(-np.log(np.clip(own, PROBA_EPS, 1.0 - PROBA_EPS))))
    statistics["log_loss"] = mean_of(-np.log(clipped[rows, true]))
    onehot = np.zeros_like(proba)
    onehot[rows, true] = 1.0
    if k == 2:
        squared = (proba[:, 1] - onehot[:, 1]) ** 2
        values["brier_score"] = float(np.mean(squared))
        statistics["brier_score"] = mean_of(squared)
    else:
        per_row = ((proba - onehot) ** 2).sum(axis=1)
        try:  # scikit-learn >= 1.7 scores multiclass Brier itself
            values["brier_score"] = skm.brier_score_loss(y, proba, labels=labels)
        except (TypeError, ValueError):
            values["brier_score"] = float(per_row.mean())
        statistics["brier_score"] = mean_of(per_row)


def regression_checks(
    y: Floats, predicted: Floats, plan: BootstrapPlan, thresholds: dict[str, float]
) -> list[Check]:
    """performance.{rmse, mae, r2, mape}."""
    from sklearn import metrics as skm

    error = y - predicted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values: dict[str, float | None] = {
            "rmse": float(np.sqrt(skm.mean_squared_error(y, predicted))),
            "mae": skm.mean_absolute_error(y, predicted),
            "r2": skm.r2_score(y, predicted) if y.size > 1 else None,
            "mape": skm.mean_absolute_percentage_error(y, predicted),
        }
    squared = mean_of(error**2)
    statistics: dict[str, Statistic] = {
        "rmse": lambda index: np.sqrt(squared(index)),
        "mae": mean_of(np.abs(error)),
        "r2": r2_of(y, predicted),
        "mape": mean_of(np.abs(error) / np.maximum(np.abs(y), PROBA_EPS)),
    }
    draws = plan.run(statistics)
    checks = [
        at_least(
            f"performance.{name}",
            "performance",
            finite(values[name]),
            thresholds["min_r2"] if name == "r2" else None,
            _estimate(plan, finite(values[name]), draws[name], None),
        )
        for name in REGRESSION
    ]
    mae = REGRESSION.index("mae")
    if thresholds.get("max_mae") is not None:  # in the target's units: only a policy can set it
        found = checks[mae]
        checks[mae] = at_most(
            found.name, "performance", found.value, thresholds["max_mae"], found.detail
        )
    return checks


def _estimate(
    plan: BootstrapPlan, value: float | None, draws: Floats | None, reason: str | None
) -> MetricEstimate:
    if value is None:
        return MetricEstimate(note=reason or "not defined on this data")
    interval = plan.interval(value, draws) if draws is not None else None
    if interval is None:
        return MetricEstimate(note=f"{value:.4f}")
    return MetricEstimate(
        interval=interval, note=f"95% CI {interval.low:.4f} to {interval.high:.4f}"
    )
