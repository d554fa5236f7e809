"""What every check's detail holds (a note, a rule), and how its stored JSON is read field by field."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

Json = dict[str, object]
Number = int | float
# The level of every interval validation computes (bootstrap draws at it); stored as `ci95`.
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A confidence interval around an estimate."""

    low: float
    high: float
    level: float = LEVEL

    def as_list(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True, kw_only=True)
class CheckDetail:
    """The detail of any check: one short human line, and `>=`/`<=` when a threshold applies.

    Subclasses add what their check measured; `to_json` gives the exact JSON validation stores
    (keys it never wrote stay absent), and `from_json` reads it back.
    """

    note: str = ""
    rule: str | None = None

    def content(self) -> Json:
        """The check-specific fields, as stored."""
        return {}

    def to_json(self) -> Json:
        data = {**self.content(), "note": self.note}
        if self.rule is not None:
            data["rule"] = self.rule
        return data

    def confidence_interval(self) -> Interval | None:
        """The interval around the check's value, for checks that compute one."""
        return None

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> CheckDetail:
        return CheckDetail(**common(data))


class Common(TypedDict):
    note: str
    rule: str | None


def common(data: Mapping[str, object]) -> Common:
    """The note and rule of a stored detail, as keyword arguments of any detail type."""
    return {"note": text(data.get("note")) or "", "rule": rule(data.get("rule"))}


# ---- reading stored JSON: a field of the wrong type reads as absent, never as an error --------


def number(value: object) -> float | None:
    """A finite number (ints stay ints, so JSON written back is the same), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def number_or(value: object, default: float = 0.0) -> float:
    found = number(value)
    return default if found is None else found


def integer(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def rule(value: object) -> str | None:
    return value if isinstance(value, str) and value in (">=", "<=") else None


def strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def numbers(value: object) -> list[float]:
    if not isinstance(value, list):
        return []
    return [n for n in (number(v) for v in value) if n is not None]


def mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def interval(value: object, level: float = LEVEL) -> Interval | None:
    """`[low, high]` as an Interval; None when absent or not two numbers."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    low, high = number(value[0]), number(value[1])
    if low is None or high is None:
        return None
    return Interval(low, high, level)


def interval_list(found: Interval | None) -> list[float] | None:
    return found.as_list() if found is not None else None
