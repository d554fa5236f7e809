"""Fairness per version and window on the outcomes that arrived, per sensitive attribute.

Logged rows are joined to their outcomes by request id in DuckDB (as performance does); only a
window's labelled rows (prediction, outcome, score, group) reach numpy. Each attribute a log
kept (console.monitoring.sensitive) is measured by validation's own functions
(`console.validation.fairness`: one copy of each metric): demographic parity and equal
opportunity differences with bootstrap intervals for classifiers, per-group errors for
regressors. A binary classifier's decision is its score against the policy's decision_threshold
when every labelled row has a score, else the logged prediction.

A window alerts (`fairness.<metric>`, subject = the attribute) when a difference exceeds the
policy's bound, as a validation check fails. Windows with fewer than min_window_rows labelled
rows are insufficient and never alert; an attribute with one group in a window has nothing to
compare and no value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from audit.canonical import canonical_json
from console.analytics import Connection, ident, parquet_source, rows
from console.errors import BadInput
from console.freetext import shown
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
from console.monitoring.performance import OUTCOME_FILE, validation_baseline
from console.monitoring.settings import Window
from console.monitoring.windows import Crossing, WindowResult, bucket_sql
from console.registry.views import VersionView, get_model
from console.release.policy import load_policy
from console.release.policy_rules import FairnessBound
from console.store.db import Store
from console.validation.checks import FAIL, Check

GROUP = "_group"
# The policy bound of each gap metric validation computes (console.validation.fairness.METRICS).
BOUNDS = {
    "demographic_parity": "max_demographic_parity_difference",
    "equal_opportunity": "max_equal_opportunity_difference",
}


@dataclass(frozen=True)
class FairnessEvaluation:
    model: str
    window: str
    since: str | None
    attributes: list[str]
    decision_threshold: float
    thresholds: dict[str, float]
    windows: list[WindowResult]
    notes: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "window": self.window,
            "since": self.since,
            "attributes": self.attributes,
            "decision_threshold": self.decision_threshold,
            "thresholds": self.thresholds,
            "windows": [w.as_dict() for w in self.windows],
            "notes": self.notes,
        }


def logged_attributes(scope: EvaluationScope, asked: Sequence[str] | None) -> list[str]:
    """The attributes to measure: those asked for (each kept by some log), else every kept one."""
    kept = list(dict.fromkeys(c for b in scope.batches for c in b.sensitive))
    if asked:
        for column in asked:
            if column not in kept:
                known = ", ".join(shown(c) for c in kept) or "none"
                raise BadInput(
                    f"no prediction log of {scope.model} keeps the sensitive column "
                    f"{shown(column)!r} (kept: {known}); ingest logs with --sensitive "
                    f"{shown(column)}"
                )
        return list(dict.fromkeys(asked))
    if not kept:
        raise BadInput(
            f"no prediction log of {scope.model} keeps a sensitive column; ingest logs with "
            "`signoff monitor ingest --sensitive COL` to monitor fairness"
        )
    return kept


def _classes(known: list[str] | None, positive: str | None, seen: Sequence[str]) -> list[str]:
    """The class order validation's functions expect: a binary model's positive class second."""
    classes = list(dict.fromkeys([*(known or []), *sorted(set(seen))]))
    if len(classes) == 2 and positive in classes:
        classes = [c for c in classes if c != positive] + [str(positive)]
    return classes


def _check_entry(check: Check) -> dict[str, object]:
    return {
        "value": check.value,
        "threshold": check.threshold,
        "status": check.status,
        "detail": check.detail.content(),
    }


def attribute_result(
    task: str,
    data: dict[str, np.ndarray[Any, Any]],
    classes: list[str] | None,
    positive: str | None,
    thresholds: dict[str, float],
    column: str,
    bound: FairnessBound | None = None,
) -> tuple[dict[str, object], list[Crossing]]:
    """One attribute in one window: validation's fairness checks on its labelled rows (under the
    policy's own bound for the attribute, when it has one)."""
    import pandas as pd

    from console.validation.bootstrap import BootstrapPlan
    from console.validation.fairness import classification_fairness, regression_fairness

    groups = pd.Series(np.asarray(data[GROUP]).astype(str))
    outcome = np.asarray(data[OUTCOME])
    entry: dict[str, object] = {"labelled": int(outcome.size)}
    if task != "classification":
        checks = regression_fairness(
            outcome.astype(np.float64),
            np.asarray(data[PREDICTION], dtype=np.float64),
            groups,
            column,
        )
        entry["groups"] = _check_entry(checks[0])
        return entry, []
    predicted = np.asarray(data[PREDICTION]).astype(str)
    truth = outcome.astype(str)
    order = _classes(classes, positive, [*truth, *predicted])
    score = np.asarray(data[SCORE], dtype=np.float64)
    cut = thresholds["decision_threshold"]
    if len(order) == 2 and positive == order[1] and bool(np.isfinite(score).all()):
        predicted = np.where(score > cut, order[1], order[0])
        entry["decision"] = f"score > {cut:g}"
    else:
        entry["decision"] = "logged prediction"
    index = {label: i for i, label in enumerate(order)}
    codes = np.vectorize(index.__getitem__, otypes=[np.intp])
    checks = classification_fairness(
        codes(truth),
        codes(predicted),
        groups,
        order,
        BootstrapPlan(rows=int(truth.size)),
        thresholds,
        column,
        bound=bound,
    )
    crossings: list[Crossing] = []
    entry["groups"] = _check_entry(checks[0])
    for check in checks[1:]:
        metric = check.name.removeprefix("fairness.")
        entry[metric] = _check_entry(check)
        if check.status == FAIL and check.value is not None and check.threshold is not None:
            detail = check.detail.content()
            crossings.append(
                Crossing(f"fairness.{metric}", column, check.value, check.threshold, detail)
            )
    return entry, crossings


