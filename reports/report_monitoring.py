"""The production monitoring section of a model report: drift, performance, fairness, alerts
and jobs."""

from __future__ import annotations

from console.monitoring.fairness_rows import FairnessRow, Gap
from console.monitoring.settings import monitoring_settings
from console.monitoring.views import MonitoringSummary
from reports.charts import window_chart
from reports.monitoring_rows import (
    AlertRow,
    MetricInWindow,
    PerformanceRow,
    alert_rows,
    day,
    failing_windows,
    fairness_of,
    feature_drift,
    incident_rows,
    monitored_versions,
    performance_rows,
    windows_of,
)
from reports.pdf_layout import Story
from reports.pdf_styles import ALERT_FILL, WIDTH, status_cell
from reports.report_model import ModelScope
from reports.report_text import number, when

FAIRNESS_HEADERS = (
    "Window",
    "Attribute",
    "Labelled",
    "Groups",
    "Demographic parity",
    "Equal opportunity",
    "Status",
)
# Windows shown side by side in the drift table: more would not fit the page's width.
DRIFT_COLUMNS = 8


def monitoring_section(story: Story, scope: ModelScope, number_: str) -> None:
    snap, s = scope.snapshot, story.s
    story.heading(f"{number_}. Production monitoring")
    story.para(
        f"What monitoring recorded of {scope.model} in production before log size {snap.size}: "
        "prediction logs, drift windows (PSI and KS statistic of each feature in production "
        "against the training data), performance windows on labelled outcomes with 95% "
        "intervals, fairness windows (the gaps between the groups of each sensitive attribute "
        "the logs kept, measured as validation measures them), alerts with their state at that size, and retraining jobs. The holdout "
        "drift of section 3 compares validation data with training data before release; only "
        "this section speaks of production."
    )
    summary = snap.monitoring(scope.model)
    versions = monitored_versions(summary, snap.serving_versions(scope.model), scope.version)
    if not versions:
        story.para(f"No version of {scope.model} serves a stage at log size {snap.size}.", s.note)
        return
    for version in versions:
        _version_monitoring(story, scope, summary, version)


def _version_monitoring(
    story: Story, scope: ModelScope, summary: MonitoringSummary, version: int
) -> None:
    snap, s = scope.snapshot, story.s
    held = snap.held_by(scope.model, version)
    story.subheading(
        f"v{version}: " + (f"serving {', '.join(held)}" if held else "no longer serving")
    )
    logs = [b for b in summary.logs if version in b.versions]
    logged = sum(b.versions[version] for b in logs)
    drift = windows_of(summary, version, "drift")
    performance = performance_rows(summary, version)
    fairness = fairness_of(summary, version)
    failing = failing_windows(summary, version)
    alerts = alert_rows(summary, version)
    opened = [a for a in alerts if a.is_open]
    if not logs and not drift and not performance and not alerts:
        story.para(
            f"No prediction of v{version} was logged before log size {snap.size}: its "
            "behaviour in production is not monitored.",
            s.note,
        )
        return
    story.facts(
        [
            (
                "Prediction logs",
                f"{logged:,} rows of v{version} in {len(logs)} ingested log(s), "
                f"{when(min(b.first_ts for b in logs))} to {when(max(b.last_ts for b in logs))}"
                if logs
                else "none ingested",
            ),
            (
                "Windows",
                f"{len(drift)} drift, {len(performance)} performance, "
                f"{len(windows_of(summary, version, 'fairness'))} fairness; "
                f"{len(failing)} failing",
            ),
            ("Open alerts", f"{len(opened)} of {len(alerts)}"),
        ]
    )
    settings = monitoring_settings(snap.policy.policy)
    windows, features = feature_drift(summary, version)
    if windows:
        story.para(f"Drift in {len(windows)} window(s) of v{version}.", s.small)
        labels = [day(w.start) for w in windows]
        for what, series, threshold in (
            ("PSI", [(f.feature, f.psi, f.psi_alert) for f in features], settings.max_psi),
            (
                "KS statistic",
                [(f.feature, f.ks, f.ks_alert) for f in features],
                settings.max_ks_statistic,
            ),
        ):
            # a line needs two points: a feature measured once (or never) stays in the table
            series = [x for x in series if sum(v is not None for v in x[1]) >= 2]
            if series:
                story.add(window_chart(labels, series, threshold, what, WIDTH))
                story.gap(4)
        shown = list(range(len(windows)))[-DRIFT_COLUMNS:]
        if len(shown) < len(windows):
            story.para(f"The table shows the last {len(shown)} of {len(windows)} windows.", s.small)
        share = 0.8 / len(shown)
        story.grid(
            ["Feature", *(day(windows[i].start)[5:] for i in shown)],
            [
                [
                    f.feature,
                    *(
                        f"{_fixed(f.psi[i])}\n{_fixed(f.ks[i])}" + (" !" if f.alerting[i] else "")
                        for i in shown
                    ),
                ]
                for f in features
            ],
            [0.2, *([share] * len(shown))],
        )
        story.para(
            f"Columns: the windows starting {day(windows[shown[0]].start)} to "
            f"{day(windows[shown[-1]].start)} (month-day). Each cell: PSI above, KS statistic "
            "below (- where the test does not apply); a ! marks a window in which the feature "
            "opened an alert.",
            s.small,
        )
    _performance(story, performance, version)
    _fairness(story, fairness, version)
    _alerts(story, scope, alerts, version)
    _jobs(story, summary, version)


