"""Performance per version and window on the outcomes that arrived, against validation.

Logged predictions are joined to their outcomes by request id in DuckDB; only the labelled rows
of a window (prediction, outcome, score) reach numpy. Each window gets the primary metrics with
95% bootstrap intervals from the validation suite's own resampler (same seed, same number of
resamples): accuracy and, when the log carries scores, ROC AUC for classifiers; R² (and RMSE,
reported only) for regressors. The baseline is the version's latest validation run.

A window decays (`performance.decay`) when a metric is below its baseline by more than the
policy's decay_tolerance and the window's whole interval lies below the baseline: a material
drop that sampling alone does not explain. Windows with fewer than min_window_rows labelled
rows are reported as insufficient and never alert.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
from numpy.typing import NDArray

from console.analytics import Connection, parquet_source, rows
from console.errors import NotFound
from console.monitoring.class_labels import label_of
from console.monitoring.evaluation import (
    FILE_COLUMN,
    EvaluationScope,
    evaluate_windows,
    evaluation_scope,
    file_names,
)
from console.monitoring.logs import (
    OUTCOME,
    PREDICTION,
    REQUEST_ID,
    SCORE,
    outcome_batches,
    verified_paths,
)
from console.monitoring.settings import Window
from console.monitoring.windows import Crossing, WindowResult, bucket_sql
from console.registry.views import VersionView
from console.release.evidence import latest_validation
from console.store.db import Store
from console.validation.bootstrap import BootstrapPlan, Statistic, auc_of, mean_of, r2_of
from console.validation.details import ConfusionMatrix, MetricEstimate, details_as, details_of

OUTCOME_FILE = "_outcome_file"
# Metrics where higher is better; a decay is the baseline minus the window's value.
DECAYING = ("accuracy", "roc_auc", "r2")


@dataclass(frozen=True)
class Baseline:
    """The version's latest validation: each metric's value and interval."""

    run_id: int | None
    metrics: dict[str, float]
    intervals: dict[str, list[float]]
    positive_label: str | None

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class PerformanceEvaluation:
    model: str
    window: str
    since: str | None
    windows: list[WindowResult]
    baselines: dict[int, Baseline]
    decay_tolerance: float
    notes: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "window": self.window,
            "since": self.since,
            "windows": [w.as_dict() for w in self.windows],
            "baselines": {str(k): b.as_dict() for k, b in self.baselines.items()},
            "decay_tolerance": self.decay_tolerance,
            "notes": self.notes,
        }


def validation_baseline(store: Store, view: VersionView) -> Baseline:
    run = latest_validation(store, view.model, view.number)
    if run is None:
        return Baseline(None, {}, {}, None)
    metrics: dict[str, float] = {}
    intervals: dict[str, list[float]] = {}
    for name in ("accuracy", "roc_auc", "r2", "rmse"):
        check = run.check(f"performance.{name}")
        if check is None or check.value is None:
            continue
        metrics[name] = float(check.value)
        ci = details_of(check).confidence_interval()
        if ci is not None:
            intervals[name] = [float(ci.low), float(ci.high)]
    positive: str | None = None
    precision = run.check("performance.precision")
    estimate = details_as(precision, MetricEstimate) if precision is not None else None
    matrix = run.check("performance.confusion_matrix")
    counts = details_as(matrix, ConfusionMatrix) if matrix is not None else None
    if estimate is not None and estimate.positive_label is not None:
        positive = label_of(estimate.positive_label)
    elif counts is not None and counts.labels:
        positive = label_of(counts.labels[-1]) if len(counts.labels) == 2 else None
    return Baseline(run.id, metrics, intervals, positive)


def window_metrics(
    task: str,
    predicted: NDArray[np.object_] | NDArray[np.float64],
    outcome: NDArray[np.object_] | NDArray[np.float64],
    score: NDArray[np.float64],
    positive: str | None,
) -> dict[str, dict[str, object]]:
    """Each metric's value and 95% bootstrap interval on one window's labelled rows."""
    from sklearn import metrics as skm

    n = len(outcome)
    plan = BootstrapPlan(rows=n)
    values: dict[str, float] = {}
    statistics: dict[str, Statistic] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "classification":
            correct = (predicted.astype(str) == outcome.astype(str)).astype(np.float64)
            values["accuracy"] = float(correct.mean())
            statistics["accuracy"] = mean_of(correct)
            scored = np.isfinite(score)
            if positive is not None and n and bool(scored.all()):
                hit = outcome.astype(str) == positive
                if 0 < int(hit.sum()) < n:
                    values["roc_auc"] = float(skm.roc_auc_score(hit, score))
                    statistics["roc_auc"] = auc_of(hit, score)
        else:
            y = outcome.astype(np.float64)
            p = predicted.astype(np.float64)
            squared = mean_of((y - p) ** 2)
            values["rmse"] = float(np.sqrt(np.mean((y - p) ** 2)))
            statistics["rmse"] = lambda index: np.sqrt(squared(index))
            if n > 1:
                values["r2"] = float(skm.r2_score(y, p))
                statistics["r2"] = r2_of(y, p)
        draws = plan.run(statistics)
    out: dict[str, dict[str, object]] = {}
    for name, value in values.items():
        interval = plan.interval(value, draws[name])
        out[name] = {"value": value, "ci95": interval.as_list() if interval else None}
    return out


def decay_crossings(
    metrics: dict[str, dict[str, object]], baseline: Baseline, tolerance: float
) -> list[Crossing]:
    found: list[Crossing] = []
    for name in DECAYING:
        if name not in metrics or name not in baseline.metrics:
            continue
        value, ci = metrics[name]["value"], metrics[name]["ci95"]
        reference = baseline.metrics[name]
        if not isinstance(value, float):
            continue
        decay = reference - value
        high = ci[1] if isinstance(ci, list) else value
        if decay > tolerance and float(high) < reference:
            found.append(
                Crossing(
                    "performance.decay",
                    name,
                    decay,
                    tolerance,
                    {"value": value, "ci95": ci, "baseline": reference, "run": baseline.run_id},
                )
            )
    return found


def _version_windows(
    scope: EvaluationScope,
    con: Connection,
    view: VersionView,
    log_paths: list[Path],
    outcome_paths: list[Path],
    baseline: Baseline,
) -> list[WindowResult]:
    logs = f"(SELECT *, file_index AS {FILE_COLUMN} FROM {parquet_source(log_paths)})"
    outcomes = (
        f"(SELECT {REQUEST_ID}, {OUTCOME}, file_index AS {OUTCOME_FILE} "
        f"FROM {parquet_source(outcome_paths)})"
        if outcome_paths
        else f"(SELECT NULL::VARCHAR AS {REQUEST_ID}, NULL::VARCHAR AS {OUTCOME}, "
        f"NULL::BIGINT AS {OUTCOME_FILE} WHERE false)"
    )
    joined = (
        f"(SELECT {bucket_sql(scope.window)} AS w, l.{PREDICTION}, l.{SCORE}, l.{FILE_COLUMN}, "
        f"o.{OUTCOME}, o.{OUTCOME_FILE} "
        f"FROM (SELECT * FROM {logs} WHERE {scope.version_filter(view.number)}) l "
        f"LEFT JOIN {outcomes} o ON l.{REQUEST_ID} = o.{REQUEST_ID})"
    )
    summary = rows(
        con,
        f"SELECT w, count(*), count({OUTCOME}), list(DISTINCT {FILE_COLUMN}), "
        f"list(DISTINCT {OUTCOME_FILE}) FILTER (WHERE {OUTCOME_FILE} IS NOT NULL) "
        f"FROM {joined} GROUP BY w ORDER BY w",
        f"joining outcomes of {scope.model}:{view.number}",
    )
    try:
        data = con.execute(
            f"SELECT w, {PREDICTION}, {OUTCOME}, coalesce({SCORE}, 'NaN'::DOUBLE) AS {SCORE} "
            f"FROM {joined} WHERE {OUTCOME} IS NOT NULL ORDER BY w"
        ).fetchnumpy()
    except duckdb.Error as exc:  # pragma: no cover - the summary query would have failed first
        raise NotFound(f"cannot read the outcomes of {scope.model}: {exc}") from exc
    starts = np.asarray(data["w"])
    results: list[WindowResult] = []
    for row in summary:
        logged, labelled = int(str(row[1])), int(str(row[2]))
        files = file_names(log_paths, row[3]) + file_names(outcome_paths, row[4])
        mask = starts == np.datetime64(row[0])  # type: ignore[call-overload]
        metrics = (
            window_metrics(
                view.task_type,
                np.asarray(data[PREDICTION])[mask],
                np.asarray(data[OUTCOME])[mask],
                np.asarray(data[SCORE], dtype=np.float64)[mask],
                baseline.positive_label,
            )
            if labelled
            else {}
        )
        crossings = decay_crossings(metrics, baseline, scope.settings.decay_tolerance)
        result: dict[str, object] = {
            "rows": logged,
            "labelled": labelled,
            "metrics": metrics,
            "baseline": baseline.metrics,
            "baseline_run": baseline.run_id,
        }
        results.append(
            scope.window_result(
                "performance", view.number, row[0], labelled, result, crossings, files
            )
        )
    return results


def evaluate_performance(
    store: Store,
    model: str,
    *,
    window: Window | None = None,
    since: str | None = None,
    upto_seq: int | None = None,
) -> PerformanceEvaluation:
    """Metrics per served version and window (logs and outcomes recorded before `upto_seq`)."""
    scope = evaluation_scope(store, model, window=window, since=since, upto_seq=upto_seq)
    labels = outcome_batches(store, model, upto_seq=upto_seq)
    baselines: dict[int, Baseline] = {}
    notes: list[str] = []
    if not labels:
        notes.append(f"no outcomes for {model} yet; ingest them with `signoff monitor labels`")
    outcome_paths = verified_paths(store, [b.artifact_sha256 for b in labels])

    def measure(con: Connection, version: VersionView, paths: list[Path]) -> list[WindowResult]:
        baseline = validation_baseline(store, version)
        baselines[version.number] = baseline
        if baseline.run_id is None:
            notes.append(f"{model}:{version.number} has no validation run: no baseline, no decay")
        return _version_windows(scope, con, version, paths, outcome_paths, baseline)

    windows = evaluate_windows(scope, measure)
    return PerformanceEvaluation(
        model,
        scope.window.text,
        scope.since,
        windows,
        baselines,
        scope.settings.decay_tolerance,
        notes,
    )
