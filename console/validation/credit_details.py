"""Typed details of the credit-risk checks: calibration, score distribution and residuals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from console.validation.check_detail import (
    CheckDetail,
    Json,
    common,
    integer,
    number,
    numbers,
)


@dataclass(frozen=True, kw_only=True)
class ScoreSeparation(CheckDetail):
    """performance.ks_statistic: the largest gap between the score CDFs of the two classes."""

    pvalue: float | None = None
    at_score: float | None = None  # the score where the gap is largest
    positives: int = 0
    negatives: int = 0

    def content(self) -> Json:
        return {
            "pvalue": self.pvalue,
            "at_score": self.at_score,
            "positives": self.positives,
            "negatives": self.negatives,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ScoreSeparation:
        return cls(
            pvalue=number(data.get("pvalue")),
            at_score=number(data.get("at_score")),
            positives=integer(data.get("positives")),
            negatives=integer(data.get("negatives")),
            **common(data),
        )


@dataclass(frozen=True, kw_only=True)
class CalibrationFit(CheckDetail):
    """performance.calibration_slope_deviation, .calibration_intercept_deviation: the fit of
    outcome ~ a + b logit(score) (the checks' values are |b - 1| and |a|)."""

    slope: float | None = None
    intercept: float | None = None

    def content(self) -> Json:
        return {"slope": self.slope, "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> CalibrationFit:
        return cls(
            slope=number(data.get("slope")), intercept=number(data.get("intercept")), **common(data)
        )


@dataclass(frozen=True, kw_only=True)
class CalibrationBins(CheckDetail):
    """performance.expected_calibration_error and .hosmer_lemeshow: scores binned, each bin's
    rows, mean score and observed event rate (a reliability table)."""

    binning: str = ""
    counts: list[int] = field(default_factory=list)
    mean_score: list[float] = field(default_factory=list)
    event_rate: list[float] = field(default_factory=list)
    statistic: float | None = None  # Hosmer-Lemeshow chi-square (the check's value is its p)
    dof: int | None = None

    def content(self) -> Json:
        data: Json = {
            "binning": self.binning,
            "counts": list(self.counts),
            "mean_score": list(self.mean_score),
            "event_rate": list(self.event_rate),
        }
        if self.statistic is not None:
            data.update(statistic=self.statistic, dof=self.dof)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> CalibrationBins:
        raw = data.get("counts")
        return cls(
            binning=str(data.get("binning") or ""),
            counts=[integer(v) for v in raw] if isinstance(raw, list) else [],
            mean_score=numbers(data.get("mean_score")),
            event_rate=numbers(data.get("event_rate")),
            statistic=number(data.get("statistic")),
            dof=integer(data.get("dof")) if "dof" in data else None,
            **common(data),
        )


@dataclass(frozen=True, kw_only=True)
class ScoreDistribution(CheckDetail):
    """performance.score_psi: this run's score shares on fixed edges, and the baseline's.

    The baseline is the version's first validation run that recorded a score distribution;
    the run that is its own baseline has no `baseline_run` and no PSI.
    """

    edges: list[float] = field(default_factory=list)
    share: list[float] = field(default_factory=list)
    baseline_run: int | None = None
    baseline_share: list[float] | None = None

    def content(self) -> Json:
        data: Json = {"edges": list(self.edges), "share": list(self.share)}
        if self.baseline_run is not None:
            data.update(baseline_run=self.baseline_run, baseline_share=self.baseline_share)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ScoreDistribution:
        run = data.get("baseline_run")
        return cls(
            edges=numbers(data.get("edges")),
            share=numbers(data.get("share")),
            baseline_run=integer(run) if run is not None else None,
            baseline_share=numbers(data["baseline_share"]) if "baseline_share" in data else None,
            **common(data),
        )


@dataclass(frozen=True, kw_only=True)
class ResidualCheck(CheckDetail):
    """performance.residual_bias: mean residual over the target's spread, its t-test, and how
    residuals move with the prediction (Spearman), for regressors."""

    mean_residual: float | None = None
    target_std: float | None = None
    pvalue: float | None = None
    spearman_with_prediction: float | None = None

    def content(self) -> Json:
        return {
            "mean_residual": self.mean_residual,
            "target_std": self.target_std,
            "pvalue": self.pvalue,
            "spearman_with_prediction": self.spearman_with_prediction,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ResidualCheck:
        return cls(
            mean_residual=number(data.get("mean_residual")),
            target_std=number(data.get("target_std")),
            pvalue=number(data.get("pvalue")),
            spearman_with_prediction=number(data.get("spearman_with_prediction")),
            **common(data),
        )