def _joined(scope: EvaluationScope, view: VersionView, logs: str, outcomes: str, group: str) -> str:
    return (
        f"(SELECT {bucket_sql(scope.window)} AS w, l.{PREDICTION}, l.{SCORE}, l.{FILE_COLUMN}, "
        f"{group} AS {GROUP}, o.{OUTCOME}, o.{OUTCOME_FILE} "
        f"FROM (SELECT * FROM {logs} WHERE {scope.version_filter(view.number)}) l "
        f"LEFT JOIN {outcomes} o ON l.{REQUEST_ID} = o.{REQUEST_ID})"
    )


def _version_windows(
    scope: EvaluationScope,
    con: Connection,
    view: VersionView,
    paths: list[Path],
    outcome_paths: list[Path],
    attributes: list[str],
    classes: list[str] | None,
    thresholds: dict[str, float],
    bounds: dict[str, FairnessBound],
) -> list[WindowResult]:
    from console.validation.dataset import MISSING_GROUP

    positive = validation_baseline(scope.store, view).positive_label
    outcomes = (
        f"(SELECT {REQUEST_ID}, {OUTCOME}, file_index AS {OUTCOME_FILE} "
        f"FROM {parquet_source(outcome_paths)})"
        if outcome_paths
        else f"(SELECT NULL::VARCHAR AS {REQUEST_ID}, NULL::VARCHAR AS {OUTCOME}, "
        f"NULL::BIGINT AS {OUTCOME_FILE} WHERE false)"
    )
    logs = f"(SELECT *, file_index AS {FILE_COLUMN} FROM {parquet_source(paths)})"
    summary = rows(
        con,
        f"SELECT w, count(*), count({OUTCOME}), list(DISTINCT {FILE_COLUMN}), "
        f"list(DISTINCT {OUTCOME_FILE}) FILTER (WHERE {OUTCOME_FILE} IS NOT NULL) "
        f"FROM {_joined(scope, view, logs, outcomes, 'NULL')} GROUP BY w ORDER BY w",
        f"joining outcomes of {scope.model}:{view.number}",
    )
    per_window: dict[object, tuple[dict[str, object], list[Crossing]]] = {
        row[0]: ({}, []) for row in summary
    }
    by_digest = {p.name: p for p in paths}
    for column in attributes:
        carrying = [
            by_digest[b.artifact_sha256]
            for b in scope.batches
            if column in b.sensitive and b.artifact_sha256 in by_digest
        ]
        if not carrying:
            continue
        source = f"(SELECT *, file_index AS {FILE_COLUMN} FROM {parquet_source(carrying)})"
        group = f"coalesce(CAST(l.{ident(column)} AS VARCHAR), '{MISSING_GROUP}')"
        joined = _joined(scope, view, source, outcomes, group)
        data = con.execute(
            f"SELECT w, {PREDICTION}, {OUTCOME}, coalesce({SCORE}, 'NaN'::DOUBLE) AS {SCORE}, "
            f"{GROUP} FROM {joined} WHERE {OUTCOME} IS NOT NULL ORDER BY w"
        ).fetchnumpy()
        starts = np.asarray(data["w"])
        for start, (found, crossings) in per_window.items():
            mask = starts == np.datetime64(start)  # type: ignore[call-overload]
            if not mask.any():
                found[column] = {"labelled": 0, "note": "no labelled rows carry this attribute"}
                continue
            window_data = {k: np.asarray(v)[mask] for k, v in data.items()}
            entry, crossed = attribute_result(
                view.task_type,
                window_data,
                classes,
                positive,
                thresholds,
                column,
                bounds.get(column),
            )
            found[column] = entry
            crossings += crossed
    results: list[WindowResult] = []
    for row in summary:
        logged, labelled = int(str(row[1])), int(str(row[2]))
        files = file_names(paths, row[3]) + file_names(outcome_paths, row[4])
        found, crossings = per_window[row[0]]
        result: dict[str, object] = {"rows": logged, "labelled": labelled, "attributes": found}
        window = scope.window_result(
            "fairness", view.number, row[0], labelled, result, crossings, files
        )
        results.append(replace(window, basis_sha256=_basis(window.basis_sha256, attributes)))
    return results


