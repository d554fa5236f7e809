"""How much predictions move under small Gaussian noise on the numeric features (fixed seed).

Each numeric feature gets noise with a standard deviation of NOISE_SCALE times its training
standard deviation (from the profile; the data's own when the profile has none). Classifiers
report the share of predicted labels that change; regressors the mean absolute change relative
to the spread of the predictions. At most MAX_ROWS rows (a seeded sample) are perturbed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from console.validation.checks import Check, at_most
from console.validation.prediction import Predictions, predict
from console.validation.reference import ProfiledColumn
from console.validation.run_details import Perturbation

NOISE_SCALE = 0.01
MAX_ROWS = 100_000
SEED = 7_340_033


def robustness_check(
    estimator: Any,
    frame: pd.DataFrame,
    features: list[str],
    reference: dict[str, ProfiledColumn],
    base: Predictions,
    task: str,
    thresholds: dict[str, float],
    *,
    source: str,
    data_name: str,
) -> Check:
    """robustness.flip_rate (classifiers) or robustness.prediction_shift (regressors)."""
    rng = np.random.default_rng(SEED)
    rows = len(frame)
    picked = np.sort(rng.choice(rows, size=MAX_ROWS, replace=False)) if rows > MAX_ROWS else None
    sample = frame.iloc[picked] if picked is not None else frame
    noisy = sample[features].copy()
    perturbed: list[str] = []
    for name in features:
        column = noisy[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        profiled = reference.get(name)
        spread = profiled.std if profiled is not None and profiled.std else None
        if spread is None:
            spread = float(column.std()) if column.notna().sum() > 1 else 0.0
        if not spread or not np.isfinite(spread):
            continue
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        noisy[name] = values + rng.normal(0.0, NOISE_SCALE * spread, size=values.size)
        perturbed.append(name)
    before = base.predicted if picked is None else base.predicted[picked]
    detail = Perturbation(
        noise=f"gaussian, sd = {NOISE_SCALE:g} x training sd",
        features=perturbed,
        rows=len(sample),
        seed=SEED,
    )
    after = predict(
        estimator, noisy, features, source=source, data_name=data_name, with_proba=False
    )
    if task == "regression":
        a = np.asarray(before, dtype=np.float64)
        b = np.asarray(after.predicted, dtype=np.float64)
        scale = float(a.std()) or 1.0
        shift = float(np.abs(b - a).mean()) / scale
        detail = replace(detail, note=f"mean |change| = {shift:.4f} x prediction sd")
        return Check("robustness.prediction_shift", "robustness", "info", shift, None, detail)
    flips = float(np.mean(np.asarray(after.predicted) != np.asarray(before)))
    detail = replace(detail, note=f"{flips:.2%} of labels changed")
    return at_most(
        "robustness.flip_rate", "robustness", flips, thresholds["max_robustness_flip_rate"], detail
    )
