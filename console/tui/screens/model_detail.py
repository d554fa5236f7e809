"""One model: its versions, and the selected version's card, validation, lineage, history, drift."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Markdown, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from console.registry.detail import model_detail
from console.registry.views import ModelView, VersionView, get_dataset
from console.release.evidence import ValidationView
from console.release.history import HistoryEntry
from console.store.models import Dataset
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.screens.detail_tabs import (
    Row,
    card_markdown,
    drift_rows,
    drift_summary,
    fields_markdown,
    history_rows,
    key_metrics,
    lineage_text,
    validation_rows,
    validation_summary,
)
from console.tui.widgets.bars import status_text
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.text import PlainTable, line
from console.tui.widgets.titlebar import TitleBar

TABS = ("card", "validation", "lineage", "history", "drift")


@dataclass
class ModelLoaded(Message):
    model: ModelView
    runs: dict[int, ValidationView]
    history: list[HistoryEntry]


@dataclass
class VersionLoaded(Message):
    version: VersionView
    run: ValidationView | None
    card: str
    dataset: Dataset


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
        self.runs: dict[int, ValidationView] = {}  # each version's newest run, by number
        self.selected: int | None = None
        # The card's Markdown takes a moment to lay out: render it only when its tab shows.
        self.card_text = ""
        self.card_shown: str | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(
            self.model_name, id="detail-title", classes="pane-title one-line", markup=False
        )
        yield PlainTable(id="detail-versions", cursor_type="row", zebra_stripes=True)
        with TabbedContent(id="detail-tabs", initial="card"):
            with TabPane("Card", id="card"), VerticalScroll(id="card-scroll"):
                yield Markdown("loading…", id="card-body")
            with TabPane("Validation", id="validation"):
                yield Static("", id="validation-summary", classes="tab-summary", markup=False)
                yield PlainTable(id="validation-checks", cursor_type="row", zebra_stripes=True)
            with TabPane("Lineage", id="lineage"), VerticalScroll():
                yield Static("", id="lineage-body")
            with TabPane("History", id="history"):
                yield PlainTable(id="history-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Drift", id="drift"):
                yield Static("", id="drift-summary", classes="tab-summary", markup=False)
                yield PlainTable(id="drift-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

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

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    @reads_store
    def load(self) -> None:
        detail = model_detail(self.store, self.model_name)
        if not get_current_worker().is_cancelled:  # a newer load replaced this one
            self.post_message(ModelLoaded(detail.model, detail.latest_runs, detail.history))

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail-version")
    @reads_store
    def load_version(self, version: VersionView, run: ValidationView | None) -> None:
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
        self.runs = data.runs
        self.versions = list(reversed(model.versions))
        stages = ", ".join(f"{s} v{v}" for s, v in sorted(model.stages.items()) if v) or "no stage"
        retired = "  ·  RETIRED" if model.retired else ""
        self.query_one("#detail-title", Static).update(
            line(
                f"{model.name}{retired}  ·  {stages}  ·  {model.risk_tier} risk  ·  "
                f"owner {model.owner}"
            )
        )
        table = self.query_one("#detail-versions", DataTable)
        table.clear()
        for version in self.versions:
            run = data.runs.get(version.number)
            verdict = status_text(run.status) + f" run {run.id}" if run else Text("not run", "dim")
            table.add_row(
                f"v{version.number}",
                ", ".join(version.stages) or (Text("retired", "red") if version.retired else "-"),
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
            self._select(self.versions[numbers.index(self.selected)])
        self._show_history(data.history)

    @on(DataTable.RowHighlighted, "#detail-versions")
    def version_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not 0 <= event.cursor_row < len(self.versions):
            return
        version = self.versions[event.cursor_row]
        if version.number != self.selected:
            self.selected = version.number
            self._select(version)

    def _select(self, version: VersionView) -> None:
        self.load_version(version, self.runs.get(version.number))

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

    def _fill(self, selector: str, rows: list[Row]) -> None:
        table = self.query_one(selector, DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row)

    def _show_validation(self, version: VersionView, run: ValidationView | None) -> None:
        self.query_one("#validation-summary", Static).update(validation_summary(version, run))
        self._fill("#validation-checks", validation_rows(run))

    def _show_lineage(self, version: VersionView, dataset: Dataset) -> None:
        text = lineage_text(version, self.versions, dataset)
        self.query_one("#lineage-body", Static).update(text)

    def _show_history(self, entries: list[HistoryEntry]) -> None:
        self._fill("#history-table", history_rows(entries))

    def _show_drift(self, run: ValidationView | None) -> None:
        self.query_one("#drift-summary", Static).update(drift_summary(run))
        self._fill("#drift-table", drift_rows(run))
