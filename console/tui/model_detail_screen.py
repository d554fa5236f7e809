"""One model: its versions, and the selected version's card, validation, lineage, history, drift."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Markdown,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, get_current_worker

from console.deployments import HistoryEntry, history
from console.evidence import CheckView, ValidationView, latest_validation
from console.registry import ModelView, VersionView, get_dataset, get_model
from console.store.db import Store
from console.store.models import Dataset
from console.tui.bars import bar, sparkline, status_text
from console.tui.base import SignoffScreen

# Headline metrics, in the order the versions table shows them (two at most).
HEADLINE = {
    "roc_auc": "auc",
    "accuracy": "acc",
    "f1": "f1",
    "r2": "r²",
    "rmse": "rmse",
    "mae": "mae",
}
TABS = ("card", "validation", "lineage", "history", "drift")


@dataclass
class ModelLoaded(Message):
    model: ModelView
    runs: dict[int, ValidationView | None]
    history: list[HistoryEntry]


@dataclass
class VersionLoaded(Message):
    version: VersionView
    run: ValidationView | None
    card: str
    dataset: Dataset


def key_metrics(version: VersionView, run: ValidationView | None) -> str:
    """Two headline metrics: the latest run's when there is one, else the training ones."""
    found = run.summary.get("metrics") if run is not None else None
    metrics = found if isinstance(found, dict) and found else version.metrics
    shown = [
        f"{short} {float(metrics[name]):.3f}" for name, short in HEADLINE.items() if name in metrics
    ]
    return " ".join(shown[:2]) + ("" if run is not None else " (train)")


def card_markdown(store: Store, model: str, version: int) -> str | None:
    """The card rendered by `reports`, without its YAML front matter; None if unavailable."""
    try:
        from reports.card_data import build_card
        from reports.card_markdown import render_markdown
    except ImportError:
        return None
    text = render_markdown(build_card(store, model, version))
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end >= 0:
            text = text[end + 5 :]
    return text.lstrip("\n")


def fields_markdown(version: VersionView) -> str:
    """The version's own fields, when the card renderer is not installed."""
    rows = [
        ("Estimator", version.estimator_class),
        ("Task", f"{version.task_type} of `{version.target}`"),
        ("Registered", f"{version.created_at[:19].replace('T', ' ')} by {version.author}"),
        ("Stages", ", ".join(version.stages) or "none"),
        ("Description", version.description or "-"),
    ]
    lines = [f"# {version.model} v{version.number}", "", "| Field | Value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"


def check_bar(check: CheckView, width: int = 16) -> Text:
    """Value against threshold; shares and scores in [0, 1] on a fixed scale."""
    value, threshold = check.value, check.threshold
    if value is None:
        return Text("")
    unit = 0.0 <= value <= 1.0 and (threshold is None or 0.0 <= threshold <= 1.0)
    if not unit and threshold is None:
        return Text("")  # nothing to compare a raw error with
    scale = 1.0 if unit else max(abs(value), abs(threshold or 0.0)) * 1.25 or 1.0
    style = {"fail": "red", "warn": "yellow", "pass": "green"}.get(check.status, "cyan")
    return bar(abs(value), scale, width, mark=threshold, style=style)


def _check_order(check: CheckView) -> tuple[int, int, str]:
    """Failures and warnings first, then in the order the validation report lists them."""
    from console.validation.checks import CATEGORIES

    severity = {"fail": 0, "warn": 1}.get(check.status, 2)
    category = CATEGORIES.index(check.category) if check.category in CATEGORIES else 99
    return severity, category, check.name


def _note(check: CheckView) -> str:
    note = check.detail.get("note")
    return str(note) if note is not None else ""


def _shares(check: CheckView, key: str) -> list[float]:
    values = check.detail.get(key)
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, int | float)]


