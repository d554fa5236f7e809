"""Read models of monitoring for the CLI, the console and the reports.

Every row carries the sequence number of the event that recorded it, so a report made at log
size N reads `upto_seq=N`: only rows whose event is among the first N, and an alert or job's
status as it was then (a resolution or retraining recorded at N or later does not count yet).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlmodel import Session, col, select

from console.monitoring.logs import (
    LogBatch,
    OutcomeBatchView,
    log_batches_in,
    outcome_batches_in,
)
from console.registry.lookup import require_model
from console.store.db import Store
from console.store.models import MonitoringAlert, MonitoringWindow, RetrainingJob

OPEN, RESOLVED, RETRAINED = "open", "resolved", "retrained"
Tracked = TypeVar("Tracked", MonitoringAlert, RetrainingJob)


class _Tracking(Protocol):
    @property
    def status(self) -> str: ...


Viewed = TypeVar("Viewed", bound=_Tracking)


@dataclass(frozen=True)
class AlertView:
    id: int
    model: str
    version: int
    kind: str
    subject: str
    window_start: str
    window_end: str
    window_id: int
    value: float | None
    threshold: float | None
    detail: dict[str, object]
    status: str
    opened_at: str
    opened_by: str
    event_seq: int
    resolved_at: str | None
    resolved_by: str | None
    resolution: str
    resolved_seq: int | None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class JobView:
    id: int
    model: str
    version: int
    stage: str | None
    triggers: list[dict[str, object]]
    status: str
    created_at: str
    created_by: str
    event_seq: int
    result_version: int | None
    request_id: int | None
    closed_at: str | None
    closed_by: str | None
    closed_seq: int | None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class WindowView:
    id: int
    model: str
    version: int
    kind: str
    start: str
    end: str
    rows: int
    status: str
    result: dict[str, object]
    basis_sha256: str
    recorded_at: str
    recorded_by: str
    event_seq: int

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def alert_view(row: MonitoringAlert, upto_seq: int | None) -> AlertView:
    resolved = row.resolved_seq is not None and (upto_seq is None or row.resolved_seq < upto_seq)
    return AlertView(
        id=row.id,
        model=row.model,
        version=row.version,
        kind=row.kind,
        subject=row.subject,
        window_start=row.window_start,
        window_end=row.window_end,
        window_id=row.window_id,
        value=row.value,
        threshold=row.threshold,
        detail=json.loads(row.detail),
        status=RESOLVED if resolved else OPEN,
        opened_at=row.opened_at,
        opened_by=row.opened_by,
        event_seq=row.event_seq,
        resolved_at=row.resolved_at if resolved else None,
        resolved_by=row.resolved_by if resolved else None,
        resolution=row.resolution if resolved else "",
        resolved_seq=row.resolved_seq if resolved else None,
    )


def _recorded_in(
    session: Session,
    table: type[Tracked],
    view: Callable[[Tracked, int | None], Viewed],
    model: str | None,
    status: str | None,
    upto_seq: int | None,
) -> list[Viewed]:
    """Rows of an alert or job table, oldest first, as views of their state at `upto_seq`."""
    query = select(table)
    if model is not None:
        query = query.where(table.model == model)
    if upto_seq is not None:
        query = query.where(col(table.event_seq) < upto_seq)
    views = [view(row, upto_seq) for row in session.exec(query.order_by(col(table.id)))]
    return [v for v in views if status is None or v.status == status]


def alerts_in(
    session: Session,
    model: str | None = None,
    *,
    status: str | None = None,
    upto_seq: int | None = None,
) -> list[AlertView]:
    return _recorded_in(session, MonitoringAlert, alert_view, model, status, upto_seq)


def list_alerts(
    store: Store,
    model: str | None = None,
    *,
    status: str | None = None,
    upto_seq: int | None = None,
) -> list[AlertView]:
    """Alerts oldest first; `status` "open" or "resolved" as of event `upto_seq`."""
    with store.session() as session:
        if model is not None:
            require_model(session, model)
        return alerts_in(session, model, status=status, upto_seq=upto_seq)


def job_view(row: RetrainingJob, upto_seq: int | None) -> JobView:
    closed = row.closed_seq is not None and (upto_seq is None or row.closed_seq < upto_seq)
    return JobView(
        id=row.id,
        model=row.model,
        version=row.version,
        stage=row.stage,
        triggers=json.loads(row.triggers),
        status=row.status if closed else OPEN,
        created_at=row.created_at,
        created_by=row.created_by,
        event_seq=row.event_seq,
        result_version=row.result_version if closed else None,
        request_id=row.request_id if closed else None,
        closed_at=row.closed_at if closed else None,
        closed_by=row.closed_by if closed else None,
        closed_seq=row.closed_seq if closed else None,
    )


def jobs_in(
    session: Session,
    model: str | None = None,
    *,
    status: str | None = None,
    upto_seq: int | None = None,
) -> list[JobView]:
    return _recorded_in(session, RetrainingJob, job_view, model, status, upto_seq)


def list_jobs(
    store: Store,
    model: str | None = None,
    *,
    status: str | None = None,
    upto_seq: int | None = None,
) -> list[JobView]:
    """Retraining jobs oldest first; `status` "open" or "retrained" as of event `upto_seq`."""
    with store.session() as session:
        if model is not None:
            require_model(session, model)
        return jobs_in(session, model, status=status, upto_seq=upto_seq)


def windows_in(
    session: Session,
    model: str,
    *,
    kind: str | None = None,
    upto_seq: int | None = None,
    latest_only: bool = True,
) -> list[WindowView]:
    query = select(MonitoringWindow).where(MonitoringWindow.model == model)
    if kind is not None:
        query = query.where(MonitoringWindow.kind == kind)
    if upto_seq is not None:
        query = query.where(MonitoringWindow.event_seq < upto_seq)
    found = session.exec(query.order_by(col(MonitoringWindow.id))).all()
    views = [
        WindowView(
            r.id,
            r.model,
            r.version,
            r.kind,
            r.window_start,
            r.window_end,
            r.rows,
            r.status,
            json.loads(r.result),
            r.basis_sha256,
            r.recorded_at,
            r.recorded_by,
            r.event_seq,
        )
        for r in found
    ]
    if latest_only:  # a window re-evaluated on more data supersedes its earlier record
        latest = {(v.kind, v.version, v.start, v.end): v for v in views}
        views = sorted(latest.values(), key=lambda v: (v.start, v.version, v.kind))
    return views


def recorded_windows(
    store: Store,
    model: str,
    *,
    kind: str | None = None,
    upto_seq: int | None = None,
    latest_only: bool = True,
) -> list[WindowView]:
    """The recorded drift/performance/fairness windows of a model (the latest record of each window)."""
    with store.session() as session:
        return windows_in(session, model, kind=kind, upto_seq=upto_seq, latest_only=latest_only)


@dataclass(frozen=True)
class FeatureSeries:
    """One feature's PSI per recorded drift window of one version (None: not comparable)."""

    version: int
    feature: str
    starts: list[str]
    psi: list[float | None]
    alerting: list[bool]


