"""Typed details of validation checks, and `details_of`: the one parser every reader uses.

Validation builds these and stores `to_json()` (the JSON of every run so far, unchanged); the
console and the reports read a stored check back with `details_of(check)` instead of looking
for keys. Performance and fairness details are here; data and drift ones in `data_details`;
champion, reproducibility, robustness and latency ones in `run_details`.

Besides what validation writes, one other layout is read, for checks recorded by other tools:
a metric named in `metric` with its interval in `ci` and `ci_level`, and a fairness table under
`groups` as a list of `{"group": name, ...}` with its attribute in `attribute`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from console.validation.check_detail import (
    LEVEL,
    CheckDetail,
    Interval,
    Json,
    common,
    integer,
    interval,
    interval_list,
    mapping,
    number,
    number_or,
    text,
)
from console.validation.credit_details import (
    CalibrationBins,
    CalibrationFit,
    ResidualCheck,
    ScoreDistribution,
    ScoreSeparation,
)
from console.validation.data_details import (
    ColumnList,
    DistributionTest,
    NullRates,
    OutOfRange,
    PopulationStability,
    TypeChanges,
    UnseenCategories,
)
from console.validation.run_details import (
    ChampionComparison,
    LatencyTiming,
    Perturbation,
    ReproducibilityRecord,
)

Label = str | int | float | bool  # a class label, as JSON holds it
GroupValue = int | float | None


def _label(value: object) -> Label | None:
    return value if isinstance(value, str | int | float | bool) else None


@dataclass(frozen=True, kw_only=True)
class MetricEstimate(CheckDetail):
    """performance.<metric>: the bootstrap interval around the check's value.

    Precision, recall and F1 also say how classes were averaged, and for a binary model which
    label counted as positive.
    """

    interval: Interval | None = None
    average: str | None = None
    positive_label: Label | None = None
    metric: str | None = None  # set only by records naming the metric apart from the check

    def confidence_interval(self) -> Interval | None:
        return self.interval

    def content(self) -> Json:
        data: Json = {} if self.metric is None else {"metric": self.metric}
        found = self.interval
        if found is None or found.level == LEVEL:
            data["ci95"] = interval_list(found)
        else:
            data.update(ci=found.as_list(), ci_level=found.level)
        if self.average is not None:
            data["average"] = self.average
        if self.positive_label is not None:
            data["positive_label"] = self.positive_label
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> MetricEstimate:
        if "ci95" in data:
            found = interval(data.get("ci95"))
        else:
            found = interval(data.get("ci"), number_or(data.get("ci_level"), LEVEL))
        return cls(
            interval=found,
            average=text(data.get("average")),
            positive_label=_label(data.get("positive_label")),
            metric=text(data.get("metric")) or None,
            **common(data),
        )


@dataclass(frozen=True, kw_only=True)
class ConfusionMatrix(CheckDetail):
    """performance.confusion_matrix: counts with rows true and columns predicted."""

    labels: list[Label] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)

    def content(self) -> Json:
        return {"labels": list(self.labels), "matrix": [list(row) for row in self.matrix]}

    def predicted_counts(self) -> dict[Label, int] | None:
        """How often each label was predicted; None when the record does not line up."""
        if not self.labels or len(self.matrix) != len(self.labels):
            return None
        if any(len(row) != len(self.labels) for row in self.matrix):
            return None
        return {label: sum(row[j] for row in self.matrix) for j, label in enumerate(self.labels)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ConfusionMatrix:
        raw_labels = data.get("labels")
        found = raw_labels if isinstance(raw_labels, list) else []
        labels = [v for v in map(_label, found) if v is not None]
        raw_matrix = data.get("matrix")
        rows = raw_matrix if isinstance(raw_matrix, list) else []
        matrix = [[integer(v) for v in row] for row in rows if isinstance(row, list)]
        return cls(labels=labels, matrix=matrix, **common(data))


@dataclass(frozen=True)
class GroupOutcome:
    """One group's rows (`count`), whether it was compared, and its measured rates or errors."""

    count: int | None
    compared: bool | None
    measures: dict[str, GroupValue]

    def values(self) -> dict[str, GroupValue]:
        """The group's numbers, its size first."""
        return self.measures if self.count is None else {"count": self.count, **self.measures}

    def to_json(self) -> Json:
        data: Json = dict(self.measures)
        if self.count is not None:
            data["count"] = self.count
        if self.compared is not None:
            data["compared"] = self.compared
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> GroupOutcome:
        measures: dict[str, GroupValue] = {}
        for key, value in data.items():
            if key in ("count", "compared", "group"):
                continue
            if value is None or number(value) is not None:
                measures[key] = number(value)
        count = data.get("count")
        compared = data.get("compared")
        return cls(
            integer(count) if "count" in data else None,
            compared if isinstance(compared, bool) else None,
            measures,
        )


def _groups(raw: object) -> dict[str, GroupOutcome]:
    if isinstance(raw, list):
        return {
            str(item["group"]): GroupOutcome.from_json(item)
            for item in raw
            if isinstance(item, Mapping) and "group" in item
        }
    return {str(g): GroupOutcome.from_json(mapping(v)) for g, v in mapping(raw).items()}