def _basis(windows_basis: str, attributes: Sequence[str]) -> str:
    """The window's basis (files, policy, length) and the attributes measured on it."""
    data = {"basis": windows_basis, "attributes": list(attributes)}
    return hashlib.sha256(canonical_json(data)).hexdigest()


def evaluate_fairness(
    store: Store,
    model: str,
    *,
    window: Window | None = None,
    since: str | None = None,
    upto_seq: int | None = None,
    sensitive: Sequence[str] | None = None,
) -> FairnessEvaluation:
    """Fairness per served version, window and attribute (logs and outcomes before `upto_seq`)."""
    from console.monitoring.labels import known_classes
    from console.validation.thresholds import effective_thresholds

    scope = evaluation_scope(store, model, window=window, since=since, upto_seq=upto_seq)
    attributes = logged_attributes(scope, sensitive)
    policy = load_policy(store)
    thresholds = effective_thresholds(policy)
    bounds = {b.attribute: b for b in policy.fairness_bounds}
    labels = outcome_batches(store, model, upto_seq=upto_seq)
    notes: list[str] = []
    if not labels:
        notes.append(f"no outcomes for {model} yet; ingest them with `signoff monitor labels`")
    outcome_paths = verified_paths(store, [b.artifact_sha256 for b in labels])
    view = get_model(store, model)
    with store.session() as session:
        classes = known_classes(session, view)

    def measure(con: Connection, version: VersionView, paths: list[Path]) -> list[WindowResult]:
        return _version_windows(
            scope, con, version, paths, outcome_paths, attributes, classes, thresholds, bounds
        )

    windows = evaluate_windows(scope, measure)
    return FairnessEvaluation(
        model=model,
        window=scope.window.text,
        since=scope.since,
        attributes=attributes,
        decision_threshold=thresholds["decision_threshold"],
        thresholds={m: thresholds[k] for m, k in BOUNDS.items()},
        windows=windows,
        notes=notes,
    )