def _performance(story: Story, rows: list[PerformanceRow], version: int) -> None:
    s = story.s
    story.para(f"{len(rows)} performance window(s) of v{version}.", s.small)
    if not rows:
        return
    names = sorted({name for row in rows for name in row.metrics})
    share = 0.6 / max(len(names), 1)
    story.grid(
        ["Window", "Labelled", *(f"{n} [95% interval] (baseline)" for n in names), "Status"],
        [
            [
                f"{day(r.window.start)} to {day(r.window.end)}",
                f"{r.labelled:,}",
                *(_metric(r.metrics.get(n)) for n in names),
                status_cell(s, "FAIL" if r.window.status == "alert" else r.window.status),
            ]
            for r in rows
        ],
        [0.18, 0.1, *([share] * len(names)), 0.12],
        fills={i: ALERT_FILL for i, r in enumerate(rows) if r.window.status == "alert"},
    )


def _fairness(story: Story, rows: list[FairnessRow], version: int) -> None:
    s = story.s
    attributes = sorted({r.attribute for r in rows})
    story.para(
        f"Fairness of v{version} in {len({r.start for r in rows})} window(s)"
        + (f" over {', '.join(attributes)}" if attributes else "")
        + ": demographic parity and equal opportunity differences [95% interval].",
        s.small,
    )
    if not rows:
        return
    story.grid(
        [*FAIRNESS_HEADERS],
        [
            [
                f"{day(r.start)} to {day(r.end)}",
                r.attribute,
                f"{r.labelled:,}",
                str(r.groups) if r.groups is not None else "-",
                _gap(r.gaps["demographic_parity"]),
                _gap(r.gaps["equal_opportunity"]),
                status_cell(s, "FAIL" if r.failed else r.status),
            ]
            for r in rows
        ],
        [0.2, 0.14, 0.1, 0.08, 0.17, 0.17, 0.14],
        fills={i: ALERT_FILL for i, r in enumerate(rows) if r.failed},
    )


def _gap(gap: Gap) -> str:
    interval = f" [{number(gap.low)}, {number(gap.high)}]" if gap.low is not None else ""
    return f"{number(gap.value)}{interval}"


def _metric(metric: MetricInWindow | None) -> str:
    if metric is None:
        return "-"
    interval = f" [{number(metric.low)}, {number(metric.high)}]" if metric.low is not None else ""
    base = f" ({number(metric.baseline)})" if metric.baseline is not None else ""
    return f"{number(metric.value)}{interval}{base}"


def _alerts(story: Story, scope: ModelScope, alerts: list[AlertRow], version: int) -> None:
    """The alerts of a version grouped by incident (one window each), a table per incident."""
    s, size = story.s, scope.snapshot.size
    opened = sum(1 for a in alerts if a.is_open)
    incidents = incident_rows(alerts)
    story.para(
        f"{len(alerts)} alert(s) on v{version}, {opened} open at log size {size}, in "
        f"{len(incidents)} incident(s) (the alerts of one window; "
        "`signoff monitor resolve --incident N` closes one with a single reason).",
        s.small,
    )
    for incident in incidents:
        still = len(incident.open_alerts)
        story.para(
            f"Incident {incident.id}, window {incident.window}: {len(incident.alerts)} "
            f"alert(s), {still} open; {', '.join(incident.kinds)}.",
            s.small,
        )
        rows = list(incident.alerts)
        story.grid(
            ["Alert", "Kind", "Feature", "Value", "Threshold", "State", "Event"],
            [
                [
                    f"alert {a.id}",
                    a.kind,
                    a.feature,
                    number(a.value),
                    number(a.threshold),
                    status_cell(s, "OPEN") if a.is_open else a.resolution,
                    f"#{a.event_seq}",
                ]
                for a in rows
            ],
            [0.09, 0.17, 0.19, 0.09, 0.1, 0.27, 0.09],
            fills={i: ALERT_FILL for i, a in enumerate(rows) if a.is_open},
        )


def _jobs(story: Story, summary: MonitoringSummary, version: int) -> None:
    jobs = [j for j in summary.jobs if j.version == version]
    story.para(f"{len(jobs)} retraining job(s) for v{version}.", story.s.small)
    if not jobs:
        return
    story.grid(
        ["Job", "Opened", "Triggers", "Status", "Result"],
        [
            [
                f"job {j.id}",
                f"by {j.created_by} at {when(j.created_at)} (#{j.event_seq})",
                "; ".join(_trigger(t) for t in j.triggers),
                j.status,
                f"v{j.result_version}, request {j.request_id} (#{j.closed_seq})"
                if j.result_version is not None
                else "-",
            ]
            for j in jobs
        ],
        [0.08, 0.26, 0.3, 0.1, 0.26],
    )


def _trigger(trigger: dict[str, object]) -> str:
    """A job's trigger and the alerts that raised it."""
    alerts = trigger.get("alerts")
    named = f": alerts {', '.join(str(a) for a in alerts)}" if isinstance(alerts, list) else ""
    return f"{trigger.get('trigger')}{named}"


def _fixed(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
