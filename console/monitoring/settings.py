"""The monitoring settings in force: the policy's [monitoring] table over signoff's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from console.errors import BadInput
from console.release.policy import DEFAULT_RETRAIN_TRIGGERS, WINDOW_PATTERN, Policy

# The values of console/release/default_policy.toml. A policy that omits a key gets this default, so
# deleting a line from the policy never silently disables a check.
DEFAULTS: dict[str, object] = {
    "window": "7d",
    "min_window_rows": 200,
    "max_psi": 0.25,
    "max_ks_statistic": 0.1,
    "max_ks_pvalue": 0.001,
    "max_prediction_psi": 0.25,
    "max_null_rate_increase": 0.05,
    "max_out_of_range_share": 0.05,
    "max_unseen_category_share": 0.01,
    "decay_tolerance": 0.05,
    "min_compare_rows": 200,
    "compare_alpha": 0.05,
    "max_model_age_days": 365.0,
    "retrain_triggers": list(DEFAULT_RETRAIN_TRIGGERS),
}

# Windows are aligned to this Monday, so the same window has the same bounds in every run.
WINDOW_ORIGIN = "2000-01-03 00:00:00"


@dataclass(frozen=True)
class Window:
    """A window length, e.g. 7d; `text` is how the user and the records spell it."""

    text: str
    hours: int

    @property
    def delta(self) -> timedelta:
        return timedelta(hours=self.hours)

    @property
    def sql_interval(self) -> str:
        return f"INTERVAL '{self.hours} hours'"


def parse_window(text: str) -> Window:
    """`12h`, `7d` or `2w` (at most 9999 units)."""
    match = WINDOW_PATTERN.fullmatch(text.strip())
    if match is None:
        raise BadInput(f"window {text!r} is not a length like 7d, 12h or 2w")
    count, unit = int(match.group(1)), match.group(2)
    hours = count * {"h": 1, "d": 24, "w": 24 * 7}[unit]
    return Window(f"{count}{unit}", hours)


@dataclass(frozen=True)
class MonitoringSettings:
    window: Window
    min_window_rows: int
    max_psi: float
    max_ks_statistic: float
    max_ks_pvalue: float
    max_prediction_psi: float
    max_null_rate_increase: float
    max_out_of_range_share: float
    max_unseen_category_share: float
    decay_tolerance: float
    min_compare_rows: int
    compare_alpha: float
    max_model_age_days: float
    retrain_triggers: tuple[str, ...]
    policy_sha256: str

    def thresholds(self) -> dict[str, float]:
        """The numeric thresholds, as recorded with each evaluation."""
        return {
            "min_window_rows": float(self.min_window_rows),
            "max_psi": self.max_psi,
            "max_ks_statistic": self.max_ks_statistic,
            "max_ks_pvalue": self.max_ks_pvalue,
            "max_prediction_psi": self.max_prediction_psi,
            "max_null_rate_increase": self.max_null_rate_increase,
            "max_out_of_range_share": self.max_out_of_range_share,
            "max_unseen_category_share": self.max_unseen_category_share,
            "decay_tolerance": self.decay_tolerance,
        }


def monitoring_settings(policy: Policy) -> MonitoringSettings:
    """Every setting monitoring uses, each from the policy when it sets it."""
    values = {**DEFAULTS, **policy.monitoring}

    def number(key: str) -> float:
        value = values[key]
        assert isinstance(value, int | float)
        return float(value)

    def count(key: str) -> int:
        value = values[key]
        assert isinstance(value, int)
        return value

    window = values["window"]
    triggers = values["retrain_triggers"]
    assert isinstance(window, str) and isinstance(triggers, list)
    return MonitoringSettings(
        window=parse_window(window),
        min_window_rows=count("min_window_rows"),
        max_psi=number("max_psi"),
        max_ks_statistic=number("max_ks_statistic"),
        max_ks_pvalue=number("max_ks_pvalue"),
        max_prediction_psi=number("max_prediction_psi"),
        max_null_rate_increase=number("max_null_rate_increase"),
        max_out_of_range_share=number("max_out_of_range_share"),
        max_unseen_category_share=number("max_unseen_category_share"),
        decay_tolerance=number("decay_tolerance"),
        min_compare_rows=count("min_compare_rows"),
        compare_alpha=number("compare_alpha"),
        max_model_age_days=number("max_model_age_days"),
        retrain_triggers=tuple(str(t) for t in triggers),
        policy_sha256=policy.digest,
    )