def drift_series(
    store: Store, model: str, *, version: int | None = None, upto_seq: int | None = None
) -> list[FeatureSeries]:
    """Per feature (and the prediction), PSI over the recorded windows, oldest first."""
    windows = [
        w
        for w in recorded_windows(store, model, kind="drift", upto_seq=upto_seq)
        if version is None or w.version == version
    ]
    alerted = {
        (a.version, a.window_start, a.subject)
        for a in list_alerts(store, model, upto_seq=upto_seq)
        if a.kind.startswith("drift.")
    }
    series: dict[tuple[int, str], FeatureSeries] = {}
    for window in windows:
        features = dict(window.result.get("features") or {})  # type: ignore[call-overload]
        if "prediction" in window.result:
            features["prediction"] = window.result["prediction"]
        for name, stats in features.items():
            entry = series.setdefault(
                (window.version, name), FeatureSeries(window.version, name, [], [], [])
            )
            value = stats.get("psi") if isinstance(stats, dict) else None
            entry.starts.append(window.start)
            entry.psi.append(float(value) if isinstance(value, int | float) else None)
            entry.alerting.append((window.version, window.start, name) in alerted)
    return list(series.values())


@dataclass(frozen=True)
class MonitoringSummary:
    """What monitoring knew of a model at log size `upto_seq` (None: now), for reports."""

    model: str
    upto_seq: int | None
    logs: list[LogBatch]
    outcomes: list[OutcomeBatchView]
    drift_windows: list[WindowView]
    performance_windows: list[WindowView]
    alerts: list[AlertView]
    jobs: list[JobView]
    series: list[FeatureSeries] = field(default_factory=list)
    fairness_windows: list[WindowView] = field(default_factory=list)

    @property
    def open_alerts(self) -> list[AlertView]:
        return [a for a in self.alerts if a.is_open]

    @property
    def open_jobs(self) -> list[JobView]:
        return [j for j in self.jobs if j.status == OPEN]

    @property
    def logged_rows(self) -> int:
        return sum(b.rows for b in self.logs)

    @property
    def labelled_rows(self) -> int:
        return sum(b.matched for b in self.outcomes)

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "upto_seq": self.upto_seq,
            "logs": [b.as_dict() for b in self.logs],
            "outcomes": [b.as_dict() for b in self.outcomes],
            "drift_windows": [w.as_dict() for w in self.drift_windows],
            "performance_windows": [w.as_dict() for w in self.performance_windows],
            "fairness_windows": [w.as_dict() for w in self.fairness_windows],
            "alerts": [a.as_dict() for a in self.alerts],
            "jobs": [j.as_dict() for j in self.jobs],
        }


def monitoring_summary(store: Store, model: str, upto_seq: int | None = None) -> MonitoringSummary:
    """Logs, outcomes, recorded windows, alerts and retraining jobs of `model`, as of event N."""
    with store.session() as session:
        logs = log_batches_in(session, model, upto_seq=upto_seq)
        outcomes = outcome_batches_in(session, model, upto_seq=upto_seq)
        drift = windows_in(session, model, kind="drift", upto_seq=upto_seq)
        performance = windows_in(session, model, kind="performance", upto_seq=upto_seq)
        fairness = windows_in(session, model, kind="fairness", upto_seq=upto_seq)
        alerts = alerts_in(session, model, upto_seq=upto_seq)
        jobs = jobs_in(session, model, upto_seq=upto_seq)
    series = drift_series(store, model, upto_seq=upto_seq)
    return MonitoringSummary(
        model, upto_seq, logs, outcomes, drift, performance, alerts, jobs, series, fairness
    )
