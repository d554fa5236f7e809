"""One check's outcome, and how outcomes combine into the status of a validation run."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from console.validation.check_detail import CheckDetail

PASS, WARN, FAIL, INFO = "pass", "warn", "fail", "info"
STATUSES = (PASS, WARN, FAIL, INFO)
# Categories in the order reports list them.
CATEGORIES = (
    "performance",
    "data",
    "drift",
    "fairness",
    "champion",
    "reproducibility",
    "robustness",
    "latency",
)


@dataclass(frozen=True)
class Check:
    """A named check (`performance.accuracy`): status, measured value, threshold and detail.

    `detail.note` is one short human line (an interval, the worst column, a reason); a
    thresholded check also says in `detail.rule` whether the value must be `>=` or `<=` it.
    The detail's type depends on the check (console.validation.details).
    """

    name: str
    category: str
    status: str
    value: float | None = None
    threshold: float | None = None
    detail: CheckDetail = field(default_factory=CheckDetail)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown check status {self.status!r}")
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown check category {self.category!r}")

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "category": self.category,
            "status": self.status,
            "value": finite(self.value),
            "threshold": finite(self.threshold),
            "detail": plain(self.detail.to_json()),
        }


def at_least(
    name: str,
    category: str,
    value: float | None,
    threshold: float | None,
    detail: CheckDetail,
) -> Check:
    """Fails when `value < threshold`; info when there is no threshold; warn when no value."""
    return _bounded(name, category, value, threshold, detail, ">=")


def at_most(
    name: str,
    category: str,
    value: float | None,
    threshold: float | None,
    detail: CheckDetail,
) -> Check:
    """Fails when `value > threshold`; info when there is no threshold; warn when no value."""
    return _bounded(name, category, value, threshold, detail, "<=")


def _bounded(
    name: str,
    category: str,
    value: float | None,
    threshold: float | None,
    detail: CheckDetail,
    rule: str,
) -> Check:
    value = finite(value)
    if threshold is None:
        return Check(name, category, INFO, value, None, detail)
    detail = replace(detail, rule=rule)
    if value is None:
        # A bound applies but the value cannot be computed: a reviewer must look.
        return Check(name, category, WARN, None, threshold, detail)
    ok = value >= threshold if rule == ">=" else value <= threshold
    return Check(name, category, PASS if ok else FAIL, value, threshold, detail)


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...


def run_status(checks: Iterable[HasStatus]) -> str:
    """ "fail" if any check fails, "warn" if any warns, else "pass"."""
    statuses = {c.status for c in checks}
    if FAIL in statuses:
        return FAIL
    if WARN in statuses:
        return WARN
    return PASS


def status_counts(checks: Iterable[Check]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for check in checks:
        counts[check.status] += 1
    return counts


def finite(value: object) -> float | None:
    """A plain float, or None for None, NaN and infinities (canonical JSON has neither)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def plain(value: Any) -> Any:
    """`value` made of JSON types only: numpy scalars and arrays unwrapped, NaN/inf as None."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy scalars and arrays
        return plain(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return plain(item())
    return str(value)
