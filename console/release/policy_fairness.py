"""Per-attribute fairness bounds (`[validation.fairness.ATTR]`): a wider bound needs a reason."""

from __future__ import annotations

import unicodedata
from typing import Any

from console.release.policy_rules import FairnessBound

# The [validation] keys an attribute may override; `reason` says why it differs.
FAIRNESS_BOUND_KEYS = ("max_demographic_parity_difference", "max_equal_opportunity_difference")


def parse_fairness_bounds(table: Any, fail: Any) -> tuple[FairnessBound, ...]:
    """Each `[validation.fairness.ATTR]`: known keys, bounds in [0, 1], a non-empty reason."""
    if not isinstance(table, dict):
        raise fail("[validation.fairness.ATTRIBUTE] tables expected", "fairness", "validation")
    bounds: list[FairnessBound] = []
    keys = ", ".join(FAIRNESS_BOUND_KEYS)
    allowed = f"{keys}, reason"
    for attribute, body in table.items():
        section = f"validation.fairness.{attribute}"
        if not _is_column_name(attribute):
            raise fail(
                f"[{section}]: the attribute must be a column name, trimmed, without control "
                "characters",
                section,
            )
        if not isinstance(body, dict):
            raise fail(f"[{section}] must be a table of bounds and their reason", section)
        limits: list[tuple[str, float]] = []
        for key, value in body.items():
            if key == "reason":
                continue
            if key not in FAIRNESS_BOUND_KEYS:
                raise fail(f"unknown key {key!r} in [{section}]; allowed: {allowed}", key, section)
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not 0.0 <= value <= 1.0
            ):
                raise fail(
                    f"{key} is a difference of rates: a number between 0 and 1", key, section
                )
            limits.append((key, float(value)))
        if not limits:
            raise fail(f"[{section}] sets no bound; give one of {keys}", section)
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise fail(
                f'[{section}] needs reason = "..." saying why {attribute} has its own bound',
                section,
            )
        bounds.append(FairnessBound(attribute, tuple(limits), reason.strip()))
    return tuple(bounds)


def _is_column_name(name: str) -> bool:
    return (
        bool(name.strip())
        and name == name.strip()
        and not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name)
    )
