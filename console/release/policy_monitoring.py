"""The policy's [monitoring] table checked strictly: drift, decay and retraining-trigger settings.

Split from `console/release/policy_parsing.py`, which parses the rest of the policy.
"""

from __future__ import annotations

import re
from typing import Any

# [monitoring]: production drift, performance decay and retraining triggers (console.monitoring).
MONITORING_NUMBER_KEYS = {
    "max_psi",
    "max_ks_statistic",
    "max_ks_pvalue",
    "max_prediction_psi",
    "max_null_rate_increase",
    "max_out_of_range_share",
    "max_unseen_category_share",
    "decay_tolerance",
    "max_model_age_days",
    "compare_alpha",
}
MONITORING_COUNT_KEYS = {"min_window_rows", "min_compare_rows"}
# Numbers that are not shares or probabilities (the rest lie in [0, 1]).
MONITORING_UNBOUNDED_KEYS = {"max_psi", "max_prediction_psi", "max_model_age_days"}
MONITORING_KEYS = MONITORING_NUMBER_KEYS | MONITORING_COUNT_KEYS | {"window", "retrain_triggers"}
RETRAIN_TRIGGERS = ("drift_alert", "decay_alert", "fairness_alert", "model_age")
# The default policy's triggers: a fairness gap opens a retraining job only when a policy says so.
DEFAULT_RETRAIN_TRIGGERS = ("drift_alert", "decay_alert", "model_age")
WINDOW_PATTERN = re.compile(r"([1-9][0-9]{0,3})([hdw])")


def parse_monitoring(table: Any, fail: Any) -> dict[str, object]:
    """[monitoring]: every key known, numbers >= 0 (shares and alpha <= 1), counts >= 1."""
    if not isinstance(table, dict):
        raise fail("[monitoring] must be a table", "monitoring")
    out: dict[str, object] = {}
    for key, value in table.items():
        if key not in MONITORING_KEYS:
            raise fail(
                f"unknown key {key!r} in [monitoring]; allowed: {', '.join(sorted(MONITORING_KEYS))}",
                key,
                "monitoring",
            )
        if key == "window":
            if not isinstance(value, str) or not WINDOW_PATTERN.fullmatch(value):
                raise fail('window must be a length like "7d", "12h" or "2w"', key, "monitoring")
            out[key] = value
        elif key == "retrain_triggers":
            if not isinstance(value, list) or any(t not in RETRAIN_TRIGGERS for t in value):
                raise fail(
                    f"retrain_triggers must be a list of {', '.join(RETRAIN_TRIGGERS)}",
                    key,
                    "monitoring",
                )
            out[key] = list(dict.fromkeys(value))
        elif key in MONITORING_COUNT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise fail(f"{key} must be a whole number >= 1", key, "monitoring")
            out[key] = value
        else:
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise fail(f"{key} must be a number >= 0", key, "monitoring")
            if key not in MONITORING_UNBOUNDED_KEYS and value > 1:
                raise fail(f"{key} is a share or probability: between 0 and 1", key, "monitoring")
            out[key] = float(value)
    return out
