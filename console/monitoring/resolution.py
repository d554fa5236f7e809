"""Closing alerts with a person's reason: one or several ids, or a whole incident, one event.

Every resolution is one transaction with one signed `monitoring.alerts_resolved` event naming
the alerts it closes, so an incident of 29 alerts is closed by one reason, once. Everything is
checked before anything is written: an unknown id, an alert already resolved, alerts of more
than one model or an empty reason refuse the whole request (exit 2) and nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.auditing.state_check import prove_model
from console.errors import BadInput, NotFound
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.monitoring.incidents import incident_in
from console.monitoring.views import RESOLVED, AlertView, alert_view
from console.store.db import Store
from console.store.models import MonitoringAlert


@dataclass(frozen=True)
class Resolution:
    """What one resolution closed, and the event that says so."""

    model: str
    incident: int | None
    alerts: list[AlertView]
    reason: str
    event_seq: int

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "incident": self.incident,
            "alerts": [a.as_dict() for a in self.alerts],
            "reason": self.reason,
            "event_seq": self.event_seq,
        }


def _check_reason(reason: str) -> None:
    if not reason.strip():
        raise BadInput("resolving alerts needs --reason saying what was found or done")
    check_text("the reason", reason, multiline=True)


def _rows(session: Session, ids: Sequence[int]) -> list[MonitoringAlert]:
    """The alert rows, their model proven from the log; or BadInput naming every id that is
    unknown, of another model or resolved already."""
    if not ids:
        raise BadInput("name the alerts to resolve (ids, or --incident N)")
    unique = sorted(set(ids))
    rows = {i: session.get(MonitoringAlert, i) for i in unique}
    unknown = [str(i) for i, row in rows.items() if row is None]
    if unknown:
        raise NotFound(
            f"no alert {', '.join(unknown)}; nothing was resolved (see `signoff monitor alerts`)"
        )
    found = [row for row in rows.values() if row is not None]
    models = sorted({row.model for row in found})
    if len(models) > 1:
        raise BadInput(
            f"the alerts belong to several models ({', '.join(models)}); "
            "resolve each model's alerts with its own reason"
        )
    prove_model(session, models[0])  # the alerts' state is the log's, not an edit
    done = [f"{row.id} (by {row.resolved_by})" for row in found if row.status == RESOLVED]
    if done:
        raise BadInput(
            f"alert {', '.join(done)} is resolved already; nothing was resolved "
            "(leave resolved alerts out)"
        )
    return found


def _resolve_in(
    session: Session,
    signer: Signer,
    now: str,
    role: str,
    rows: list[MonitoringAlert],
    incident: int | None,
    reason: str,
) -> Resolution:
    model = rows[0].model
    ids = [row.id for row in rows]
    subject = f"incident:{incident}" if incident is not None else f"alert:{ids[0]}"
    event = append_event(
        session,
        signer,
        actions.MONITORING_ALERTS_RESOLVED,
        subject,
        {"alerts": ids, "incident": incident, "model": model, "reason": reason, "role": role},
        ts=now,
        model=model,
    )
    for row in rows:
        row.status = RESOLVED
        row.resolved_at = now
        row.resolved_by = signer.name
        row.resolution = reason
        row.resolved_seq = event.seq
        session.add(row)
    session.flush()
    return Resolution(model, incident, [alert_view(r, None) for r in rows], reason, event.seq)


def resolve_alerts(
    store: Store,
    signer: Signer,
    ids: Sequence[int],
    reason: str,
) -> Resolution:
    """Close these open alerts of one model with one reason; one audited transaction."""
    _check_reason(reason)
    with store.session() as session:
        actor = require_actor(session, signer, Permission.RESOLVE_ALERT)
        rows = _rows(session, ids)
        return _resolve_in(session, signer, store.clock(), actor.role, rows, None, reason)


def resolve_incident(store: Store, signer: Signer, number: int, reason: str) -> Resolution:
    """Close every open alert of incident `number` with one reason; one audited transaction."""
    _check_reason(reason)
    with store.session() as session:
        actor = require_actor(session, signer, Permission.RESOLVE_ALERT)
        incident = incident_in(session, number)
        prove_model(session, incident.model)
        if not incident.is_open:
            raise BadInput(f"incident {number} is resolved already; nothing was resolved")
        rows = _rows(session, [a.id for a in incident.open_alerts])
        return _resolve_in(session, signer, store.clock(), actor.role, rows, number, reason)


def resolve_alert(store: Store, signer: Signer, alert_id: int, reason: str) -> AlertView:
    """Close one open alert with a reason (the one-id form of `resolve_alerts`)."""
    return resolve_alerts(store, signer, [alert_id], reason).alerts[0]
