"""Monitoring: drift per feature over time, open incidents, fairness per window, retraining
jobs, a running canary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Sparkline, Static

from console.errors import SignoffError
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.widgets.bars import bar, sparkline
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.text import PlainTable
from console.tui.widgets.titlebar import TitleBar

if TYPE_CHECKING:
    from console.monitoring.compare import CompareResult
    from console.monitoring.fairness_rows import FairnessRow
    from console.monitoring.incidents import Incident
    from console.monitoring.views import FeatureSeries, JobView


@dataclass(frozen=True)
class ModelRow:
    name: str
    serving: str
    logged: int
    open_alerts: int
    open_jobs: int


MODELS_TITLE = "Models with monitoring records (enter: monitor this one)"


@dataclass
class MonitoringLoaded(Message):
    """The worker read the store: every model's headline, and the selected model's details."""

    models: list[ModelRow]
    model: str | None
    series: list[FeatureSeries]
    incidents: list[Incident]
    jobs: list[JobView]
    canary: list[str]
    unmonitored: int
    max_psi: float
    fairness: list[FairnessRow]


def _canary_lines(result: CompareResult) -> list[str]:
    share = f" at {result.canary_share}%" if result.canary_share is not None else ""
    lines = [
        f"{result.stage}: champion v{result.champion.version} vs canary "
        f"v{result.canary.version}{share} ({result.metric})",
        f"  champion {_number(result.champion.value)} on {result.champion.rows} outcomes, "
        f"canary {_number(result.canary.value)} on {result.canary.rows}",
    ]
    if result.difference is not None and result.ci95 is not None:
        lines.append(
            f"  difference {result.difference:+.4f} (95% CI {result.ci95[0]:+.4f} to "
            f"{result.ci95[1]:+.4f}), p {result.p_value:.3g}"
        )
    lines.append(f"  → {result.recommendation.upper()}: {result.reason}")
    if result.command:
        lines.append(f"    {result.command}")
    return lines


def _alert_count(incident: Incident) -> str:
    total, still = len(incident.alerts), len(incident.open_alerts)
    return f"{total}" if still == total else f"{still}/{total}"


def _number(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else "-"


class MonitoringScreen(SignoffScreen):
    """Production monitoring of one model at a time (pick it on the left)."""

    BINDINGS = [
        Binding("r", "reload", "Reload", id="monitoring.reload", tooltip="Read the store again"),
        Binding(
            "f",
            "focus_features",
            "Features",
            id="monitoring.features",
            tooltip="Browse features; the trend shows the highlighted one",
        ),
        Binding(
            "s",
            "focus_models",
            "Select model",
            id="monitoring.models",
            tooltip="Choose the model to monitor (enter)",
        ),
    ]

    def __init__(self, model: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.series: list[FeatureSeries] = []
        self._prepared = False  # the panels are mounted (hidden until the data comes)
        self._ready = False  # they show

    def compose(self) -> ComposeResult:
        # The drift, alert, job and canary panels mount hidden after the first frame, while the
        # worker reads, and show with their data (see `show`): the first frame is the model
        # list and a line, not four empty tables, and the data's step only fills them.
        yield TitleBar()
        with Vertical(id="monitoring"):
            with Vertical(id="monitoring-models", classes="panel"):
                yield Static(MODELS_TITLE, id="monitoring-models-title", classes="pane-title")
                yield PlainTable(id="monitoring-model-table", cursor_type="row")
            yield Static("reading the monitoring records …", id="monitoring-waiting")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#monitoring-model-table", DataTable).add_columns(
            "Model", "Serving", "Logged", "Open alerts", "Open jobs"
        )
        super().on_mount()  # the first load starts after the first frame; the panels then too
        self.call_after_refresh(self._prepare_panels)

    @staticmethod
    def _panels() -> list[Widget]:
        def panel(panel_id: str, title: str, table_id: str) -> Vertical:
            return Vertical(
                Static(title, classes="pane-title"),
                PlainTable(id=table_id, cursor_type="row"),
                id=panel_id,
                classes="panel",
            )

        drift = Vertical(
            Static("", id="monitoring-drift-title", classes="pane-title", markup=False),
            PlainTable(id="monitoring-features", cursor_type="row"),
            Static("", id="monitoring-trend-label", markup=False),
            Sparkline([], id="monitoring-trend"),
            id="monitoring-drift",
            classes="panel",
        )
        side = Vertical(
            panel("monitoring-alerts", "Open incidents", "monitoring-alert-table"),
            panel(
                "monitoring-fairness",
                "Fairness per window (newest first)",
                "monitoring-fairness-table",
            ),
            panel("monitoring-jobs", "Retraining jobs", "monitoring-job-table"),
            id="monitoring-side",
        )
        canary = Vertical(
            Static("Canary", classes="pane-title"),
            Static("", id="monitoring-canary-text", markup=False),
            id="monitoring-canary",
            classes="panel",
        )
        return [Horizontal(drift, side, id="monitoring-middle"), canary]

    async def _prepare_panels(self) -> None:
        """Mount the panels hidden, with their columns (once): after the first frame, while
        the worker reads; `show` runs after it (the screen handles one message at a time)."""
        if self._prepared:
            return
        self._prepared = True
        panels = self._panels()
        for panel in panels:
            panel.display = False
        await self.query_one("#monitoring", Vertical).mount_all(panels)
        self.query_one("#monitoring-features", DataTable).add_columns(
            "Feature", "Trend", "Latest", "vs limit"
        )
        self.query_one("#monitoring-alert-table", DataTable).add_columns(
            "#", "Window", "Alerts", "Features", "Worst"
        )
        self.query_one("#monitoring-fairness-table", DataTable).add_columns(
            "Window", "Attribute", "DP diff", "EO diff", "Status"
        )
        self.query_one("#monitoring-job-table", DataTable).add_columns(
            "Job", "Version", "Triggers", "Status", "Candidate"
        )

    async def _show_panels(self) -> None:
        """The panels in place of the waiting line (once)."""
        await self._prepare_panels()
        if self._ready:
            return
        self._ready = True
        await self.query_one("#monitoring-waiting", Static).remove()
        for panel in ("#monitoring-middle", "#monitoring-canary"):
            self.query_one(panel).display = True

    def action_reload(self) -> None:
        self.reload()

    def action_focus_features(self) -> None:
        if self._ready:
            self.query_one("#monitoring-features", DataTable).focus()

    def action_focus_models(self) -> None:
        self.query_one("#monitoring-model-table", DataTable).focus()

    def reload(self) -> None:
        super().reload()
        self.load(self.model)

    @work(thread=True, exclusive=True, exit_on_error=False, group="monitoring")
    @reads_store
    def load(self, model: str | None) -> None:
        # Imported here, in the worker: DuckDB's Parquet readers stay off the first frame.
        from console.monitoring.compare import canary_state, compare_canary
        from console.monitoring.fairness_rows import fairness_rows
        from console.monitoring.incidents import group_incidents
        from console.monitoring.overview import monitoring_overview
        from console.monitoring.settings import monitoring_settings
        from console.monitoring.views import monitoring_summary
        from console.release.policy import load_policy

        store = self.store
        policy = load_policy(store)
        last_stage = policy.stage_names[-1]
        overview = monitoring_overview(store, last_stage)
        rows = [
            ModelRow(
                m.name,
                f"v{m.serving} in {last_stage}" if m.serving is not None else "-",
                m.logged_rows,
                m.open_alerts,
                m.open_jobs,
            )
            for m in overview.models
        ]
        names = [r.name for r in rows]
        if model is None or model not in names:
            logged = [r.name for r in rows if r.logged]
            model = logged[0] if logged else (names[0] if names else None)
        canary: list[str] = []
        series: list[FeatureSeries] = []
        incidents: list[Incident] = []
        jobs: list[JobView] = []
        fairness: list[FairnessRow] = []
        if model is not None:
            summary = monitoring_summary(store, model)
            series, jobs = summary.series, summary.jobs
            incidents = [i for i in group_incidents(summary.alerts) if i.is_open]
            fairness = fairness_rows(summary.fairness_windows)[::-1]
            for stage in policy.stage_names:
                if canary_state(store, model, stage) is None:
                    continue
                try:
                    canary += _canary_lines(compare_canary(store, model, stage))
                except SignoffError as exc:
                    canary.append(f"{stage}: a canary runs; {exc.message}")
        max_psi = monitoring_settings(policy).max_psi
        self.post_message(
            MonitoringLoaded(
                rows,
                model,
                series,
                incidents,
                jobs,
                canary,
                overview.unmonitored_serving,
                max_psi,
                fairness,
            )
        )

    @on(MonitoringLoaded)
    async def show(self, data: MonitoringLoaded) -> None:
        await self._show_panels()
        self.model = data.model
        self.series = data.series
        title = MODELS_TITLE
        if data.unmonitored:
            title += f" · {data.unmonitored} more serve without logs"
        self.query_one("#monitoring-models-title", Static).update(title)
        models = self.query_one("#monitoring-model-table", DataTable)
        models.clear()
        for row in data.models:
            models.add_row(
                row.name,
                row.serving,
                f"{row.logged:,}",
                Text(str(row.open_alerts), style="bold red" if row.open_alerts else ""),
                str(row.open_jobs),
                key=row.name,
            )
        if data.model is not None and data.model in [r.name for r in data.models]:
            models.move_cursor(row=[r.name for r in data.models].index(data.model))
        self._show_features(data)
        alerts = self.query_one("#monitoring-alert-table", DataTable)
        alerts.clear()
        # The latest window first, not by number: an incident is numbered by its first alert,
        # and fairness alerts recorded after later weeks' drift alerts number older windows.
        latest_first = sorted(data.incidents, key=lambda i: (i.window_start, i.id), reverse=True)
        for incident in latest_first:
            worst = incident.worst
            alerts.add_row(
                str(incident.id),
                f"{incident.window_start[:10]} v{incident.version}",
                Text(_alert_count(incident), style="bold red"),
                ", ".join(incident.subjects),
                f"{worst.kind} {worst.value:.3f} > {worst.threshold:.3f}"
                if worst.value is not None and worst.threshold is not None
                else worst.kind,
            )
        if not data.incidents:
            alerts.add_row("-", "", "", "no open incidents", "")
        self._show_fairness(data.fairness)
        jobs = self.query_one("#monitoring-job-table", DataTable)
        jobs.clear()
        for job in data.jobs:
            jobs.add_row(
                str(job.id),
                f"v{job.version}",
                ", ".join(str(t.get("trigger")) for t in job.triggers),
                Text(job.status, style="bold yellow" if job.is_open else "green"),
                f"v{job.result_version} (request {job.request_id})" if job.result_version else "-",
            )
        if not data.jobs:
            jobs.add_row("-", "", "no retraining jobs", "", "")
        versions = sorted({entry.version for entry in data.series})
        self.query_one("#monitoring-drift-title", Static).update(
            f"Drift of {data.model or '-'} "
            + ("v" + ", v".join(map(str, versions)) + " " if versions else "")
            + f"(PSI by window; limit {data.max_psi})"
        )
        canary = "\n".join(data.canary) or "no canary running for this model"
        self.query_one("#monitoring-canary-text", Static).update(canary)
        title = f"monitoring · {data.model}" if data.model else "monitoring"
        self.sub_title = title

    def _show_fairness(self, rows: list[FairnessRow]) -> None:
        table = self.query_one("#monitoring-fairness-table", DataTable)
        table.clear()
        several = len({r.version for r in rows}) > 1
        for row in rows:
            gaps = [row.gaps["demographic_parity"], row.gaps["equal_opportunity"]]
            table.add_row(
                row.start[:10] + (f" v{row.version}" if several else ""),
                row.attribute,
                *(
                    Text(
                        f"{g.value:.3f}" if g.value is not None else "-",
                        style="bold red" if g.failed and not row.insufficient else "",
                    )
                    for g in gaps
                ),
                Text(row.status, style="bold red" if row.failed else ""),
            )
        if not rows:
            table.add_row("-", "no fairness recorded", "`signoff monitor fairness`", "", "")

    def _show_features(self, data: MonitoringLoaded) -> None:
        table = self.query_one("#monitoring-features", DataTable)
        table.clear()
        limit = data.max_psi
        several = len({entry.version for entry in data.series}) > 1
        for index, entry in enumerate(data.series):
            values = [v if v is not None else 0.0 for v in entry.psi]
            latest = entry.psi[-1] if entry.psi else None
            alerting = bool(entry.alerting and entry.alerting[-1])
            table.add_row(
                f"{entry.feature} v{entry.version}" if several else entry.feature,
                Text(sparkline(values, top=max(2 * limit, *values)), style="cyan"),
                Text(
                    f"{latest:.3f}" if latest is not None else "-",
                    style="bold red" if alerting else "",
                ),
                bar(latest or 0.0, 2 * limit, 10, mark=limit, style="red" if alerting else "cyan"),
                key=str(index),
            )
        if not data.series:
            table.add_row("no drift recorded yet", "`signoff monitor drift`", "", "")
        self._show_trend(0)

    def _show_trend(self, index: int) -> None:
        label = self.query_one("#monitoring-trend-label", Static)
        trend = self.query_one("#monitoring-trend", Sparkline)
        if not 0 <= index < len(self.series):
            label.update("")
            trend.data = []
            return
        entry = self.series[index]
        values = [v if v is not None else 0.0 for v in entry.psi]
        first, last = entry.starts[0][:10], entry.starts[-1][:10]
        label.update(
            f"{entry.feature} (v{entry.version}): PSI per window {first} → {last}, "
            f"peak {max(values):.3f}"
        )
        trend.data = values

    @on(DataTable.RowHighlighted, "#monitoring-features")
    def feature_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and key.isdigit():
            self._show_trend(int(key))

    @on(DataTable.RowSelected, "#monitoring-model-table")
    def model_selected(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value
        if name is not None and name != self.model:
            self.model = name
            self.load(name)
