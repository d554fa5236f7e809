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
    "calibration_slope_deviation",
    "calibration_intercept_deviation",
    "expected_calibration_error",
    "hosmer_lemeshow",
    "score_psi",
)
RESIDUAL = ("residual_bias",)
# Errors, losses and distances: a smaller value is a better model.
LOWER_IS_BETTER = frozenset(
    {
        "rmse",
        "mae",
        "mape",
        "log_loss",
        "brier_score",
        "calibration_slope_deviation",
        "calibration_intercept_deviation",
        "expected_calibration_error",
        "score_psi",
        "residual_bias",
    }
)
# Each parity check spreads one per-group rate; fairness.groups records it under this name.
PARITY_RATES = {"demographic_parity": "selection_rate", "equal_opportunity": "tpr"}


def metric_of(check_name: str) -> str:
    """`performance.roc_auc` -> `roc_auc`."""
    return check_name.rsplit(".", 1)[-1]


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of `metric` (or of the check measuring it) is better."""
    return metric_of(metric) in LOWER_IS_BETTER


def direction(metric: str) -> str:
    """How `metric` reads, in words."""
    return "lower is better" if lower_is_better(metric) else "higher is better"


def improves(metric: str, delta: float) -> bool:
    """Whether moving `metric` by `delta` keeps it at least as good (no change counts as good)."""
    return delta <= 0 if lower_is_better(metric) else delta >= 0
