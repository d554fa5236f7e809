"""The statistics of one feature in one window and the thresholds they cross, for drift.

The window's counts go through the validation suite's own statistics (console.validation.drift:
PSI on the profile's bins, the binned two-sample KS test), so a window and a validation run of
the same rows give the same PSI and KS.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from console.monitoring.logs import PREDICTION
from console.monitoring.settings import MonitoringSettings
from console.monitoring.windows import Crossing
from console.validation.drift import (
    binned_ks,
    category_bins,
    ks_pvalue,
    numeric_bins,
    psi,
    psi_noise,
)
from console.validation.reference import ColumnMeasure


def feature_statistics(measure: ColumnMeasure, rows_: int) -> dict[str, object]:
    """PSI, KS, null rate and range or unseen share of one feature in one window."""
    ref = measure.reference
    null_rate = measure.nulls / rows_ if rows_ else 0.0
    stats: dict[str, object] = {
        "kind": "numeric" if measure.numeric is not None else "categorical",
        "null_rate": null_rate,
        "null_rate_increase": null_rate - ref.null_rate,
    }
    if measure.numeric is not None:
        reference, actual = numeric_bins(measure)
        counts = measure.numeric
        ks = binned_ks(measure)
        statistic, n_ref, n = ks if ks is not None else (None, 0, 0)
        out_of_range = (
            (counts.below_edge[0] + counts.above_max) / counts.finite
            if counts.finite and ref.edges and counts.below_edge
            else 0.0
        )
        stats.update(
            {
                "psi": psi(reference, actual) if reference.size else None,
                "psi_noise": psi_noise(reference.size, int(reference.sum()), int(actual.sum())),
                "ks_statistic": statistic,
                "ks_pvalue": ks_pvalue(statistic, n_ref, n) if statistic is not None else None,
                "out_of_range_share": out_of_range,
                "shares": _shares(actual),
                "reference_shares": _shares(reference),
            }
        )
    else:
        names, reference, actual = category_bins(measure)
        categories = measure.categories
        assert categories is not None
        non_null = rows_ - measure.nulls
        stats.update(
            {
                "psi": psi(reference, actual),
                "psi_noise": psi_noise(reference.size, int(reference.sum()), int(actual.sum())),
                "unseen_share": (
                    categories.outside / non_null if non_null and not ref.other_count else None
                ),
                "categories": names,
                "shares": _shares(actual),
                "reference_shares": _shares(reference),
            }
        )
    return stats


def _shares(counts: NDArray[np.float64]) -> list[float]:
    total = float(counts.sum())
    return [float(c) / total if total else 0.0 for c in counts]


def _number(stats: dict[str, object], key: str) -> float | None:
    value = stats.get(key)
    return float(value) if isinstance(value, int | float) else None


def feature_crossings(
    name: str, stats: dict[str, object], settings: MonitoringSettings
) -> list[Crossing]:
    found: list[Crossing] = []
    value = _number(stats, "psi")
    noise = _number(stats, "psi_noise") or 0.0
    if value is not None and value > settings.max_psi and value > noise:
        found.append(Crossing("drift.psi", name, value, settings.max_psi, {"noise_99": noise}))
    statistic, p_value = _number(stats, "ks_statistic"), _number(stats, "ks_pvalue")
    if (
        statistic is not None
        and p_value is not None
        and statistic > settings.max_ks_statistic
        and p_value < settings.max_ks_pvalue
    ):
        found.append(
            Crossing(
                "drift.ks",
                name,
                statistic,
                settings.max_ks_statistic,
                {"p_value": p_value, "max_ks_pvalue": settings.max_ks_pvalue},
            )
        )
    increase = _number(stats, "null_rate_increase")
    if increase is not None and increase > settings.max_null_rate_increase:
        found.append(
            Crossing(
                "quality.null_rate",
                name,
                increase,
                settings.max_null_rate_increase,
                {"null_rate": stats.get("null_rate")},
            )
        )
    share = _number(stats, "out_of_range_share")
    if share is not None and share > settings.max_out_of_range_share:
        found.append(
            Crossing("quality.out_of_range", name, share, settings.max_out_of_range_share, {})
        )
    unseen = _number(stats, "unseen_share")
    if unseen is not None and unseen > settings.max_unseen_category_share:
        found.append(
            Crossing(
                "quality.unseen_category", name, unseen, settings.max_unseen_category_share, {}
            )
        )
    return found


def prediction_crossing(stats: dict[str, object], settings: MonitoringSettings) -> list[Crossing]:
    """drift.prediction: the predictions' PSI above max_prediction_psi and above sampling noise."""
    value, noise = _number(stats, "psi"), _number(stats, "psi_noise") or 0.0
    if value is None or value <= settings.max_prediction_psi or value <= noise:
        return []
    detail = {"shares": stats.get("shares"), "reference": stats.get("reference_shares")}
    return [Crossing("drift.prediction", PREDICTION, value, settings.max_prediction_psi, detail)]
