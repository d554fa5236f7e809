"""Dashboard: who I am, what waits for my sign-off, recent stage changes, failing models, audit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.text import PlainTable
from console.tui.widgets.titlebar import TitleBar

if TYPE_CHECKING:
    from console.auditing.events import EventView
    from console.identity.users import UserView
    from console.monitoring.incidents import Incident
    from console.release.evidence import FailingRun
    from console.release.requests import RequestView

STAGE_ACTIONS = (
    "promotion.executed",
    "canary.started",
    "canary.step",
    "canary.completed",
    "canary.aborted",
    "rollback.executed",
)


@dataclass
class DashboardLoaded(Message):
    me: UserView | None
    awaiting: list[RequestView]
    recent: list[EventView]
    failing: list[FailingRun]
    incidents: list[Incident]
    checkpoint: str
    log_size: int


class DashboardScreen(SignoffScreen):
    """The first screen: everything that needs attention, at a glance."""

    BINDINGS = [
        Binding("r", "reload", "Reload", id="dashboard.reload", tooltip="Read the store again"),
        Binding("enter", "review", "Review", id="dashboard.review", tooltip="Review the request"),
    ]

    def compose(self) -> ComposeResult:
        # The panels mount with their data (see `show`): the first frame is out before any
        # query, and no empty table flashes before the rows arrive.
        yield TitleBar()
        user = self.signoff.user or "read-only"
        yield Static(f"{user}: reading {self.signoff.home} …", id="dashboard-waiting", markup=False)
        yield KeyBar()

    @staticmethod
    def _panels() -> Grid:
        def panel(title: str, *body: Static | PlainTable) -> Vertical:
            return Vertical(Static(title, classes="pane-title"), *body, classes="panel")

        return Grid(
            Vertical(
                Static("Identity", classes="pane-title"),
                Static("", id="identity", markup=False),
                Static("Audit", classes="pane-title"),
                Static("", id="audit-status", markup=False),
                classes="panel",
            ),
            panel("Awaiting your sign-off", PlainTable(id="awaiting", cursor_type="row")),
            panel("Recent promotions and rollbacks", PlainTable(id="recent", cursor_type="row")),
            panel("Failing validation or drift", PlainTable(id="failing", cursor_type="row")),
            id="dashboard",
        )

    async def _mount_panels(self) -> None:
        await self.query_one("#dashboard-waiting", Static).remove()
        await self.mount(self._panels())
        self.query_one("#awaiting", DataTable).add_columns(
            "Req", "Version", "Stage", "By", "Approvals"
        )
        self.query_one("#recent", DataTable).add_columns("Seq", "When", "Who", "What")
        self.query_one("#failing", DataTable).add_columns("Version", "Run", "Failed checks")
        if self.focused is None:
            self.query_one("#awaiting", DataTable).focus()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dashboard")
    @reads_store
    def load(self) -> None:
        # The services import here, in the worker: the first frame does not wait for them.
        from console.auditing.trail import audit_size, latest_checkpoint, list_events
        from console.monitoring.incidents import list_incidents
        from console.release.evidence import failing_latest_runs
        from console.release.requests import list_requests

        user, me = self.signoff.user, self.signoff.acting_user()
        awaiting = list_requests(self.store, awaiting=user) if user else []
        recent = list_events(self.store, actions=STAGE_ACTIONS, limit=12)
        failing = failing_latest_runs(self.store, limit=12)
        incidents = list_incidents(self.store, status="open")[-12:]
        latest = latest_checkpoint(self.store)
        checkpoint = (
            f"last checkpoint #{latest.id}: {latest.size} events, by {latest.issued_by} "
            f"at {latest.issued_at[:19]}"
            if latest
            else "no checkpoint yet (audit screen: c)"
        )
        self.post_message(
            DashboardLoaded(
                me, awaiting, recent, failing, incidents, checkpoint, audit_size(self.store)
            )
        )

    @on(DashboardLoaded)
    async def show(self, data: DashboardLoaded) -> None:
        if not self.query("#dashboard"):
            await self._mount_panels()
        app = self.signoff
        if data.me is None:
            identity = "read-only: start with --as USER to act"
        else:
            key = "unlocked" if app.signer is not None else "locked (asked when you first sign)"
            identity = f"{data.me.name} · {data.me.role} · key {(data.me.keyid or '-')[:16]}… {key}"
        self.query_one("#identity", Static).update(identity)
        verification = app.last_verification or "not verified in this session (audit screen: v)"
        self.query_one("#audit-status", Static).update(
            f"{data.log_size} events\n{verification}\n{data.checkpoint}"
        )
        awaiting = self.query_one("#awaiting", DataTable)
        awaiting.clear()
        for view in data.awaiting:
            awaiting.add_row(
                str(view.id),
                f"{view.model}:{view.version}",
                view.stage,
                view.requester,
                f"{len(view.counted)}/{view.required}",
                key=str(view.id),
            )
        if not data.awaiting:
            awaiting.add_row("-", "nothing waits for you", "", "", "")
        recent = self.query_one("#recent", DataTable)
        recent.clear()
        for event in data.recent:
            what = f"{event.action} {event.subject}"
            if event.action == "rollback.executed":
                what = f"BREAK-GLASS rollback {event.subject}"
            recent.add_row(str(event.seq), event.ts[:16], event.actor, what)
        failing = self.query_one("#failing", DataTable)
        failing.clear()
        for incident in reversed(data.incidents):  # one row per version and window
            failing.add_row(
                f"{incident.model}:{incident.version}",
                f"incident {incident.id}",
                f"{len(incident.alerts)} alert(s): {', '.join(incident.subjects)}",
            )
        for run in data.failing:
            failing.add_row(
                f"{run.model}:{run.version}", str(run.run_id), ", ".join(run.failed_checks[:4])
            )
        self.call_after_refresh(app.preload_screens)  # once its data is painted

    def action_review(self) -> None:
        tables = self.query("#awaiting").results(DataTable)
        table = next(tables, None)
        if table is None or table.row_count == 0:
            return
        row = table.get_row_at(table.cursor_row)
        if str(row[0]).isdigit():
            self.signoff.open_review(int(row[0]))
