"""Typed details of the checks that run a model again: beside its champion, twice, under noise, timed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from console.validation.check_detail import (
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
    strings,
    text,
)


@dataclass(frozen=True)
class MetricDelta:
    """Challenger minus champion on one metric, on the same resamples."""

    metric: str
    challenger: float
    champion: float
    delta: float
    interval: Interval | None

    def to_json(self) -> Json:
        return {
            "metric": self.metric,
            "challenger": self.challenger,
            "champion": self.champion,
            "delta": self.delta,
            "ci95": interval_list(self.interval),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> MetricDelta:
        return cls(
            text(data.get("metric")) or "",
            number_or(data.get("challenger")),
            number_or(data.get("champion")),
            number_or(data.get("delta")),
            interval(data.get("ci95")),
        )


BOUND_APPLIES_TO = "the lower end of ci95 (threshold = -champion_tolerance)"


@dataclass(frozen=True, kw_only=True)
class ChampionComparison(CheckDetail):
    """champion.not_worse: the stage and version compared against, and the paired deltas.

    Without a champion only `stage`, `tolerance` and the note are set; when the champion could
    not be compared, `reason` says why and there is no delta.
    """

    stage: str | None = None
    tolerance: float | None = None
    champion_version: int | None = None
    reason: str | None = None
    primary: MetricDelta | None = None
    secondary: MetricDelta | None = None

    def confidence_interval(self) -> Interval | None:
        return self.primary.interval if self.primary is not None else None

    def content(self) -> Json:
        data: Json = {"stage": self.stage, "tolerance": self.tolerance}
        if self.champion_version is not None:
            data["champion_version"] = self.champion_version
        if self.reason is not None:
            data["reason"] = self.reason
        if self.primary is not None:
            data.update(self.primary.to_json(), bound_applies_to=BOUND_APPLIES_TO)
        if self.secondary is not None:
            data["secondary"] = self.secondary.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ChampionComparison:
        version = data.get("champion_version")
        secondary = data.get("secondary")
        return cls(
            stage=text(data.get("stage")),
            tolerance=number(data.get("tolerance")),
            champion_version=integer(version) if version is not None else None,
            reason=text(data.get("reason")),
            primary=MetricDelta.from_json(data) if "metric" in data else None,
            secondary=MetricDelta.from_json(secondary) if isinstance(secondary, Mapping) else None,
            **common(data),
        )


@dataclass(frozen=True)
class PredictionDigest:
    """sha256 of a load's predicted labels or values, and of its probabilities if any."""

    predictions_sha256: str
    probabilities_sha256: str | None

    def to_json(self) -> Json:
        return {
            "predictions_sha256": self.predictions_sha256,
            "probabilities_sha256": self.probabilities_sha256,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> PredictionDigest:
        return cls(
            text(data.get("predictions_sha256")) or "", text(data.get("probabilities_sha256"))
        )


@dataclass(frozen=True, kw_only=True)
class ReproducibilityRecord(CheckDetail):
    """reproducibility.predictions: two loads' prediction digests over `rows` rows of the file
    (all of them, or an evenly spaced sample of a large file), and the machine's packages."""

    artifact_sha256: str = ""
    loads: int = 2
    rows: int | None = None  # rows both loads predicted; None in runs recorded before it was
    first: PredictionDigest = PredictionDigest("", None)
    second: PredictionDigest = PredictionDigest("", None)
    environment: dict[str, object] = field(default_factory=dict)

    def content(self) -> Json:
        return {
            "artifact_sha256": self.artifact_sha256,
            "loads": self.loads,
            "rows": self.rows,
            "first": self.first.to_json(),
            "second": self.second.to_json(),
            "environment": dict(self.environment),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ReproducibilityRecord:
        return cls(
            artifact_sha256=text(data.get("artifact_sha256")) or "",
            loads=integer(data.get("loads"), 2),
            rows=integer(data.get("rows")) if data.get("rows") is not None else None,
            first=PredictionDigest.from_json(mapping(data.get("first"))),
            second=PredictionDigest.from_json(mapping(data.get("second"))),
            environment=dict(mapping(data.get("environment"))),
            **common(data),
        )


@dataclass(frozen=True, kw_only=True)
class Perturbation(CheckDetail):
    """robustness.*: the noise added, to which features, on how many rows, with which seed."""

    noise: str = ""
    features: list[str] = field(default_factory=list)
    rows: int = 0
    seed: int = 0

    def content(self) -> Json:
        return {
            "noise": self.noise,
            "features": list(self.features),
            "rows": self.rows,
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Perturbation:
        return cls(
            noise=text(data.get("noise")) or "",
            features=strings(data.get("features")),
            rows=integer(data.get("rows")),
            seed=integer(data.get("seed")),
            **common(data),
        )


@dataclass(frozen=True)
class Percentiles:
    """Milliseconds at the 50th and 95th percentile (and over how many calls, when it differs)."""

    p50: float
    p95: float
    calls: int | None = None

    def to_json(self) -> Json:
        data: Json = {"p50": self.p50, "p95": self.p95}
        if self.calls is not None:
            data["calls"] = self.calls
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Percentiles:
        calls = data.get("calls")
        return cls(
            number_or(data.get("p50")),
            number_or(data.get("p95")),
            integer(calls) if calls is not None else None,
        )


@dataclass(frozen=True, kw_only=True)
class LatencyTiming(CheckDetail):
    """latency.inference: per batch, per row within batches, and for single-row calls."""

    batch_rows: int = 0
    calls: int = 0
    batch_ms: Percentiles = Percentiles(0.0, 0.0)
    row_ms: Percentiles = Percentiles(0.0, 0.0)
    single_row_ms: Percentiles = Percentiles(0.0, 0.0)

    def content(self) -> Json:
        return {
            "batch_rows": self.batch_rows,
            "calls": self.calls,
            "batch_ms": self.batch_ms.to_json(),
            "row_ms": self.row_ms.to_json(),
            "single_row_ms": self.single_row_ms.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> LatencyTiming:
        return cls(
            batch_rows=integer(data.get("batch_rows")),
            calls=integer(data.get("calls")),
            batch_ms=Percentiles.from_json(mapping(data.get("batch_ms"))),
            row_ms=Percentiles.from_json(mapping(data.get("row_ms"))),
            single_row_ms=Percentiles.from_json(mapping(data.get("single_row_ms"))),
            **common(data),
        )
