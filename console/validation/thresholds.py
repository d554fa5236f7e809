"""The thresholds a run applies: the policy's [validation] table over signoff's defaults."""

from __future__ import annotations

from console.release.policy import Policy

# The values of console/release/default_policy.toml (which explains each). A policy that omits a
# key gets this default rather than no check at all, so deleting a line from the policy never
# silently disables a check.
DEFAULTS: dict[str, float] = {
    "min_accuracy": 0.7,
    "min_balanced_accuracy": 0.6,
    "imbalanced_class_share": 0.3,
    "decision_threshold": 0.5,
    "min_roc_auc": 0.7,
    "min_gini": 0.4,
    "min_ks_statistic": 0.2,
    "max_calibration_slope_deviation": 0.5,
    "max_calibration_intercept_deviation": 1.0,
    "max_expected_calibration_error": 0.05,
    "max_score_psi": 0.25,
    "min_r2": 0.3,
    "max_residual_bias": 0.1,
    "max_psi": 0.25,
    "max_ks_pvalue_fail": 0.001,
    "max_demographic_parity_difference": 0.1,
    "max_equal_opportunity_difference": 0.1,
    "max_null_rate_increase": 0.05,
    "max_out_of_range_share": 0.05,
    "max_unseen_category_share": 0.01,
    "max_robustness_flip_rate": 0.05,
    "max_latency_p95_ms_per_row": 1.0,
}
# Gated only when the policy sets them: MAE is in the target's own units, and Hosmer-Lemeshow
# rejects nearly every model on a large sample.
OPTIONAL = frozenset({"max_mae", "min_hosmer_lemeshow_pvalue"})
# PSI between 0.1 and max_psi is the conventional "moderate shift" band: a warning.
PSI_WARN = 0.1


def effective_thresholds(
    policy: Policy, decision_threshold: float | None = None
) -> dict[str, float]:
    """Every threshold the checks use, each from the policy when it sets it; a decision
    threshold given for this run (`--threshold`) overrides the policy's."""
    known = DEFAULTS.keys() | OPTIONAL
    found = {**DEFAULTS, **{k: v for k, v in policy.validation.items() if k in known}}
    if decision_threshold is not None:
        found["decision_threshold"] = decision_threshold
    return found
