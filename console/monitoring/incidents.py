"""Incidents: the alerts of one version and window read as one thing to work on, not 29 rows.

An incident is derived, never stored: the alerts of one model version over one window (same
model, version, window start and end), drift, quality, performance and fairness together. Its
number is its lowest alert id, so `incident 12` stays the same however many alerts join it
later; it is
open while any of its alerts is open. Alert rows stay the audited record; this module only
groups them (and reads them as of a log size, like every monitoring view).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from console.errors import NotFound
from console.monitoring.views import OPEN, RESOLVED, AlertView, alerts_in
from console.registry.lookup import require_model
from console.store.db import Store
from console.store.models import MonitoringAlert

IncidentKey = tuple[str, int, str, str]  # model, version, window start, window end


def incident_key(alert: AlertView) -> IncidentKey:
    return (alert.model, alert.version, alert.window_start, alert.window_end)


def severity(alert: AlertView) -> float:
    """How far past its threshold an alert is (value / threshold); 0 when it has no number."""
    if alert.value is None or alert.threshold is None:
        return 0.0
    if alert.threshold == 0:
        return abs(alert.value)
    return abs(alert.value / alert.threshold)


@dataclass(frozen=True)
class Incident:
    """The alerts of one version over one window, oldest first."""

    id: int  # its lowest alert id
    model: str
    version: int
    window_start: str
    window_end: str
    alerts: tuple[AlertView, ...]

    @property
    def status(self) -> str:
        return OPEN if any(a.is_open for a in self.alerts) else RESOLVED

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def alert_ids(self) -> list[int]:
        return [a.id for a in self.alerts]

    @property
    def open_alerts(self) -> list[AlertView]:
        return [a for a in self.alerts if a.is_open]

    @property
    def subjects(self) -> list[str]:
        """The features and metrics it concerns, in the order their alerts opened."""
        return list(dict.fromkeys(a.subject for a in self.alerts))

    @property
    def kinds(self) -> list[str]:
        """The tests that fired (drift.psi, performance.decay, fairness.demographic_parity, ...), sorted."""
        return sorted({a.kind for a in self.alerts})

    @property
    def worst(self) -> AlertView:
        """The alert furthest past its threshold (the oldest among equals)."""
        return max(self.alerts, key=lambda a: (severity(a), -a.id))

    def summary(self) -> str:
        """One line: what fired, on what, and how badly."""
        worst = self.worst
        subjects = self.subjects
        shown = ", ".join(subjects[:4]) + (
            f" and {len(subjects) - 4} more" if len(subjects) > 4 else ""
        )
        text = f"{len(self.alerts)} alert(s) ({', '.join(self.kinds)}) on {shown}"
        if worst.value is not None and worst.threshold is not None:
            text += (
                f"; worst {worst.kind} {worst.subject} {worst.value:.4g} vs {worst.threshold:.4g}"
            )
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "incident": self.id,
            "model": self.model,
            "version": self.version,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "status": self.status,
            "alerts": self.alert_ids,
            "open_alerts": [a.id for a in self.open_alerts],
            "subjects": self.subjects,
            "kinds": self.kinds,
            "worst": {
                "alert": self.worst.id,
                "kind": self.worst.kind,
                "subject": self.worst.subject,
                "value": self.worst.value,
                "threshold": self.worst.threshold,
            },
        }


def group_incidents(alerts: Iterable[AlertView]) -> list[Incident]:
    """The incidents these alerts form, by their lowest alert id."""
    groups: dict[IncidentKey, list[AlertView]] = {}
    for alert in sorted(alerts, key=lambda a: a.id):
        groups.setdefault(incident_key(alert), []).append(alert)
    incidents = [
        Incident(members[0].id, *key, alerts=tuple(members)) for key, members in groups.items()
    ]
    return sorted(incidents, key=lambda i: i.id)


def _only(incidents: Sequence[Incident], status: str | None) -> list[Incident]:
    return [i for i in incidents if status is None or i.status == status]


def incidents_in(
    session: Session,
    model: str | None = None,
    *,
    status: str | None = None,
    upto_seq: int | None = None,
) -> list[Incident]:
    """Inside a session: incidents oldest first, `status` "open" or "resolved" as at `upto_seq`."""
    return _only(group_incidents(alerts_in(session, model, upto_seq=upto_seq)), status)


def list_incidents(
    store: Store,
    model: str | None = None,
    *,
    status: str | None = None,
    upto_seq: int | None = None,
) -> list[Incident]:
    """Incidents oldest first; `status` "open" or "resolved" as of event `upto_seq`."""
    with store.session() as session:
        if model is not None:
            require_model(session, model)
        return incidents_in(session, model, status=status, upto_seq=upto_seq)


def incident_in(session: Session, number: int) -> Incident:
    """The incident numbered `number` (its lowest alert id), or NotFound naming the right one."""
    row = session.get(MonitoringAlert, number)
    if row is None:
        raise NotFound(f"no incident {number}; see `signoff monitor incidents`")
    for incident in group_incidents(alerts_in(session, row.model)):
        if number in incident.alert_ids:
            if incident.id != number:
                raise NotFound(
                    f"alert {number} belongs to incident {incident.id}; "
                    f"resolve it with --incident {incident.id}"
                )
            return incident
    raise NotFound(f"no incident {number}; see `signoff monitor incidents`")  # pragma: no cover
