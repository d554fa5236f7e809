"""Production monitoring as a report lists it: alerts, windows and jobs of one version, as rows.

Every section, finding and checklist item that speaks of production reads these functions, so a
count in one place is the number of rows in another. `alert_rows` is the one listing of alerts,
and `incident_rows` groups those rows as `console.monitoring.incidents` does (one version, one
window), so the summary's incidents and section 4's alert tables are the same alerts.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.monitoring.fairness_rows import FairnessRow, fairness_rows
from console.monitoring.views import AlertView, MonitoringSummary, WindowView
from reports.report_text import as_float, number, when

FAILING = "alert"  # the status of a window that crossed a threshold
# The alert kinds each kind of window opens.
FAMILIES = {
    "drift": ("drift.", "quality."),
    "performance": ("performance.",),
    "fairness": ("fairness.",),
}
PSI_KINDS = ("drift.psi", "drift.prediction")  # alerts raised by a PSI


@dataclass(frozen=True)
class AlertRow:
    """One monitoring alert: what crossed which threshold in which window, and its state at N."""

    id: int
    version: int
    kind: str
    feature: str
    window_start: str
    window_end: str
    value: float | None
    threshold: float | None
    state: str  # "open" or "resolved" as of the report's log size
    resolution: str  # who resolved it, when and why; empty while open
    event_seq: int

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def what(self) -> str:
        """One line: kind, feature, value against threshold, window."""
        return (
            f"v{self.version} {self.kind} {self.feature} = {number(self.value)} "
            f"(threshold {number(self.threshold)}) in the window {day(self.window_start)} to "
            f"{day(self.window_end)}"
        )

    @property
    def ref(self) -> str:
        return f"alert {self.id}, monitoring.alert_opened #{self.event_seq}"


def day(ts: str) -> str:
    return ts.partition("T")[0]


def _alert_row(alert: AlertView) -> AlertRow:
    resolution = ""
    if not alert.is_open:
        resolution = (
            f"resolved by {alert.resolved_by} at {when(alert.resolved_at)} "
            f"(#{alert.resolved_seq}): {alert.resolution}"
        )
    return AlertRow(
        alert.id,
        alert.version,
        alert.kind,
        alert.subject,
        alert.window_start,
        alert.window_end,
        alert.value,
        alert.threshold,
        alert.status,
        resolution,
        alert.event_seq,
    )


def alert_rows(
    summary: MonitoringSummary, version: int, *, open_only: bool = False
) -> list[AlertRow]:
    """The alerts of one version, oldest first (only those still open at N with `open_only`)."""
    rows = [_alert_row(a) for a in summary.alerts if a.version == version]
    return [r for r in rows if r.is_open or not open_only]


@dataclass(frozen=True)
class IncidentRow:
    """The alerts of one version over one window, as at N; numbered by its lowest alert id."""

    alerts: tuple[AlertRow, ...]  # oldest first

    @property
    def id(self) -> int:
        return self.alerts[0].id

    @property
    def version(self) -> int:
        return self.alerts[0].version

    @property
    def window(self) -> str:
        first = self.alerts[0]
        return f"{day(first.window_start)} to {day(first.window_end)}"

    @property
    def open_alerts(self) -> list[AlertRow]:
        return [a for a in self.alerts if a.is_open]

    @property
    def is_open(self) -> bool:
        return bool(self.open_alerts)

    @property
    def kinds(self) -> list[str]:
        return sorted({a.kind for a in self.alerts})

    @property
    def features(self) -> list[str]:
        return list(dict.fromkeys(a.feature for a in self.alerts))

    @property
    def worst(self) -> AlertRow:
        """The alert furthest past its threshold (value / threshold), the oldest among equals."""

        def past(a: AlertRow) -> float:
            if a.value is None or a.threshold is None:
                return 0.0
            return abs(a.value / a.threshold) if a.threshold else abs(a.value)

        return max(self.alerts, key=lambda a: (past(a), -a.id))

    @property
    def what(self) -> str:
        """One line: how many alerts, which tests on which features, the worst, the window."""
        worst = self.worst
        return (
            f"v{self.version} incident {self.id}: {len(self.alerts)} alert(s) "
            f"({len(self.open_alerts)} open) of {', '.join(self.kinds)} on "
            f"{', '.join(self.features)} in the window {self.window}; worst {worst.kind} "
            f"{worst.feature} = {number(worst.value)} (threshold {number(worst.threshold)})"
        )

    @property
    def ref(self) -> str:
        events = ", ".join(f"#{a.event_seq}" for a in self.alerts)
        ids = ", ".join(str(a.id) for a in self.alerts)
        return f"alerts {ids}; monitoring.alert_opened {events}"


def incident_rows(alerts: list[AlertRow], *, open_only: bool = False) -> list[IncidentRow]:
    """These alert rows grouped by version and window, by lowest alert id (open ones only)."""
    groups: dict[tuple[int, str, str], list[AlertRow]] = {}
    for row in sorted(alerts, key=lambda a: a.id):
        groups.setdefault((row.version, row.window_start, row.window_end), []).append(row)
    found = sorted((IncidentRow(tuple(g)) for g in groups.values()), key=lambda i: i.id)
    return [i for i in found if i.is_open or not open_only]


def windows_of(summary: MonitoringSummary, version: int, kind: str) -> list[WindowView]:
    """The recorded drift, performance or fairness windows of one version, oldest first."""
    found = {
        "drift": summary.drift_windows,
        "performance": summary.performance_windows,
        "fairness": summary.fairness_windows,
    }[kind]
    return [w for w in found if w.version == version]


def failing_windows(summary: MonitoringSummary, version: int) -> list[WindowView]:
    """Windows of one version that crossed a threshold, of every kind, by start."""
    windows = [w for kind in FAMILIES for w in windows_of(summary, version, kind)]
    return sorted(
        (w for w in windows if w.status == FAILING), key=lambda w: (w.start, w.kind, w.id)
    )


def window_alerts(summary: MonitoringSummary, window: WindowView) -> list[AlertRow]:
    return [
        r
        for r in alert_rows(summary, window.version)
        if r.window_start == window.start
        and r.kind.startswith(FAMILIES.get(window.kind, ("performance.",)))
    ]


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's production PSI and KS statistic per drift window (None: not measured)."""

    feature: str
    psi: list[float | None]
    ks: list[float | None]
    psi_alert: list[bool]  # a PSI alert (drift.psi, drift.prediction) opened in that window
    ks_alert: list[bool]  # a KS alert opened in that window

    @property
    def alerting(self) -> list[bool]:
        """Any drift alert on this feature, per window."""
        return [a or b for a, b in zip(self.psi_alert, self.ks_alert, strict=True)]


