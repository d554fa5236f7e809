"""Typed details of the data and drift checks: what each found, column by column."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from console.validation.check_detail import (
    CheckDetail,
    Json,
    common,
    integer,
    mapping,
    number,
    number_or,
    numbers,
    strings,
    text,
)


@dataclass(frozen=True, kw_only=True)
class ColumnList(CheckDetail):
    """data.missing_columns, data.extra_columns: the columns concerned."""

    columns: list[str] = field(default_factory=list)

    def content(self) -> Json:
        return {"columns": list(self.columns)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ColumnList:
        return cls(columns=strings(data.get("columns")), **common(data))


@dataclass(frozen=True)
class TypeChange:
    """A column whose type differs from training (`feature`: the model reads it)."""

    column: str
    training_dtype: str
    dtype: str
    training_kind: str
    kind: str
    feature: bool

    def to_json(self) -> Json:
        return {
            "column": self.column,
            "training_dtype": self.training_dtype,
            "dtype": self.dtype,
            "training_kind": self.training_kind,
            "kind": self.kind,
            "feature": self.feature,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TypeChange:
        def read(key: str) -> str:
            return text(data.get(key)) or ""

        return cls(
            read("column"),
            read("training_dtype"),
            read("dtype"),
            read("training_kind"),
            read("kind"),
            feature=data.get("feature") is True,
        )


@dataclass(frozen=True, kw_only=True)
class TypeChanges(CheckDetail):
    """data.type_changes: kind changes (numeric <-> categorical) and wider types of one kind."""

    changed: list[TypeChange] = field(default_factory=list)
    dtype_changes: list[TypeChange] = field(default_factory=list)

    def content(self) -> Json:
        return {
            "changed": [c.to_json() for c in self.changed],
            "dtype_changes": [c.to_json() for c in self.dtype_changes],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TypeChanges:
        def read(key: str) -> list[TypeChange]:
            found = data.get(key)
            items = found if isinstance(found, list) else []
            return [TypeChange.from_json(mapping(item)) for item in items]

        return cls(changed=read("changed"), dtype_changes=read("dtype_changes"), **common(data))


@dataclass(frozen=True)
class NullRateChange:
    training: float
    now: float
    increase: float

    def to_json(self) -> Json:
        return {"training": self.training, "now": self.now, "increase": self.increase}


@dataclass(frozen=True, kw_only=True)
class NullRates(CheckDetail):
    """data.null_rate: each column whose null rate is not zero, then and now."""

    columns: dict[str, NullRateChange] = field(default_factory=dict)

    def content(self) -> Json:
        return {"columns": {k: v.to_json() for k, v in self.columns.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> NullRates:
        columns = {}
        for name, raw in mapping(data.get("columns")).items():
            values = mapping(raw)
            rates = [number_or(values.get(k)) for k in ("training", "now", "increase")]
            columns[name] = NullRateChange(*rates)
        return cls(columns=columns, **common(data))


@dataclass(frozen=True)
class RangeExcess:
    """Values of one column outside the training range."""

    below_min: int
    above_max: int
    share: float
    training_min: float | None
    training_max: float | None

    def to_json(self) -> Json:
        return {
            "below_min": self.below_min,
            "above_max": self.above_max,
            "share": self.share,
            "training_min": self.training_min,
            "training_max": self.training_max,
        }


@dataclass(frozen=True, kw_only=True)
class OutOfRange(CheckDetail):
    """data.out_of_range: columns with values outside the training range."""

    columns: dict[str, RangeExcess] = field(default_factory=dict)

    def content(self) -> Json:
        return {"columns": {k: v.to_json() for k, v in self.columns.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> OutOfRange:
        columns = {}
        for name, raw in mapping(data.get("columns")).items():
            v = mapping(raw)
            columns[name] = RangeExcess(
                integer(v.get("below_min")),
                integer(v.get("above_max")),
                number_or(v.get("share")),
                number(v.get("training_min")),
                number(v.get("training_max")),
            )
        return cls(columns=columns, **common(data))


@dataclass(frozen=True)
class UnseenValues:
    """Rows of one column whose category training never saw, with a few examples."""

    rows: int
    share: float
    distinct: int
    examples: list[str]

    def to_json(self) -> Json:
        return {
            "rows": self.rows,
            "share": self.share,
            "distinct": self.distinct,
            "examples": list(self.examples),
        }


@dataclass(frozen=True, kw_only=True)
class UnseenCategories(CheckDetail):
    """data.unseen_categories; `not_checked`: columns whose profile kept only the top values."""

    columns: dict[str, UnseenValues] = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=list)

    def content(self) -> Json:
        return {
            "columns": {k: v.to_json() for k, v in self.columns.items()},
            "not_checked": list(self.not_checked),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> UnseenCategories:
        columns = {}
        for name, raw in mapping(data.get("columns")).items():
            v = mapping(raw)
            columns[name] = UnseenValues(
                integer(v.get("rows")),
                number_or(v.get("share")),
                integer(v.get("distinct")),
                strings(v.get("examples")),
            )
        return cls(columns=columns, not_checked=strings(data.get("not_checked")), **common(data))


@dataclass(frozen=True, kw_only=True)
class PopulationStability(CheckDetail):
    """drift.psi.<feature>: the binned shares compared, and the PSI sampling alone reaches.

    Numeric features are binned on the training histogram's `edges`, categorical ones on its
    `categories` (plus "(other)").
    """

    kind: str = "numeric"
    edges: list[float] | None = None
    categories: list[str] | None = None
    reference_share: list[float] = field(default_factory=list)
    share: list[float] = field(default_factory=list)
    noise_99: float = 0.0

    def content(self) -> Json:
        data: Json = {"kind": self.kind}
        if self.edges is not None:
            data["edges"] = list(self.edges)
        if self.categories is not None:
            data["categories"] = list(self.categories)
        data["reference_share"] = list(self.reference_share)
        data["share"] = list(self.share)
        data["noise_99"] = self.noise_99
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> PopulationStability:
        return cls(
            kind=text(data.get("kind")) or "numeric",
            edges=numbers(data["edges"]) if "edges" in data else None,
            categories=strings(data["categories"]) if "categories" in data else None,
            reference_share=numbers(data.get("reference_share")),
            share=numbers(data.get("share")),
            noise_99=number_or(data.get("noise_99")),
            **common(data),
        )


KS_METHOD = "binned two-sample KS at the training histogram edges"


@dataclass(frozen=True, kw_only=True)
class DistributionTest(CheckDetail):
    """drift.ks.<feature>: the KS statistic and p-value, over `points` training edges."""

    statistic: float | None = None
    p_value: float | None = None
    reference_rows: int = 0
    rows: int = 0
    points: int = 0
    method: str = KS_METHOD

    def content(self) -> Json:
        return {
            "statistic": self.statistic,
            "p_value": self.p_value,
            "reference_rows": self.reference_rows,
            "rows": self.rows,
            "points": self.points,
            "method": self.method,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> DistributionTest:
        return cls(
            statistic=number(data.get("statistic")),
            p_value=number(data.get("p_value")),
            reference_rows=integer(data.get("reference_rows")),
            rows=integer(data.get("rows")),
            points=integer(data.get("points")),
            method=text(data.get("method")) or KS_METHOD,
            **common(data),
        )
