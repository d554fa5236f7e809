"""Recording evaluations: new or changed windows, and an alert per new crossing, audited.

Idempotent: a window whose statistics rest on the same logs, outcomes, policy and window length
as its last record is not recorded again, and an alert exists at most once per version, window,
kind and feature (resolved alerts are not reopened). A run that finds nothing new writes
nothing, not even an event, so `signoff monitor check` may run from cron.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, select

from audit.canonical import canonical_json
from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.monitoring.views import AlertView, alert_view
from console.monitoring.windows import WindowResult
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import MonitoringAlert, MonitoringWindow
from console.validation.checks import finite, plain


@dataclass(frozen=True)
class Recorded:
    """What one recording added: windows (ids), alerts, and the evaluation event."""

    windows: list[int] = field(default_factory=list)
    alerts: list[AlertView] = field(default_factory=list)
    event_seq: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "windows": self.windows,
            "alerts": [a.as_dict() for a in self.alerts],
            "event_seq": self.event_seq,
        }


def record_windows_in(
    session: Session,
    signer: Signer,
    now: str,
    model: str,
    kind: str,
    window: str,
    policy_sha256: str,
    windows: Sequence[WindowResult],
) -> Recorded:
    """Inside the caller's transaction: the new windows, their event and their new alerts."""
    latest: dict[tuple[str, int, str, str], str] = {}
    for row in session.exec(
        select(MonitoringWindow)
        .where(MonitoringWindow.model == model, MonitoringWindow.kind == kind)
        .order_by(MonitoringWindow.id)  # type: ignore[arg-type]
    ).all():
        latest[(row.kind, row.version, row.window_start, row.window_end)] = row.basis_sha256
    fresh = [w for w in windows if latest.get(w.key) != w.basis_sha256]
    if not fresh:
        return Recorded()
    first = next_id(session, MonitoringWindow)
    rows: list[MonitoringWindow] = []
    entries: list[dict[str, object]] = []
    for offset, result in enumerate(fresh):
        body = canonical_json(plain(result.result))
        entries.append(
            {
                "window": first + offset,
                "version": result.version,
                "start": result.start,
                "end": result.end,
                "rows": result.rows,
                "status": result.status,
                "basis_sha256": result.basis_sha256,
                "result_sha256": hashlib.sha256(body).hexdigest(),
            }
        )
        rows.append(
            MonitoringWindow(
                id=first + offset,
                model=model,
                version=result.version,
                kind=kind,
                window_start=result.start,
                window_end=result.end,
                rows=result.rows,
                basis_sha256=result.basis_sha256,
                status=result.status,
                result=body.decode(),
                recorded_at=now,
                recorded_by=signer.name,
                event_seq=-1,
            )
        )
    event = append_event(
        session,
        signer,
        actions.EVALUATED[kind],
        f"{model}:monitoring",
        {
            "model": model,
            "kind": kind,
            "window": window,
            "policy_sha256": policy_sha256,
            "windows": entries,
        },
        ts=now,
        model=model,
    )
    for row in rows:
        row.event_seq = event.seq
        session.add(row)
    session.flush()
    existing = {
        (a.version, a.kind, a.subject, a.window_start, a.window_end)
        for a in session.exec(select(MonitoringAlert).where(MonitoringAlert.model == model)).all()
    }
    opened: list[AlertView] = []
    for row, result in zip(rows, fresh, strict=True):
        for crossing in result.crossings:
            key = (result.version, crossing.kind, crossing.subject, result.start, result.end)
            if key in existing:
                continue
            existing.add(key)
            alert_id = next_id(session, MonitoringAlert)
            alert_event = append_event(
                session,
                signer,
                actions.MONITORING_ALERT_OPENED,
                f"alert:{alert_id}",
                plain(
                    {
                        "alert": alert_id,
                        "model": model,
                        "version": result.version,
                        "kind": crossing.kind,
                        "subject": crossing.subject,
                        "window_start": result.start,
                        "window_end": result.end,
                        "window": row.id,
                        "value": finite(crossing.value),
                        "threshold": finite(crossing.threshold),
                        "detail": crossing.detail,
                    }
                ),
                ts=now,
                model=model,
            )
            alert = MonitoringAlert(
                id=alert_id,
                model=model,
                version=result.version,
                kind=crossing.kind,
                subject=crossing.subject,
                window_start=result.start,
                window_end=result.end,
                window_id=row.id,
                value=finite(crossing.value),
                threshold=finite(crossing.threshold),
                detail=canonical_json(plain(crossing.detail)).decode(),
                status="open",
                opened_at=now,
                opened_by=signer.name,
                event_seq=alert_event.seq,
            )
            session.add(alert)
            session.flush()
            opened.append(alert_view(alert, None))
    return Recorded([r.id for r in rows], opened, event.seq)


def record_windows(
    store: Store,
    signer: Signer,
    model: str,
    kind: str,
    window: str,
    policy_sha256: str,
    windows: Sequence[WindowResult],
) -> Recorded:
    """One transaction: require the role, then record what is new (nothing if nothing is)."""
    with store.session() as session:
        require_actor(session, signer, Permission.EVALUATE)
        return record_windows_in(
            session, signer, store.clock(), model, kind, window, policy_sha256, windows
        )