@dataclass(frozen=True, kw_only=True)
class GroupResults(CheckDetail):
    """fairness.groups: outcomes per group of the sensitive `column`.

    A classifier's table names its positive label (None for multiclass); a regressor's says what
    the check's value is (`value_is`) instead.
    """

    column: str | None = None
    groups: dict[str, GroupOutcome] = field(default_factory=dict)
    min_group_rows: int | None = None
    positive_label: Label | None = None
    value_is: str | None = None

    def content(self) -> Json:
        data: Json = {
            "column": self.column,
            "groups": {g: outcome.to_json() for g, outcome in self.groups.items()},
            "min_group_rows": self.min_group_rows,
        }
        if self.value_is is not None:
            data["value_is"] = self.value_is
        else:
            data["positive_label"] = self.positive_label
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> GroupResults:
        rows = data.get("min_group_rows")
        return cls(
            column=text(data.get("column")) or text(data.get("attribute")),
            groups=_groups(data.get("groups")),
            min_group_rows=integer(rows) if rows is not None else None,
            positive_label=_label(data.get("positive_label")),
            value_is=text(data.get("value_is")),
            **common(data),
        )


@dataclass(frozen=True, kw_only=True)
class FairnessGap(CheckDetail):
    """fairness.demographic_parity, .equal_opportunity: the rate per compared group.

    `rates` and `class_label` (the class read against the rest) are absent when fewer than two
    groups were large enough to compare. `bound_source` and `bound_reason` are set when the
    policy bounds this attribute on its own (`[validation.fairness.ATTR]`); else [validation]'s
    bound applied.
    """

    column: str | None = None
    interval: Interval | None = None
    rates: dict[str, float | None] | None = None
    class_label: Label | None = None
    bound_source: str | None = None
    bound_reason: str | None = None

    def confidence_interval(self) -> Interval | None:
        return self.interval

    @property
    def bound_text(self) -> str:
        """Where the check's bound comes from, in the words reports and the console use."""
        if self.bound_source is None:
            return "[validation]"
        return (
            f"{self.bound_source}: {self.bound_reason}" if self.bound_reason else self.bound_source
        )

    def content(self) -> Json:
        data: Json = {"column": self.column, "ci95": interval_list(self.interval)}
        if self.rates is not None:
            data["rates"] = dict(self.rates)
            data["class"] = self.class_label
        if self.bound_source is not None:
            data["bound_source"] = self.bound_source
            data["bound_reason"] = self.bound_reason
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FairnessGap:
        raw = data.get("rates")
        return cls(
            column=text(data.get("column")) or text(data.get("attribute")),
            interval=interval(data.get("ci95")),
            rates={str(g): number(r) for g, r in raw.items()} if isinstance(raw, Mapping) else None,
            class_label=_label(data.get("class")),
            bound_source=text(data.get("bound_source")),
            bound_reason=text(data.get("bound_reason")),
            **common(data),
        )


# ---- reading -----------------------------------------------------------------------------------

_BY_NAME: dict[str, type[CheckDetail]] = {
    "performance.confusion_matrix": ConfusionMatrix,
    "data.missing_columns": ColumnList,
    "data.extra_columns": ColumnList,
    "data.type_changes": TypeChanges,
    "data.null_rate": NullRates,
    "data.out_of_range": OutOfRange,
    "data.unseen_categories": UnseenCategories,
    "fairness.demographic_parity": FairnessGap,
    "fairness.equal_opportunity": FairnessGap,
    "performance.ks_statistic": ScoreSeparation,
    "performance.calibration_slope_deviation": CalibrationFit,
    "performance.calibration_intercept_deviation": CalibrationFit,
    "performance.expected_calibration_error": CalibrationBins,
    "performance.hosmer_lemeshow": CalibrationBins,
    "performance.score_psi": ScoreDistribution,
    "performance.residual_bias": ResidualCheck,
}
# Checks named by a prefix; other fairness checks are tables of per-group results.
_BY_PREFIX: tuple[tuple[str, type[CheckDetail]], ...] = (
    ("fairness.demographic_parity.", FairnessGap),
    ("fairness.equal_opportunity.", FairnessGap),
    ("performance.", MetricEstimate),
    ("drift.psi.", PopulationStability),
    ("drift.ks.", DistributionTest),
    ("fairness.", GroupResults),
    ("champion.", ChampionComparison),
    ("reproducibility.", ReproducibilityRecord),
    ("robustness.", Perturbation),
    ("latency.", LatencyTiming),
)


class RecordedCheck(Protocol):
    """A check as validation built it (`Check`) or as the store gives it back (`CheckView`)."""

    @property
    def name(self) -> str: ...

    @property
    def detail(self) -> object: ...


def detail_type(name: str) -> type[CheckDetail]:
    """The detail type of the check called `name`."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    return next((kind for prefix, kind in _BY_PREFIX if name.startswith(prefix)), CheckDetail)


def details_of(check: RecordedCheck) -> CheckDetail:
    """The typed detail of a check; a stored one is parsed by its name's type."""
    if isinstance(check.detail, CheckDetail):
        return check.detail
    return detail_type(check.name).from_json(mapping(check.detail))


Detail = TypeVar("Detail", bound=CheckDetail)


def details_as(check: RecordedCheck, kind: type[Detail]) -> Detail | None:
    """The check's detail when it is a `kind` (None for a check of another kind)."""
    found = details_of(check)
    return found if isinstance(found, kind) else None
