"""The payload of each monitoring action, typed: a log's windows, alerts, ingests and retraining.

Split from `console/auditing/payloads.py` (the rest of the actions); the same conventions hold. A
leaf module (standard library only): any layer may read it.
"""

from __future__ import annotations

from typing import TypedDict


class EvaluatedWindow(TypedDict):
    window: int
    version: int
    start: str
    end: str
    rows: int
    status: str
    basis_sha256: str
    result_sha256: str


class WindowsEvaluated(TypedDict):
    model: str
    kind: str  # "drift", "performance" or "fairness"
    window: str  # its length, e.g. "7d"
    policy_sha256: str
    windows: list[EvaluatedWindow]


class AlertOpened(TypedDict):
    alert: int
    model: str
    version: int
    kind: str
    subject: str
    window_start: str
    window_end: str
    window: int
    value: float | None
    threshold: float | None
    detail: dict[str, object]


class AlertResolved(TypedDict):
    alert: int
    model: str
    reason: str
    role: str


class AlertsResolved(TypedDict):
    alerts: list[int]  # every alert closed, ascending
    incident: int | None  # the incident resolved with --incident (its lowest alert id), or null
    model: str
    reason: str
    role: str


class Backfill(TypedDict):
    reason: str  # why rows outside the serving range belong (--allow-backfill)
    before_serving: int  # rows dated before their version first served the stage
    after_now: int  # rows dated after the clock (plus its skew) at ingest


class _PredictionsIngestedKeys(TypedDict):
    log: int
    model: str
    stage: str | None  # None: no stage held a version that served (and --stage was not given)
    artifact_sha256: str
    source_name: str
    source_sha256: str
    source_format: str
    rows: int
    versions: dict[str, int]  # version -> rows it served
    first_ts: str
    last_ts: str
    with_request_ids: int
    ignored_columns: list[str]


class PredictionsIngested(_PredictionsIngestedKeys, total=False):
    # Group columns kept in the log for fairness monitoring, not model inputs (absent in logs
    # ingested before they were kept).
    sensitive_columns: list[str]
    # Present when the log was ingested with --allow-backfill (absent in logs written before).
    backfill: Backfill


class OutcomesIngested(TypedDict):
    batch: int
    model: str
    artifact_sha256: str
    source_name: str
    source_sha256: str
    outcome_column: str
    rows: int
    matched: int
    unmatched: int
    unmatched_examples: list[str]
    allow_unmatched: bool


class RetrainingRequested(TypedDict):
    job: int
    model: str
    version: int
    stage: str
    triggers: list[dict[str, object]]  # each names its "trigger" and what fired it
    policy_sha256: str


class Retrained(TypedDict):
    job: int
    model: str
    parent: int
    version: int
    data_sha256: str
    validation_run: int
    validation_status: str
    request: int | None
