"""The thresholds a run applies: the policy's [validation] table over signoff's defaults."""

from __future__ import annotations

from console.release.policy import Policy

# The values of console/release/default_policy.toml. A policy that omits a key gets this default rather
# than no check at all, so deleting a line from the policy never silently disables a check.
DEFAULTS: dict[str, float] = {
    "min_accuracy": 0.7,
    "min_roc_auc": 0.7,
    "min_r2": 0.3,
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
# PSI between 0.1 and max_psi is the conventional "moderate shift" band: a warning.
PSI_WARN = 0.1


def effective_thresholds(policy: Policy) -> dict[str, float]:
    """Every threshold the checks use, each from the policy when it sets it."""
    return {**DEFAULTS, **{k: v for k, v in policy.validation.items() if k in DEFAULTS}}
