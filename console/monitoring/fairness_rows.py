"""Fairness windows as faces list them: one row per window and sensitive attribute.

The CLI, the console and the reports read recorded (or just evaluated) fairness windows through
`fairness_rows`, so a gap shown in one is the number in the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

METRICS = ("demographic_parity", "equal_opportunity")
INSUFFICIENT = "insufficient"


class FairnessWindow(Protocol):
    @property
    def version(self) -> int: ...
    @property
    def start(self) -> str: ...
    @property
    def end(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def result(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class Gap:
    value: float | None
    low: float | None
    high: float | None
    failed: bool


@dataclass(frozen=True)
class FairnessRow:
    """One attribute in one window: labelled rows, groups, each gap with its 95% interval."""

    version: int
    start: str
    end: str
    attribute: str
    labelled: int
    logged: int
    groups: int | None
    gaps: dict[str, Gap]
    insufficient: bool

    @property
    def failed(self) -> list[str]:
        """The metrics over the policy's bound (never in an insufficient window)."""
        return [] if self.insufficient else [m for m, g in self.gaps.items() if g.failed]

    @property
    def status(self) -> str:
        if self.insufficient:
            return INSUFFICIENT
        return "alert" if self.failed else "ok"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _gap(entry: object) -> Gap:
    if not isinstance(entry, dict):
        return Gap(None, None, None, False)
    detail = entry.get("detail")
    ci = detail.get("ci95") if isinstance(detail, dict) else None
    low, high = (ci[0], ci[1]) if isinstance(ci, list) and len(ci) == 2 else (None, None)
    return Gap(
        _number(entry.get("value")), _number(low), _number(high), entry.get("status") == "fail"
    )


def _groups(entry: dict[str, object]) -> int | None:
    groups = entry.get("groups")
    detail = groups.get("detail") if isinstance(groups, dict) else None
    found = detail.get("groups") if isinstance(detail, dict) else None
    return len(found) if isinstance(found, dict) else None


def fairness_rows(windows: Sequence[FairnessWindow]) -> list[FairnessRow]:
    """Per window (in the order given) and attribute (in the order measured), one row."""
    rows: list[FairnessRow] = []
    for window in windows:
        attributes = window.result.get("attributes")
        logged = window.result.get("rows")
        for name, entry in (attributes if isinstance(attributes, dict) else {}).items():
            entry = entry if isinstance(entry, dict) else {}
            labelled = entry.get("labelled")
            rows.append(
                FairnessRow(
                    version=window.version,
                    start=window.start,
                    end=window.end,
                    attribute=str(name),
                    labelled=labelled if isinstance(labelled, int) else 0,
                    logged=logged if isinstance(logged, int) else 0,
                    groups=_groups(entry),
                    gaps={m: _gap(entry.get(m)) for m in METRICS},
                    insufficient=window.status == INSUFFICIENT,
                )
            )
    return rows
