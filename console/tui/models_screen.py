"""Models and their versions: the registry at a glance, refreshed when the store changes."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from console.auditing import audit_size
from console.errors import SignoffError
from console.registry import ModelView, VersionView, list_models
from console.store.db import Store
from console.tui.messages import LoadFailed, ModelsLoaded

POLL_SECONDS = 2.0


def _metric_summary(version: VersionView) -> str:
    return "  ".join(f"{k} {v:.3f}" for k, v in sorted(version.metrics.items())[:3])


class ModelsScreen(Screen[None]):
    """Left: every model; right: the highlighted model's versions and details."""

    BINDINGS = [
        Binding("r", "reload", "Reload", id="models.reload", tooltip="Read the store again"),
        Binding("q", "app.quit", "Quit", id="app.quit", tooltip="Leave signoff"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.models: list[ModelView] = []
        self.seen_log_size = -1

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
        models = self.query_one("#models", DataTable)
        models.add_columns("Model", "Risk", "Versions", "Stages")
        versions = self.query_one("#versions", DataTable)
        versions.add_columns(
            "Version", "Estimator", "Task", "Author", "Created", "Stages", "Metrics"
        )
        self.load()
        self.set_interval(POLL_SECONDS, self.poll)

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="store")
    def load(self) -> None:
        try:
            models = list_models(self.store)
            size = audit_size(self.store)
        except SignoffError as exc:
            self.post_message(LoadFailed(exc.message))
            return
        self.post_message(ModelsLoaded(models, size))

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def poll(self) -> None:
        # Cheap change detection: the audit log grows with every state change.
        try:
            size = audit_size(self.store)
        except SignoffError:
            return
        if size != self.seen_log_size:
            self.load()

    @on(ModelsLoaded)
    def show_models(self, message: ModelsLoaded) -> None:
        self.seen_log_size = message.log_size
        self.models = message.models
        table = self.query_one("#models", DataTable)
        current = table.cursor_row
        table.clear()
        for model in self.models:
            stages = ", ".join(f"{s} v{v}" for s, v in sorted(model.stages.items()) if v) or "-"
            table.add_row(
                model.name, model.risk_tier, str(len(model.versions)), stages, key=model.name
            )
        if self.models:
            table.move_cursor(row=min(max(current, 0), len(self.models) - 1))
            self.show_versions(self.models[table.cursor_row])
        else:
            self.query_one("#model-title", Static).update("No models yet")
            self.query_one("#model-info", Static).update(
                "Register one with `signoff register`, or build the demo with `signoff demo`."
            )

    @on(LoadFailed)
    def report_failure(self, message: LoadFailed) -> None:
        self.notify(message.text, title="Store", severity="error")

    @on(DataTable.RowHighlighted, "#models")
    def model_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.models):
            self.show_versions(self.models[event.cursor_row])

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
