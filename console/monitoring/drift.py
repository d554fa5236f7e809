"""Drift and data quality per version and time window, counted in DuckDB SQL over the logs.

One grouped scan per served version counts, per window and feature, what the validation suite
counts for a whole file (console.validation.reference): nulls, values below each edge of the
training histogram and above its maximum, each training category and the values outside them.
The few numbers per window then go through the validation suite's own statistics
(console.validation.drift: PSI on the profile's bins, the binned two-sample KS test), so a
window and a validation run of the same rows give the same PSI and KS.

A window crosses a threshold of the policy's [monitoring] table when:
- drift.psi: PSI > max_psi and above the PSI sampling alone reaches 1% of the time;
- drift.ks: KS D > max_ks_statistic and its p-value < max_ks_pvalue;
- drift.prediction: PSI of the predicted classes (against the predictions of the version's
  latest validation run; regressors: the training target's histogram) > max_prediction_psi;
- quality.null_rate: null rate above training by more than max_null_rate_increase;
- quality.out_of_range: share of values outside the training range > max_out_of_range_share;
- quality.unseen_category: share of categories training never saw > max_unseen_category_share
  (only where the profile lists every training category).
Windows with fewer than min_window_rows rows are reported as insufficient and never cross.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from console.analytics import Connection, double, ident, literal, parquet_source, rows
from console.monitoring.class_labels import label_of
from console.monitoring.drift_statistics import (
    feature_crossings,
    feature_statistics,
    prediction_crossing,
)
from console.monitoring.evaluation import (
    FILE_COLUMN,
    EvaluationScope,
    evaluate_windows,
    evaluation_scope,
    file_names,
)
from console.monitoring.logs import PREDICTION
from console.monitoring.settings import Window
from console.monitoring.windows import Crossing, WindowResult, bucket_sql
from console.registry.views import VersionView, get_dataset
from console.release.evidence import latest_validation
from console.store.db import Store
from console.validation.details import ConfusionMatrix, details_as
from console.validation.reference import (
    CategoryCounts,
    ColumnMeasure,
    NumericCounts,
    ProfiledColumn,
    parse_profile,
)


@dataclass(frozen=True)
class DriftEvaluation:
    """Every window of every served version, with the settings they were judged by."""

    model: str
    window: str
    since: str | None
    windows: list[WindowResult]
    thresholds: dict[str, float]
    notes: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "window": self.window,
            "since": self.since,
            "windows": [w.as_dict() for w in self.windows],
            "thresholds": self.thresholds,
            "notes": self.notes,
        }


# ---- counting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    """The SQL aggregates of one compared column and how to turn them into a ColumnMeasure."""

    reference: ProfiledColumn
    column: str  # the log's column
    numeric: bool


# Below every finite double: counts -inf, which the profile keeps out of its histogram.
_BELOW_FINITE = "-1.7976931348623157e308"


def _terms_sql(terms: Sequence[_Term]) -> tuple[list[str], list[str]]:
    """Projections (each column cast once) and aggregates, in the order `_measures` reads.

    Numeric aggregates compare the raw double and correct for NaN and infinities afterwards
    (DuckDB orders NaN above +inf): plain comparisons are twice as fast as filtering first.
    """
    inner: list[str] = []
    aggregates: list[str] = []
    for i, term in enumerate(terms):
        ref, column = term.reference, ident(term.column)
        if term.numeric:
            x = f"x{i}"
            inner.append(f"CAST({column} AS DOUBLE) AS {x}")
            aggregates += [
                f"count({x})",
                f"count_if(isnan({x}))",
                f"count_if(isinf({x}))",
                f"count_if({x} < {_BELOW_FINITE})",
            ]
            aggregates.extend(f"count_if({x} < {double(e)})" for e in ref.edges[:-1])
            aggregates.append(f"count_if({x} > {double(ref.edges[-1])})" if ref.edges else "0")
        else:
            s = f"s{i}"
            inner.append(f"CAST({column} AS VARCHAR) AS {s}")
            known = list(ref.frequencies)
            unseen = f"{s} NOT IN ({', '.join(literal(k) for k in known)})" if known else "true"
            aggregates.append(f"count({s})")
            aggregates.extend(f"count_if({s} = {literal(k)})" for k in known)
            aggregates.append(f"count_if({s} IS NOT NULL AND {unseen})")
    return inner, aggregates


def _measures(
    terms: Sequence[_Term], values: Sequence[int], rows_: int
) -> dict[str, ColumnMeasure]:
    """The window's counts as the validation suite's ColumnMeasure, per compared column."""
    out: dict[str, ColumnMeasure] = {}
    at = 0
    for term in terms:
        ref = term.reference
        if term.numeric:
            k = max(len(ref.edges) - 1, 0)
            present, nans, infinite, negative = values[at : at + 4]
            raw_below = values[at + 4 : at + 4 + k]
            raw_above = values[at + 4 + k]
            at += 5 + k
            finite = present - nans - infinite
            counts = NumericCounts(
                finite,
                [b - negative for b in raw_below],
                max(raw_above - (infinite - negative) - nans, 0) if ref.edges else 0,
            )
            out[term.column] = ColumnMeasure(
                ref, "DOUBLE", "numeric", rows_ - present + nans, numeric=counts
            )
        else:
            known = list(ref.frequencies)
            non_null = values[at]
            per = dict(zip(known, values[at + 1 : at + 1 + len(known)], strict=True))
            outside = values[at + 1 + len(known)]
            at += 2 + len(known)
            categories = CategoryCounts(per, outside, 1 if outside else 0)
            out[term.column] = ColumnMeasure(
                ref, "VARCHAR", "categorical", rows_ - non_null, categories=categories
            )
    return out


# ---- the prediction's reference -------------------------------------------------------------


def prediction_reference(
    store: Store, view: VersionView, profile: dict[str, ProfiledColumn]
) -> tuple[ProfiledColumn | None, str]:
    """What the predictions are compared with, and where it comes from."""
    if view.task_type == "regression":
        target = profile.get(view.target)
        if target is None or target.kind != "numeric" or len(target.edges) < 2:
            return None, "the training target has no histogram"
        return target, f"training target {view.target!r}"
    run = latest_validation(store, view.model, view.number)
    check = run.check("performance.confusion_matrix") if run is not None else None
    if run is None or check is None:
        return None, "no validation run to compare predictions with"
    recorded = details_as(check, ConfusionMatrix)
    predicted = recorded.predicted_counts() if recorded is not None else None
    if predicted is None:
        return None, "the validation run recorded no confusion matrix"
    frequencies = {label_of(label): n for label, n in predicted.items()}
    reference = ProfiledColumn(PREDICTION, "VARCHAR", "categorical", 0.0, frequencies=frequencies)
    return reference, f"predictions of validation run {run.id}"


# ---- evaluation -------------------------------------------------------------------------------


def _terms(
    view: VersionView, profile: dict[str, ProfiledColumn], prediction_ref: ProfiledColumn | None
) -> list[_Term]:
    """The columns compared: the features both the schema and the profile type alike."""
    terms: list[_Term] = []
    for column in view.input_schema:
        name = str(column["name"])
        ref = profile.get(name)
        if ref is None:
            continue
        if ref.kind == "numeric" and str(column.get("kind")) == "numeric":
            terms.append(_Term(ref, name, True))
        elif ref.kind in ("categorical", "boolean") and str(column.get("kind")) in (
            "categorical",
            "boolean",
        ):
            terms.append(_Term(ref, name, False))
    if prediction_ref is not None:
        terms.append(_Term(prediction_ref, PREDICTION, prediction_ref.kind == "numeric"))
    return terms


def window_drift(
    scope: EvaluationScope,
    con: Connection,
    view: VersionView,
    paths: list[Path],
    profile: dict[str, ProfiledColumn],
    prediction_ref: ProfiledColumn | None,
) -> list[WindowResult]:
    """Every window of one version in the logs at `paths`, judged by the scope's settings."""
    terms = _terms(view, profile, prediction_ref)
    inner, aggregates = _terms_sql(terms)
    projection = ", ".join(
        [f"{bucket_sql(scope.window)} AS w", f"file_index AS {FILE_COLUMN}", *inner]
    )
    sql = (
        f"SELECT w, count(*), list(DISTINCT {FILE_COLUMN}), {', '.join(aggregates) or '0'} "
        f"FROM (SELECT {projection} FROM {parquet_source(paths)} "
        f"WHERE {scope.version_filter(view.number)}) GROUP BY w ORDER BY w"
    )
    results: list[WindowResult] = []
    for row in rows(con, sql, f"computing drift of {scope.model}:{view.number}"):
        n = int(str(row[1]))
        values = [int(v) if isinstance(v, int | float) else 0 for v in row[3:]]
        measures = _measures(terms, values, n)
        features: dict[str, object] = {}
        crossings: list[Crossing] = []
        for term in terms:
            if term.column == PREDICTION:
                continue
            stats = feature_statistics(measures[term.column], n)
            features[term.column] = stats
            crossings += feature_crossings(term.column, stats, scope.settings)
        result: dict[str, object] = {"rows": n, "features": features}
        if prediction_ref is not None:
            stats = feature_statistics(measures[PREDICTION], n)
            result["prediction"] = stats
            crossings += prediction_crossing(stats, scope.settings)
        files = file_names(paths, row[2])
        results.append(
            scope.window_result("drift", view.number, row[0], n, result, crossings, files)
        )
    return results


def evaluate_drift(
    store: Store,
    model: str,
    *,
    window: Window | None = None,
    since: str | None = None,
    upto_seq: int | None = None,
) -> DriftEvaluation:
    """Drift per served version and window, from the logs (ingested before event `upto_seq`)."""
    scope = evaluation_scope(store, model, window=window, since=since, upto_seq=upto_seq)
    notes: list[str] = []

    def measure(con: Connection, version: VersionView, paths: list[Path]) -> list[WindowResult]:
        profile = parse_profile(get_dataset(store, version.train_dataset_sha256).profile)
        reference, origin = prediction_reference(store, version, profile)
        notes.append(f"{model}:{version.number}: predictions compared with {origin}")
        return window_drift(scope, con, version, paths, profile, reference)

    windows = evaluate_windows(scope, measure)
    return DriftEvaluation(
        model, scope.window.text, scope.since, windows, scope.settings.thresholds(), notes
    )
