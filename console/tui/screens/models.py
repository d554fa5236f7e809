"""Models and their versions: the registry at a glance; Enter opens a model's detail."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from console.registry.views import ModelPage, ModelView, VersionView, get_model, model_page
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.model_list import ModelList
from console.tui.widgets.text import PlainTable
from console.tui.widgets.titlebar import TitleBar


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

    AUTO_FOCUS = "#models"

    def __init__(self) -> None:
        super().__init__()
        # The model whose versions were last asked for: a new page announces its highlighted
        # model twice (the table's cursor, then the page), and one read is enough.
        self._versions_of: str | None = None
        # The first model of the page just read, with its versions, read in the same worker
        # and connection as the page: where the cursor lands on a new page, shown at once.
        self._first: ModelView | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal():
            with Vertical(id="models-pane"):
                yield Static("Models", classes="pane-title")
                yield ModelList(self._read_page, id="model-list")
            with Vertical(id="versions-pane"):
                yield Static("", id="model-title", classes="pane-title", markup=False)
                yield Static("", id="model-info", markup=False)
                yield PlainTable(id="versions", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#versions", DataTable).add_columns(
            "Version", "Estimator", "Task", "Author", "Created", "Stages", "Metrics"
        )
        super().on_mount()

    @property
    def model_list(self) -> ModelList:
        return self.query_one(ModelList)

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self._versions_of = None  # a reload reads the highlighted model's versions again
        self.model_list.reload()

    def _read_page(
        self, *, match: str, after: str | None, before: str | None, at: str | None, limit: int
    ) -> ModelPage:
        """The model list's loader (in its worker): the page, and its first model's versions."""
        store = self.store
        with store.reading():
            page = model_page(store, match=match, after=after, before=before, at=at, limit=limit)
            self._first = get_model(store, page.models[0].name) if page.models else None
        self.signoff.freeze_after_first("ModelsScreen._read_page")
        return page

    @work(thread=True, exclusive=True, exit_on_error=False, group="model-versions")
    @reads_store
    def load_versions(self, name: str) -> None:
        self.post_message(VersionsLoaded(get_model(self.store, name)))

    def focus_model(self, name: str) -> None:
        self.model_list.show_model(name)

    @on(ModelList.Highlighted)
    def model_highlighted(self, event: ModelList.Highlighted) -> None:
        name = event.summary.name
        first, self._first = self._first, None
        if name == self._versions_of:
            return
        self._versions_of = name
        if first is not None and first.name == name:
            self.show_versions(first)
        else:
            self.load_versions(name)

    @on(ModelList.Chosen)
    def model_chosen(self, event: ModelList.Chosen) -> None:
        self._open(event.summary.name)

    def action_open(self) -> None:
        name = self.model_list.current_name()
        if name is not None:
            self._open(name)

    def _open(self, name: str) -> None:
        from console.tui.screens.model_detail import ModelDetailScreen

        self.app.push_screen(ModelDetailScreen(name))

    @on(VersionsLoaded)
    def versions_loaded(self, message: VersionsLoaded) -> None:
        if message.model.name == self.model_list.current_name():
            self.show_versions(message.model)

    def show_versions(self, model: ModelView) -> None:
        self.query_one("#model-title", Static).update(f"{model.name}  ·  owner {model.owner}")
        info = model.description or ""
        if model.intended_use:
            info += f"\nIntended use: {model.intended_use}"
        self.query_one("#model-info", Static).update(info)
        table = self.query_one("#versions", PlainTable)
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
        table.measure_new_rows()
