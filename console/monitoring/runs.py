"""What `signoff monitor drift`, `performance` and `fairness` do: evaluate, record (when someone acts), and
say which alerts are open for the windows evaluated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from audit.keys import Signer
from console.monitoring.drift import DriftEvaluation, evaluate_drift
from console.monitoring.fairness import FairnessEvaluation, evaluate_fairness
from console.monitoring.performance import PerformanceEvaluation, evaluate_performance
from console.monitoring.record import Recorded, record_windows
from console.monitoring.settings import Window, monitoring_settings
from console.monitoring.views import OPEN, AlertView, list_alerts
from console.monitoring.windows import Crossing, WindowResult
from console.release.policy import load_policy
from console.store.db import Store

_FAMILIES = {
    "drift": ("drift.", "quality."),
    "performance": ("performance.",),
    "fairness": ("fairness.",),
}
Evaluation = DriftEvaluation | PerformanceEvaluation | FairnessEvaluation


@dataclass(frozen=True)
class MonitorRun:
    """An evaluation, what was recorded of it (None: nobody acted), and its open alerts."""

    kind: str
    evaluation: Evaluation
    recorded: Recorded | None
    open_alerts: list[AlertView]
    unrecorded: list[tuple[WindowResult, Crossing]] = field(default_factory=list)

    @property
    def alerting(self) -> bool:
        return bool(self.open_alerts or self.unrecorded)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "evaluation": self.evaluation.as_dict(),
            "recorded": self.recorded.as_dict() if self.recorded is not None else None,
            "open_alerts": [a.as_dict() for a in self.open_alerts],
            "unrecorded_crossings": [
                {"version": w.version, "window_start": w.start, **c.as_dict()}
                for w, c in self.unrecorded
            ],
        }


def monitor(
    store: Store,
    signer: Signer | None,
    model: str,
    kind: str,
    *,
    window: Window | None = None,
    since: str | None = None,
    sensitive: Sequence[str] | None = None,
) -> MonitorRun:
    """Evaluate drift, performance or fairness (over the `sensitive` attributes, default every
    one the logs kept); record new windows and alerts when `signer` is given."""
    evaluation: Evaluation
    if kind == "drift":
        evaluation = evaluate_drift(store, model, window=window, since=since)
    elif kind == "fairness":
        evaluation = evaluate_fairness(
            store, model, window=window, since=since, sensitive=sensitive
        )
    else:
        evaluation = evaluate_performance(store, model, window=window, since=since)
    recorded: Recorded | None = None
    if signer is not None:
        settings = monitoring_settings(load_policy(store))
        recorded = record_windows(
            store,
            signer,
            model,
            kind,
            evaluation.window,
            settings.policy_sha256,
            evaluation.windows,
        )
    keys = {(w.version, w.start, w.end) for w in evaluation.windows}
    families = _FAMILIES[kind]
    existing = [
        a
        for a in list_alerts(store, model)
        if (a.version, a.window_start, a.window_end) in keys and a.kind.startswith(families)
    ]
    open_alerts = [a for a in existing if a.status == OPEN]
    known = {(a.version, a.kind, a.subject, a.window_start, a.window_end) for a in existing}
    unrecorded = [
        (w, c)
        for w in evaluation.windows
        for c in w.crossings
        if (w.version, c.kind, c.subject, w.start, w.end) not in known
    ]
    return MonitorRun(kind, evaluation, recorded, open_alerts, unrecorded)
