"""The registry as a list a person can use at any size: a page at a time, with a filter."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from console.registry.views import ModelPage, ModelSummary
from console.tui.settling import Debounce
from console.tui.widgets.text import PlainTable

PAGE_SIZE = 100  # rows a DataTable lays out in a few milliseconds
FILTER_DELAY = 0.2  # seconds of quiet typing before the filter queries the store


class PageReader(Protocol):
    """Reads one page of the registry (`registry.model_page` on the app's store); runs in a
    worker thread."""

    def __call__(
        self,
        *,
        match: str,
        after: str | None,
        before: str | None,
        at: str | None,
        limit: int,
    ) -> ModelPage: ...


@dataclass
class PageLoaded(Message):
    page: ModelPage
    match: str
    focus_name: str | None


class ModelList(Vertical):
    """Models in name order, PAGE_SIZE at a time; `/` filters by name or owner."""

    BINDINGS = [
        Binding("n", "next_page", "Next page", id="model-list.next", tooltip="The next models"),
        Binding("p", "previous_page", "Prev page", id="model-list.previous", tooltip="Back"),
        Binding("slash", "filter", "Filter", id="model-list.filter", tooltip="Name or owner"),
        Binding("escape", "leave_filter", "List", id="model-list.list", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor rests on a model."""

        summary: ModelSummary

    @dataclass
    class Chosen(Message):
        """Enter (or a click) on a model."""

        summary: ModelSummary

    def __init__(self, read_page: PageReader, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.read_page = read_page
        self.page = ModelPage(0, 0, [])
        self.match = ""
        self._filter = Debounce(self, FILTER_DELAY, self._apply_filter)
        self._wanted: str | None = None

    @property
    def models(self) -> list[ModelSummary]:
        return self.page.models

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter by name or owner", compact=True, id="model-filter")
        yield PlainTable(id="models", cursor_type="row", zebra_stripes=True)
        yield Static("", id="model-page", markup=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Model", "Risk", "Versions", "Stages")

    # ---- loading ----------------------------------------------------------------------

    def reload(self) -> None:
        """Read the page shown again (from its first model), keeping the cursor's model; or
        the page of a model asked for (`show_model`) whose page has not arrived yet."""
        if self._wanted is not None:
            self.load("", at=self._wanted, focus_name=self._wanted)
            return
        first = self.models[0].name if self.models else None
        self.load(self.match, at=first, focus_name=self.current_name())

    def show_model(self, name: str) -> None:
        """Clear the filter and show the page that starts at `name`."""
        self._wanted = name
        self.match = ""
        self.query_one(Input).value = ""
        self.load("", at=name, focus_name=name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="model-page")
    def load(
        self,
        match: str,
        *,
        after: str | None = None,
        before: str | None = None,
        at: str | None = None,
        focus_name: str | None = None,
    ) -> None:
        page = self.read_page(match=match, after=after, before=before, at=at, limit=PAGE_SIZE)
        if not get_current_worker().is_cancelled:  # a newer load (another page) replaced it
            self.post_message(PageLoaded(page, match, focus_name))

    @on(PageLoaded)
    def _show(self, message: PageLoaded) -> None:
        message.stop()
        if message.match != self.query_one(Input).value.strip():
            return  # the filter changed since: a newer page is on its way
        self.page, self.match = message.page, message.match
        table = self.query_one(PlainTable)
        table.clear()
        for model in self.models:
            stages = ", ".join(f"{s} v{v}" for s, v in sorted(model.stages.items()) if v) or "-"
            table.add_row(model.name, model.risk_tier, str(model.versions), stages, key=model.name)
        table.measure_new_rows()
        self.query_one("#model-page", Static).update(self._status())
        names = [m.name for m in self.models]
        if message.focus_name in names:
            table.move_cursor(row=names.index(message.focus_name))
        if message.focus_name == self._wanted:
            self._wanted = None  # its page came (with it, or without it if it is gone)
        if self.models:
            self.post_message(self.Highlighted(self.models[table.cursor_row]))

    def _status(self) -> str:
        page = self.page
        if not page.models:
            if self.match:
                return f"no model matches {self.match!r} · /: filter"
            return "no models yet: `signoff register` adds one, `signoff demo` builds the demo"
        first, last = page.offset + 1, page.offset + len(page.models)
        where = f"{first}–{last} of {page.total:,}"
        keys = [k for k, ok in (("p", page.has_before), ("n", page.has_after)) if ok]
        return where + (f" · {'/'.join(keys)}: page" if keys else "") + " · /: filter"

    def pending_work(self) -> list[asyncio.Event]:
        """A filter typed and not yet applied (`console.tui.settling`)."""
        return self._filter.pending_work()

    def current_name(self) -> str | None:
        row = self.query_one(DataTable).cursor_row
        return self.models[row].name if 0 <= row < len(self.models) else None

    # ---- keys -------------------------------------------------------------------------

    def action_next_page(self) -> None:
        if self.page.has_after:
            self.load(self.match, after=self.models[-1].name)

    def action_previous_page(self) -> None:
        if self.page.has_before and self.models:
            self.load(self.match, before=self.models[0].name)

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one(DataTable).focus()

    @on(Input.Changed, "#model-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter.cancel()
        if event.value.strip() == self.match:
            return  # what is shown already (or `show_model` cleared it)
        self._filter.restart()

    def _apply_filter(self) -> None:
        self.load(self.query_one(Input).value.strip())

    @on(Input.Submitted, "#model-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._filter.cancel()
        self._apply_filter()
        self.query_one(DataTable).focus()

    @on(DataTable.RowHighlighted, "#models")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.models):
            self.post_message(self.Highlighted(self.models[event.cursor_row]))

    @on(DataTable.RowSelected, "#models")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.models):
            self.post_message(self.Chosen(self.models[event.cursor_row]))