class ModelDetailScreen(SignoffScreen):
    """Versions on top; below, tabs about the highlighted version."""

    AUTO_FOCUS = "#detail-versions"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back", tooltip="Back to models"),
        Binding("1", "tab('card')", "Card", id="detail.card", tooltip="The model card"),
        Binding(
            "2", "tab('validation')", "Validation", id="detail.validation", tooltip="Latest run"
        ),
        Binding("3", "tab('lineage')", "Lineage", id="detail.lineage", tooltip="Data and parents"),
        Binding(
            "4", "tab('history')", "History", id="detail.history", tooltip="Requests and stages"
        ),
        Binding("5", "tab('drift')", "Drift", id="detail.drift", tooltip="PSI per feature"),
        Binding("r", "reload", "Reload", id="detail.reload", tooltip="Read the store again"),
    ]

    def __init__(self, model_name: str) -> None:
        super().__init__()
        self.model_name = model_name
        self.model: ModelView | None = None
        self.versions: list[VersionView] = []
        self.selected: int | None = None
        # The card's Markdown takes a moment to lay out: render it only when its tab shows.
        self.card_text = ""
        self.card_shown: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.model_name, id="detail-title", classes="pane-title one-line")
        yield DataTable(id="detail-versions", cursor_type="row", zebra_stripes=True)
        with TabbedContent(id="detail-tabs", initial="card"):
            with TabPane("Card", id="card"), VerticalScroll(id="card-scroll"):
                yield Markdown("loading…", id="card-body")
            with TabPane("Validation", id="validation"):
                yield Static("", id="validation-summary", classes="tab-summary")
                yield DataTable(id="validation-checks", cursor_type="row", zebra_stripes=True)
            with TabPane("Lineage", id="lineage"), VerticalScroll():
                yield Static("", id="lineage-body")
            with TabPane("History", id="history"):
                yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Drift", id="drift"):
                yield Static("", id="drift-summary", classes="tab-summary")
                yield DataTable(id="drift-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail-versions", DataTable).add_columns(
            "Version", "Stages", "Key metrics", "Validation", "Estimator"
        )
        self.query_one("#validation-checks", DataTable).add_columns(
            "Check", "Status", "Value", "Threshold", "vs threshold", "Note"
        )
        self.query_one("#history-table", DataTable).add_columns(
            "Seq", "When", "Who", "What", "Detail"
        )
        self.query_one("#drift-table", DataTable).add_columns(
            "Feature", "PSI", "PSI vs max", "Status", "KS p", "Validation data vs training"
        )
        super().on_mount()

    # ---- loading ----------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # StateChanged does not bubble: hand failures to the app's one handler.
        event.prevent_default()
        self.signoff.on_worker_state_changed(event)

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load(self) -> None:
        model = get_model(self.store, self.model_name)
        runs = {v.number: latest_validation(self.store, v.model, v.number) for v in model.versions}
        entries = history(self.store, self.model_name)
        if not get_current_worker().is_cancelled:  # a newer load replaced this one
            self.post_message(ModelLoaded(model, runs, entries))

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail-version")
    def load_version(self, version: VersionView) -> None:
        run = latest_validation(self.store, version.model, version.number)
        card = card_markdown(self.store, version.model, version.number)
        dataset = get_dataset(self.store, version.train_dataset_sha256)
        if get_current_worker().is_cancelled:
            return  # a newer version was selected
        self.post_message(
            VersionLoaded(
                version, run, card if card is not None else fields_markdown(version), dataset
            )
        )

    # ---- the model and its versions -----------------------------------------------------------

    @on(ModelLoaded)
    def show_model(self, data: ModelLoaded) -> None:
        model = self.model = data.model
        self.versions = list(reversed(model.versions))
        stages = ", ".join(f"{s} v{v}" for s, v in sorted(model.stages.items()) if v) or "no stage"
        self.query_one("#detail-title", Static).update(
            f"{model.name}  ·  {stages}  ·  {model.risk_tier} risk  ·  owner {model.owner}"
        )
        table = self.query_one("#detail-versions", DataTable)
        table.clear()
        for version in self.versions:
            run = data.runs.get(version.number)
            verdict = status_text(run.status) + f" run {run.id}" if run else Text("not run", "dim")
            table.add_row(
                f"v{version.number}",
                ", ".join(version.stages) or "-",
                key_metrics(version, run),
                verdict,
                version.estimator_class.rsplit(".", 1)[-1],
                key=str(version.number),
            )
        numbers = [v.number for v in self.versions]
        if self.selected not in numbers:
            self.selected = numbers[0] if numbers else None
        if self.selected is not None:
            table.move_cursor(row=numbers.index(self.selected))
            self.load_version(self.versions[numbers.index(self.selected)])
        self._show_history(data.history)

    @on(DataTable.RowHighlighted, "#detail-versions")
    def version_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not 0 <= event.cursor_row < len(self.versions):
            return
        version = self.versions[event.cursor_row]
        if version.number != self.selected:
            self.selected = version.number
            self.load_version(version)

    @on(DataTable.RowSelected, "#detail-versions")
    def version_selected(self, _event: DataTable.RowSelected) -> None:
        self.query_one("#detail-tabs", TabbedContent).focus()

    def action_tab(self, tab: str) -> None:
        if tab in TABS:
            self.query_one("#detail-tabs", TabbedContent).active = tab

    # ---- the selected version -----------------------------------------------------------------

    @on(VersionLoaded)
    async def show_version(self, data: VersionLoaded) -> None:
        if data.version.number != self.selected:
            return  # the cursor moved on while this version loaded
        self.card_text = data.card
        self._show_validation(data.version, data.run)
        self._show_lineage(data.version, data.dataset)
        self._show_drift(data.run)
        await self._show_card()

    @on(TabbedContent.TabActivated, "#detail-tabs")
    async def tab_activated(self, _event: TabbedContent.TabActivated) -> None:
        await self._show_card()

    async def _show_card(self) -> None:
        tabs = self.query_one("#detail-tabs", TabbedContent)
        if tabs.active == "card" and self.card_text and self.card_shown != self.card_text:
            self.card_shown = self.card_text
            await self.query_one("#card-body", Markdown).update(self.card_text)

    def _show_validation(self, version: VersionView, run: ValidationView | None) -> None:
        table = self.query_one("#validation-checks", DataTable)
        table.clear()
        summary = self.query_one("#validation-summary", Static)
        if run is None:
            summary.update(
                f"v{version.number} has no validation run yet: "
                f"`signoff validate {version.model}:{version.number} --data FILE`"
            )
            return
        counts = run.summary.get("counts")
        tally = (
            "  ".join(f"{n} {s}" for s, n in sorted(counts.items()) if n)
            if isinstance(counts, dict)
            else ""
        )
        rows = run.summary.get("rows", "?")
        summary.update(
            Text.assemble(
                f"Run {run.id}  ",
                status_text(run.status),
                f"  on {run.dataset_name} ({rows} rows)  by {run.actor}  "
                f"{run.finished_at[:16].replace('T', ' ')}  ·  {tally}",
            )
        )
        drift = run.by_category("drift")
        for check in sorted(run.checks, key=_check_order):
            if check.category == "drift":
                continue
            table.add_row(
                check.name,
                status_text(check.status),
                _number(check.value),
                _number(check.threshold),
                check_bar(check),
                _note(check),
            )
        if drift:
            failing = [c for c in drift if c.status in ("fail", "warn")]
            worst = max(
                (c for c in drift if c.name.startswith("drift.psi.") and c.value is not None),
                key=lambda c: c.value or 0.0,
                default=None,
            )
            note = (
                f"worst PSI {worst.name.removeprefix('drift.psi.')} {worst.value:.3f}; "
                if worst
                else ""
            )
            table.add_row(
                f"drift.* ({len(drift)} checks)",
                status_text("fail" if any(c.status == "fail" for c in drift) else "warn")
                if failing
                else status_text("pass"),
                "",
                "",
                "",
                f"{note}{len(failing)} fail/warn: see the Drift tab (5)",
            )

    def _show_lineage(self, version: VersionView, dataset: Dataset) -> None:
        by_number = {v.number: v for v in self.versions}
        chain: list[VersionView] = [version]
        while chain[-1].parent is not None and chain[-1].parent in by_number:
            parent = by_number[chain[-1].parent]
            if parent in chain:
                break
            chain.append(parent)
        when = version.created_at[:19].replace("T", " ")
        lines = [
            f"[b]{version.model} v{version.number}[/b]  registered {when} by {version.author}",
            f"  {version.description}" if version.description else "",
            "",
            "[b]Parent chain[/b]  " + " ← ".join(f"v{v.number}" for v in chain),
        ]
        for link in chain:
            lines.append(
                f"  v{link.number}  {link.created_at[:10]}  "
                f"{link.estimator_class.rsplit('.', 1)[-1]}  data {link.train_dataset_sha256[:12]}"
                f"  {link.description}"
            )
        lines += [
            "",
            "[b]Training dataset[/b]",
            f"  name     {dataset.name} ({dataset.format})",
            f"  sha256   {dataset.sha256}",
            f"  rows     {dataset.row_count}   columns {dataset.column_count}",
            f"  target   {version.target}",
            f"  added    {dataset.registered_at[:19].replace('T', ' ')} by {dataset.registered_by}",
            "",
            "[b]Code[/b]",
            f"  ref      {version.code_ref or 'not recorded (register with --code-dir)'}",
            "",
            "[b]Artifact[/b]",
            f"  sha256   {version.artifact_sha256}",
            f"  format   {version.artifact_format}"
            + ("  (trusted pickle)" if version.trusted_pickle else ""),
            f"  class    {version.estimator_class}",
        ]
        self.query_one("#lineage-body", Static).update("\n".join(lines))

    def _show_history(self, entries: list[HistoryEntry]) -> None:
        table = self.query_one("#history-table", DataTable)
        table.clear()
        for entry in reversed(entries):
            what = Text(entry.what, style="bold red" if entry.break_glass else "")
            table.add_row(
                str(entry.seq), entry.at[:16].replace("T", " "), entry.actor, what, entry.detail
            )
        if not entries:
            table.add_row("-", "", "", "nothing yet", "no request or stage change for this model")

    def _show_drift(self, run: ValidationView | None) -> None:
        table = self.query_one("#drift-table", DataTable)
        table.clear()
        summary = self.query_one("#drift-summary", Static)
        if run is None:
            summary.update("No validation run yet, so no drift measured for this version.")
            return
        psi = sorted(
            (c for c in run.checks if c.name.startswith("drift.psi.")),
            key=lambda c: -(c.value or 0.0),
        )
        failing = sum(1 for c in psi if c.status == "fail")
        limit = psi[0].threshold if psi else None
        summary.update(
            f"Run {run.id} on {run.dataset_name}: {len(psi)} features, {failing} over the PSI "
            f"limit {_number(limit)}; bars are scaled to 2 × the limit, │ marks it"
        )
        for check in psi:
            feature = check.name.removeprefix("drift.psi.")
            ks = run.check(f"drift.ks.{feature}")
            ks_p = ks.detail.get("p_value") if ks is not None else None
            scale = (check.threshold or 0.25) * 2
            now, train = _shares(check, "share"), _shares(check, "reference_share")
            top = max([*now, *train], default=0.0)
            style = {"fail": "red", "warn": "yellow"}.get(check.status, "green")
            spark = (
                Text(sparkline(now, top), style=style) + " vs " + Text(sparkline(train, top), "dim")
            )
            table.add_row(
                feature,
                _number(check.value),
                bar(check.value or 0.0, scale, 16, mark=check.threshold, style=style),
                status_text(check.status),
                f"{ks_p:.2g}" if isinstance(ks_p, int | float) else "-",
                spark,
            )
