"""Models and their versions: the registry at a glance; Enter opens a model's detail."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from console.registry import ModelSummary, ModelView, VersionView, get_model, list_model_summaries
from console.tui.base import SignoffScreen


@dataclass
class ModelsLoaded(Message):
    models: list[ModelSummary]


@dataclass
class VersionsLoaded(Message):
    model: ModelView


def _metric_summary(version: VersionView) -> str:
    return "  ".join(f"{k} {v:.3f}" for k, v in sorted(version.metrics.items())[:3])


class ModelsScreen(SignoffScreen):
    """Left: every model; right: the highlighted model's versions."""

    BINDINGS = [
        Binding(
            "enter", "open", "Open", id="models.open", tooltip="Card, validation, lineage, history"
        ),
        Binding("r", "reload", "Reload", id="models.reload", tooltip="Read the store again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.models: list[ModelSummary] = []
        self._wanted: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="models-pane"):
                yield Static("Models", classes="pane-title")
                yield DataTable(id="models", cursor_type="row", zebra_stripes=True)
            with Vertical(id="versions-pane"):
                yield Static("", id="model-title", classes="pane-title")
                yield Static("", id="model-info")
                yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#models", DataTable).add_columns("Model", "Risk", "Versions", "Stages")
        self.query_one("#versions", DataTable).add_columns(
            "Version", "Estimator", "Task", "Author", "Created", "Stages", "Metrics"
        )
        super().on_mount()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="models")
    def load(self) -> None:
        # Summaries only: thousands of models list in one query; versions load on highlight.
        self.post_message(ModelsLoaded(list_model_summaries(self.store)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="model-versions")
    def load_versions(self, name: str) -> None:
        self.post_message(VersionsLoaded(get_model(self.store, name)))

    def focus_model(self, name: str) -> None:
        self._wanted = name
        self._apply_wanted()

    def _apply_wanted(self) -> None:
        names = [m.name for m in self.models]
        if self._wanted in names:
            self.query_one("#models", DataTable).move_cursor(row=names.index(self._wanted))
            self._wanted = None

    @on(ModelsLoaded)
    def show_models(self, message: ModelsLoaded) -> None:
        self.models = message.models
        table = self.query_one("#models", DataTable)
        current = table.cursor_row
        table.clear()
        for model in self.models:
            stages = ", ".join(f"{s} v{v}" for s, v in sorted(model.stages.items()) if v) or "-"
            table.add_row(model.name, model.risk_tier, str(model.versions), stages, key=model.name)
        if self.models:
            table.move_cursor(row=min(max(current, 0), len(self.models) - 1))
            self._apply_wanted()
            self.load_versions(self.models[table.cursor_row].name)
        else:
            self.query_one("#model-title", Static).update("No models yet")
            self.query_one("#model-info", Static).update(
                "Register one with `signoff register`, or build the demo with `signoff demo`."
            )

    @on(DataTable.RowHighlighted, "#models")
    def model_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.models):
            self.load_versions(self.models[event.cursor_row].name)

    @on(DataTable.RowSelected, "#models")
    def model_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#models", DataTable)
        if 0 <= table.cursor_row < len(self.models):
            from console.tui.model_detail_screen import ModelDetailScreen

            self.app.push_screen(ModelDetailScreen(self.models[table.cursor_row].name))

    @on(VersionsLoaded)
    def versions_loaded(self, message: VersionsLoaded) -> None:
        table = self.query_one("#models", DataTable)
        current = self.models[table.cursor_row].name if self.models else None
        if message.model.name == current:
            self.show_versions(message.model)

    def show_versions(self, model: ModelView) -> None:
        self.query_one("#model-title", Static).update(f"{model.name}  ·  owner {model.owner}")
        info = model.description or ""
        if model.intended_use:
            info += f"\nIntended use: {model.intended_use}"
        self.query_one("#model-info", Static).update(info)
        table = self.query_one("#versions", DataTable)
        table.clear()
        for version in reversed(model.versions):
            table.add_row(
                f"v{version.number}",
                version.estimator_class.rsplit(".", 1)[-1],
                version.task_type,
                version.author,
                version.created_at[:10],
                ", ".join(version.stages) or "-",
                _metric_summary(version),
            )
