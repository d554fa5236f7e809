"""Approvals inbox: open requests, the ones waiting for me first; Enter opens the review."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from console.release.requests import RequestView, list_requests
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.text import PlainTable
from console.tui.widgets.titlebar import TitleBar


@dataclass
class InboxLoaded(Message):
    views: list[RequestView]
    mine: set[int]


class InboxScreen(SignoffScreen):
    """Every open request; ★ marks the ones you may still decide."""

    BINDINGS = [
        Binding("enter", "review", "Review", id="inbox.review", tooltip="Open the request"),
        Binding("r", "reload", "Reload", id="inbox.reload", tooltip="Read the store again"),
        Binding("t", "toggle_all", "Open/all", id="inbox.toggle", tooltip="Open or all requests"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self.views: list[RequestView] = []

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(
            "Approvals inbox: open requests (★ awaits you)", id="inbox-title", classes="pane-title"
        )
        yield PlainTable(id="requests", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#requests", DataTable).add_columns(
            "", "Req", "Version", "Stage", "Status", "Requested by", "Approvals", "Gates", "Opened"
        )
        super().on_mount()

    def action_reload(self) -> None:
        self.reload()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        title = "all requests" if self.show_all else "open requests"
        self.query_one("#inbox-title", Static).update(f"Approvals inbox: {title} (★ awaits you)")
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="inbox")
    @reads_store
    def load(self) -> None:
        user = self.signoff.user
        views = list_requests(self.store, pending=not self.show_all)
        mine = {v.id for v in list_requests(self.store, awaiting=user)} if user else set()
        views.sort(key=lambda v: (v.id not in mine, -v.id))
        self.post_message(InboxLoaded(views, mine))

    @on(InboxLoaded)
    def show(self, data: InboxLoaded) -> None:
        self.views = data.views
        table = self.query_one("#requests", DataTable)
        table.clear()
        for view in data.views:
            gates = "pass" if all(g.passed for g in view.gates) else "FAIL"
            table.add_row(
                "★" if view.id in data.mine else "",
                str(view.id),
                f"{view.model}:{view.version}",
                view.stage,
                view.status,
                view.requester,
                f"{len(view.counted)}/{view.required}",
                gates,
                view.created_at[:16],
                key=str(view.id),
            )

    @on(DataTable.RowSelected, "#requests")
    def selected(self, _event: DataTable.RowSelected) -> None:
        self.action_review()

    def action_review(self) -> None:
        table = self.query_one("#requests", DataTable)
        if 0 <= table.cursor_row < len(self.views):
            from console.tui.screens.review import ReviewScreen

            self.app.push_screen(ReviewScreen(self.views[table.cursor_row].id))