def feature_drift(
    summary: MonitoringSummary, version: int
) -> tuple[list[WindowView], list[FeatureDrift]]:
    """The drift windows of a version and, per feature (and the prediction), PSI and KS."""
    windows = windows_of(summary, version, "drift")
    alerted = {(r.window_start, r.feature, r.kind) for r in alert_rows(summary, version)}
    features: dict[str, FeatureDrift] = {}
    for i, window in enumerate(windows):
        stats: dict[str, object] = {}
        listed = window.result.get("features")
        if isinstance(listed, dict):
            stats.update(listed)
        if isinstance(window.result.get("prediction"), dict):
            stats["prediction"] = window.result["prediction"]
        for name, values in stats.items():
            entry = features.setdefault(
                name, FeatureDrift(name, [None] * i, [None] * i, [False] * i, [False] * i)
            )
            measured = values if isinstance(values, dict) else {}
            entry.psi.append(as_float(measured.get("psi")))
            entry.ks.append(as_float(measured.get("ks_statistic")))
            entry.psi_alert.append(bool({(window.start, name, k) for k in PSI_KINDS} & alerted))
            entry.ks_alert.append((window.start, name, "drift.ks") in alerted)
        for entry in features.values():  # a feature missing from this window
            while len(entry.psi) < i + 1:
                entry.psi.append(None)
                entry.ks.append(None)
                entry.psi_alert.append(False)
                entry.ks_alert.append(False)
    return windows, list(features.values())


@dataclass(frozen=True)
class MetricInWindow:
    value: float | None
    low: float | None
    high: float | None
    baseline: float | None


@dataclass(frozen=True)
class PerformanceRow:
    """A performance window: labelled rows, each metric with its 95% interval and baseline."""

    window: WindowView
    labelled: int
    metrics: dict[str, MetricInWindow]


def performance_rows(summary: MonitoringSummary, version: int) -> list[PerformanceRow]:
    rows = []
    for window in windows_of(summary, version, "performance"):
        result = window.result
        baseline = result.get("baseline")
        baseline = baseline if isinstance(baseline, dict) else {}
        metrics: dict[str, MetricInWindow] = {}
        listed = result.get("metrics")
        for name, measured in (listed if isinstance(listed, dict) else {}).items():
            measured = measured if isinstance(measured, dict) else {}
            ci = measured.get("ci95")
            low, high = (ci[0], ci[1]) if isinstance(ci, list) and len(ci) == 2 else (None, None)
            metrics[str(name)] = MetricInWindow(
                as_float(measured.get("value")),
                as_float(low),
                as_float(high),
                as_float(baseline.get(name)),
            )
        labelled = result.get("labelled")
        rows.append(
            PerformanceRow(window, labelled if isinstance(labelled, int) else window.rows, metrics)
        )
    return rows


def fairness_of(summary: MonitoringSummary, version: int) -> list[FairnessRow]:
    """The fairness windows of one version, one row per window and sensitive attribute."""
    return fairness_rows(windows_of(summary, version, "fairness"))


def monitored_versions(summary: MonitoringSummary, serving: list[int], version: int) -> list[int]:
    """The versions a report shows monitoring for: its own (when it has records) and those serving."""
    recorded = (
        {b for log in summary.logs for b in log.versions}
        | {
            w.version
            for w in summary.drift_windows + summary.performance_windows + summary.fairness_windows
        }
        | {a.version for a in summary.alerts}
    )
    wanted = set(serving) | ({version} & recorded)
    return sorted(wanted, key=lambda v: (v != version, v))
