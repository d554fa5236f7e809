"""The metrics validation measures: their names, and for each which direction is better."""

from __future__ import annotations

# performance.<metric> checks, in the order a run records them.
CLASSIFICATION = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "brier_score",
)
REGRESSION = ("rmse", "mae", "r2", "mape")
# Binary scores (console.validation.credit), and the regressors' residual check.
CREDIT = (
    "gini",
    "ks_statistic",
    "calibration_slope",
    "calibration_intercept",
    "expected_calibration_error",
    "hosmer_lemeshow",
    "score_psi",
)
RESIDUAL = ("residual_bias",)
# Errors, losses and distances: a smaller value is a better model (calibration_intercept's
# value is the intercept's size).
LOWER_IS_BETTER = frozenset(
    {
        "rmse",
        "mae",
        "mape",
        "log_loss",
        "brier_score",
        "calibration_intercept",
        "expected_calibration_error",
        "score_psi",
        "residual_bias",
    }
)
# Metrics that are best at a value rather than high or low: a calibrated score has slope 1.
BEST_AT = {"calibration_slope": 1.0}
# Each parity check spreads one per-group rate; fairness.groups records it under this name.
PARITY_RATES = {"demographic_parity": "selection_rate", "equal_opportunity": "tpr"}


def metric_of(check_name: str) -> str:
    """`performance.roc_auc` -> `roc_auc`."""
    return check_name.rsplit(".", 1)[-1]


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of `metric` (or of the check measuring it) is better."""
    return metric_of(metric) in LOWER_IS_BETTER


def direction(metric: str) -> str:
    """How `metric` reads, in words: "higher is better", "lower is better" or "best at 1"."""
    name = metric_of(metric)
    if name in BEST_AT:
        return f"best at {BEST_AT[name]:g}"
    return "lower is better" if name in LOWER_IS_BETTER else "higher is better"


def improves(metric: str, delta: float) -> bool:
    """Whether moving `metric` by `delta` keeps it at least as good (no change counts as good)."""
    return delta <= 0 if lower_is_better(metric) else delta >= 0


def at_least_as_good(metric: str, value: float, other: float) -> bool:
    """Whether `value` of `metric` is at least as good as `other` (for every kind of metric)."""
    best = BEST_AT.get(metric_of(metric))
    if best is not None:
        return abs(value - best) <= abs(other - best)
    return improves(metric, value - other)
