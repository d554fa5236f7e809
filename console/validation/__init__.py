"""Validation suites: performance, data, drift, fairness, champion, reproducibility, robustness
and latency checks of one version on one dataset, recorded as a run with a signed event.

Check names (the `name` of each ValidationCheck row; gates and reports read them by name):

    performance.accuracy, .balanced_accuracy, .precision, .recall, .f1, .roc_auc,
        .log_loss, .brier_score, .confusion_matrix          (classifiers)
    performance.rmse, .mae, .r2, .mape                      (regressors)
    data.missing_columns, data.extra_columns, data.type_changes, data.null_rate,
        data.out_of_range, data.unseen_categories
    drift.psi.<feature>                                     (every feature)
    drift.ks.<feature>                                      (numeric features)
    fairness.groups, fairness.demographic_parity, fairness.equal_opportunity
                                                            (with a sensitive column)
    champion.not_worse
    reproducibility.predictions
    robustness.flip_rate (classifiers) or robustness.prediction_shift (regressors)
    latency.inference
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.lazy import lazy_exports

if TYPE_CHECKING:
    from console.validation.checks import CATEGORIES, Check, run_status
    from console.validation.dataset import count_rows
    from console.validation.service import Progress, run_validation
    from console.validation.thresholds import DEFAULTS as DEFAULT_THRESHOLDS

__getattr__ = lazy_exports(
    __name__,
    {
        "CATEGORIES": "console.validation.checks",
        "Check": "console.validation.checks",
        "run_status": "console.validation.checks",
        "count_rows": "console.validation.dataset",
        "Progress": "console.validation.service",
        "run_validation": "console.validation.service",
        "DEFAULT_THRESHOLDS": "console.validation.thresholds:DEFAULTS",
    },
)

__all__ = [
    "CATEGORIES",
    "DEFAULT_THRESHOLDS",
    "Check",
    "Progress",
    "count_rows",
    "run_status",
    "run_validation",
]
