"""The monitoring rows the log proves: evaluated windows, alerts opened and closed, retraining jobs.

Split from `console/auditing/projection.py`, which runs these handlers in its one replay.
"""

from __future__ import annotations

from collections.abc import Callable

from console.auditing import catalogue as actions
from console.auditing.projected_rows import Projection, as_int, as_text
from console.auditing.replay_entries import Event


def _windows(p: Projection, e: Event) -> None:
    entries = e.payload.get("windows")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        p.table("monitoring_windows")[(as_int(entry.get("window")),)] = {
            "model": e.payload.get("model"),
            "version": as_int(entry.get("version")),
            "kind": e.payload.get("kind"),
            "window_start": entry.get("start"),
            "window_end": entry.get("end"),
            "rows": as_int(entry.get("rows")),
            "basis_sha256": entry.get("basis_sha256"),
            "status": entry.get("status"),
            "result_sha256": entry.get("result_sha256"),
            "recorded_at": e.ts,
            "recorded_by": e.actor,
            "event_seq": e.seq,
        }


def _alert_opened(p: Projection, e: Event) -> None:
    payload = e.payload
    p.table("monitoring_alerts")[(as_int(payload.get("alert")),)] = {
        "model": payload.get("model"),
        "version": as_int(payload.get("version")),
        "kind": payload.get("kind"),
        "subject": payload.get("subject"),
        "window_start": payload.get("window_start"),
        "window_end": payload.get("window_end"),
        "window_id": as_int(payload.get("window")),
        "value": payload.get("value"),
        "threshold": payload.get("threshold"),
        "detail": as_text(payload.get("detail")),
        "status": "open",
        "opened_at": e.ts,
        "opened_by": e.actor,
        "event_seq": e.seq,
        "resolved_at": None,
        "resolved_by": None,
        "resolution": "",
        "resolved_seq": None,
    }


def _close_alert(p: Projection, e: Event, alert: object) -> None:
    row = p.table("monitoring_alerts").get((as_int(alert),))
    if row is not None:
        row.update(
            status="resolved",
            resolved_at=e.ts,
            resolved_by=e.actor,
            resolution=e.payload.get("reason", ""),
            resolved_seq=e.seq,
        )


def _alert_resolved(p: Projection, e: Event) -> None:
    _close_alert(p, e, e.payload.get("alert"))


def _alerts_resolved(p: Projection, e: Event) -> None:
    alerts = e.payload.get("alerts")
    for alert in alerts if isinstance(alerts, list) else []:
        _close_alert(p, e, alert)


def _job_requested(p: Projection, e: Event) -> None:
    payload = e.payload
    p.table("retraining_jobs")[(as_int(payload.get("job")),)] = {
        "model": payload.get("model"),
        "version": as_int(payload.get("version")),
        "stage": payload.get("stage"),
        "triggers": as_text(payload.get("triggers", [])),
        "status": "open",
        "created_at": e.ts,
        "created_by": e.actor,
        "event_seq": e.seq,
        "result_version": None,
        "request_id": None,
        "closed_at": None,
        "closed_by": None,
        "closed_seq": None,
    }


def _job_closed(p: Projection, e: Event) -> None:
    row = p.table("retraining_jobs").get((as_int(e.payload.get("job")),))
    if row is not None:
        row.update(
            status="retrained",
            result_version=as_int(e.payload.get("version")),
            request_id=as_int(e.payload.get("request")),
            closed_at=e.ts,
            closed_by=e.actor,
            closed_seq=e.seq,
        )


MONITORING_HANDLERS: dict[str, Callable[[Projection, Event], None]] = {
    "monitoring.drift_evaluated": _windows,
    "monitoring.performance_evaluated": _windows,
    "monitoring.fairness_evaluated": _windows,
    "monitoring.alert_opened": _alert_opened,
    actions.MONITORING_ALERT_RESOLVED: _alert_resolved,  # logs written before alerts_resolved
    actions.MONITORING_ALERTS_RESOLVED: _alerts_resolved,
    "monitoring.retraining_requested": _job_requested,
    "monitoring.retrained": _job_closed,
}
