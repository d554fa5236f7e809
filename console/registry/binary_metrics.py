"""A binary classifier's headline metrics as scikit-learn computes them, without its per-call checks.

On a small training frame scikit-learn's metrics spend most of their time validating their
arguments (a few milliseconds each, for four of them per registration). Here the same
arithmetic runs once on the confusion counts and the ROC points, for integer or boolean labels
and finite scores only; anything else returns None and the caller asks scikit-learn.
`tests/test_binary_metrics.py` checks that the figures are the very floats scikit-learn gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def binary_metrics(
    y: Any, predicted: Any, scores: Callable[[], Any] | None
) -> dict[str, float] | None:
    """accuracy, balanced_accuracy, f1 (of the larger label) and, given `scores` (the larger
    label's probabilities, asked only here), roc_auc; None where this cannot be exact."""
    y, predicted = np.asarray(y), np.asarray(predicted)
    if y.ndim != 1 or predicted.shape != y.shape or y.dtype.kind not in "biu":
        return None
    if predicted.dtype.kind not in "biu":
        return None
    labels = np.unique(y)
    if len(labels) != 2 or not np.isin(predicted, labels).all():
        return None
    positive, called = y == labels[1], predicted == labels[1]
    tp = int(np.count_nonzero(positive & called))
    fn = int(np.count_nonzero(positive & ~called))
    fp = int(np.count_nonzero(~positive & called))
    tn = len(y) - tp - fn - fp
    # accuracy_score: the mean of the matches; balanced_accuracy_score: the mean of the
    # confusion matrix's diagonal over its rows; f1: 2 tp / (true + predicted positives).
    result = {
        "accuracy": float(np.average(y == predicted)),
        "balanced_accuracy": float(np.mean(np.array([tn, tp]) / np.array([tn + fp, tp + fn]))),
        "f1": float(2.0 * tp / (1.0 * float(tp + fn) + float(tp + fp))),
    }
    if scores is not None:
        auc = _roc_auc(positive, np.asarray(scores()))
        if auc is None:
            return None
        result["roc_auc"] = auc
    return result


def _roc_auc(positive: Any, scores: Any) -> float | None:
    """roc_auc_score's trapezoid over roc_curve's points (intermediate collinear ones dropped)."""
    from scipy.integrate import trapezoid

    if scores.shape != positive.shape or scores.dtype.kind != "f" or not np.isfinite(scores).all():
        return None
    order = np.argsort(scores, kind="stable")[::-1]  # descending; ties are summed as one step
    ranked, truth = scores[order], positive[order].astype(np.float64)
    ends = np.concatenate([np.nonzero(np.diff(ranked))[0], [len(ranked) - 1]])
    tps = np.cumsum(truth, dtype=np.float64)[ends]
    fps = 1 + ends.astype(np.float64) - tps
    if len(fps) > 2:
        corners = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.nonzero(np.concatenate([[True], corners, [True]]))[0]
        fps, tps = fps[keep], tps[keep]
    fps = np.concatenate([[0.0], fps])
    tps = np.concatenate([[0.0], tps])
    return float(trapezoid(tps / tps[-1], fps / fps[-1]))
