"""Per-group outcomes for a sensitive attribute, and the parity differences the policy bounds.

For a binary classifier the positive class is the second of `classes_` (1: the event the model
flags, e.g. a default). Demographic parity difference is the largest minus the smallest selection
rate (share predicted positive) across groups; equal opportunity difference the same for the true
positive rate. A multiclass model is read one class against the rest, keeping the worst class.
Groups with fewer than MIN_GROUP_ROWS rows are reported but not compared: their rates are noise.
Regressors get per-group error and mean prediction, with no parity bound.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from console.release.policy_rules import FairnessBound
from console.validation.bootstrap import BootstrapPlan, Floats, Indices
from console.validation.checks import INFO, Check, at_most
from console.validation.details import FairnessGap, GroupOutcome, GroupResults
from console.validation.metrics import PARITY_RATES

MIN_GROUP_ROWS = 30
# metric -> (policy key, which rate it spreads, the per-group field that holds that rate)
METRICS = {
    "demographic_parity": (
        "max_demographic_parity_difference",
        0,
        PARITY_RATES["demographic_parity"],
    ),
    "equal_opportunity": ("max_equal_opportunity_difference", 1, PARITY_RATES["equal_opportunity"]),
}


def _rates(
    group: Indices, n_groups: int, selected: Floats, positive: Floats, index: Indices
) -> tuple[Floats, Floats]:
    """Per resample (row of `index`) and group: selection rate and true positive rate."""
    c = index.shape[0]
    slots = (group[index] + (np.arange(c, dtype=np.intp) * n_groups)[:, None]).ravel()
    size = c * n_groups

    def tally(weights: Floats | None) -> Floats:
        w = None if weights is None else weights[index].ravel()
        return np.bincount(slots, weights=w, minlength=size).reshape(c, n_groups).astype(float)

    rows, chosen = tally(None), tally(selected)
    actual, hits = tally(positive), tally(selected * positive)
    with np.errstate(invalid="ignore", divide="ignore"):
        return chosen / rows, hits / actual


def _spread(rates: Floats, eligible: NDArray[np.bool_]) -> Floats:
    """max - min over the eligible groups, per resample (NaN where fewer than two are defined)."""
    kept = rates[:, eligible]
    if kept.shape[1] == 0:
        return np.full(rates.shape[0], np.nan)
    defined = np.isfinite(kept).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows are handled below
        spread = np.nanmax(kept, axis=1) - np.nanmin(kept, axis=1)
    return np.asarray(np.where(defined >= 2, spread, np.nan), dtype=np.float64)


def _optional(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def classification_fairness(
    true: Indices,
    pred: Indices,
    groups: pd.Series,
    classes: list[Any],
    plan: BootstrapPlan,
    thresholds: dict[str, float],
    column: str,
    name_suffix: str = "",
    bound: FairnessBound | None = None,
) -> list[Check]:
    """fairness.groups, fairness.demographic_parity and fairness.equal_opportunity (each with
    `name_suffix`, `.<column>`, when a run compares groups of several attributes). A policy's
    `bound` for this attribute replaces [validation]'s limits it sets, and its reason is kept."""
    labels, inverse = np.unique(groups.to_numpy(dtype=str), return_inverse=True)
    group = np.asarray(inverse, dtype=np.intp)
    n_groups = labels.size
    sizes = np.bincount(group, minlength=n_groups)
    eligible = sizes >= MIN_GROUP_ROWS
    binary = len(classes) == 2
    everyone = np.arange(true.size, dtype=np.intp)[None, :]
    correct = (true == pred).astype(np.float64)
    per_group: dict[str, dict[str, Any]] = {
        str(label): {
            "count": int(sizes[g]),
            "accuracy": float(correct[group == g].mean()),
            "compared": bool(eligible[g]),
        }
        for g, label in enumerate(labels)
    }
    # (spread, class) for every class read against the rest; binary models have one.
    spreads: dict[str, list[tuple[float, int]]] = {m: [] for m in METRICS}
    for j in [1] if binary else range(len(classes)):
        selected, positive = (pred == j).astype(np.float64), (true == j).astype(np.float64)
        selection, tpr = (r[0] for r in _rates(group, n_groups, selected, positive, everyone))
        negatives = np.bincount(group, weights=1.0 - positive, minlength=n_groups)
        false_pos = np.bincount(group, weights=selected * (1.0 - positive), minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            fpr = false_pos / negatives
        suffix = "" if binary else f"[{classes[j]}]"
        for g, label in enumerate(labels):
            per_group[str(label)].update(
                {
                    f"selection_rate{suffix}": float(selection[g]),
                    f"tpr{suffix}": _optional(tpr[g]),
                    f"fpr{suffix}": _optional(fpr[g]),
                    f"positives{suffix}": int(positive[group == g].sum()),
                }
            )
        for metric, rates in (("demographic_parity", selection), ("equal_opportunity", tpr)):
            spreads[metric].append((float(_spread(rates[None, :], eligible)[0]), j))

    checks = [
        Check(
            f"fairness.groups{name_suffix}",
            "fairness",
            INFO,
            float(n_groups),
            None,
            GroupResults(
                column=column,
                groups=_outcomes(per_group),
                positive_label=classes[1] if binary else None,
                min_group_rows=MIN_GROUP_ROWS,
                note="; ".join(
                    f"{g} n={d['count']}"
                    + (f" selected {d['selection_rate']:.3f}" if binary else "")
                    for g, d in list(per_group.items())[:6]
                ),
            ),
        )
    ]
    for metric, (limit_key, pick, field) in METRICS.items():
        own = bound.limit(limit_key) if bound is not None else None
        # Recorded only when the attribute's own bound applied; else [validation]'s did.
        section = bound.section if bound is not None and own is not None else None
        reason = bound.reason if bound is not None and own is not None else None
        defined = [(v, j) for v, j in spreads[metric] if np.isfinite(v)]
        detail = FairnessGap(
            column=column,
            note=f"fewer than two groups with {MIN_GROUP_ROWS}+ rows to compare",
            bound_source=section,
            bound_reason=reason,
        )
        value: float | None = None
        if defined:
            value, j = max(defined)
            selected, positive = (pred == j).astype(np.float64), (true == j).astype(np.float64)

            def statistic(
                index: Indices, s: Floats = selected, p: Floats = positive, k: int = pick
            ) -> Floats:
                return _spread(_rates(group, n_groups, s, p, index)[k], eligible)

            interval = plan.interval(value, plan.run({metric: statistic})[metric])
            key = field + ("" if binary else f"[{classes[j]}]")
            rates = {g: d.get(key) for g, d in per_group.items() if d["compared"]}
            detail = FairnessGap(
                column=column,
                interval=interval,
                rates=rates,
                class_label=classes[j],
                bound_source=section,
                bound_reason=reason,
                note=", ".join(f"{g} {r:.3f}" for g, r in rates.items() if isinstance(r, float))[
                    :100
                ],
            )
        checks.append(
            at_most(
                f"fairness.{metric}{name_suffix}",
                "fairness",
                value,
                thresholds[limit_key] if own is None else own,
                detail,
            )
        )
    return checks


def regression_fairness(
    y: Floats, predicted: Floats, groups: pd.Series, column: str, name_suffix: str = ""
) -> list[Check]:
    """fairness.groups for a regressor: count, mean target and prediction, MAE, RMSE per group."""
    per_group: dict[str, dict[str, Any]] = {}
    for label in sorted(groups.unique()):
        rows = (groups == label).to_numpy()
        error = y[rows] - predicted[rows]
        per_group[str(label)] = {
            "count": int(rows.sum()),
            "mean_target": float(y[rows].mean()),
            "mean_prediction": float(predicted[rows].mean()),
            "mae": float(np.abs(error).mean()),
            "rmse": float(np.sqrt((error**2).mean())),
            "compared": bool(rows.sum() >= MIN_GROUP_ROWS),
        }
    maes = [float(d["mae"]) for d in per_group.values() if d["compared"]]
    gap = max(maes) - min(maes) if len(maes) >= 2 else None
    return [
        Check(
            f"fairness.groups{name_suffix}",
            "fairness",
            INFO,
            gap,
            None,
            GroupResults(
                column=column,
                groups=_outcomes(per_group),
                value_is="largest minus smallest MAE across compared groups",
                min_group_rows=MIN_GROUP_ROWS,
                note="; ".join(
                    f"{g} n={d['count']} mae {d['mae']:.2f}" for g, d in list(per_group.items())[:6]
                ),
            ),
        )
    ]


def _outcomes(per_group: dict[str, dict[str, Any]]) -> dict[str, GroupOutcome]:
    """The per-group tallies above as typed outcomes (every other field is a rate or error)."""
    return {
        group: GroupOutcome(
            int(values["count"]),
            bool(values["compared"]),
            {k: v for k, v in values.items() if k not in ("count", "compared")},
        )
        for group, values in per_group.items()
    }
