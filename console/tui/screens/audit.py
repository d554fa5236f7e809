"""The audit log, a page at a time (keyset on seq), with verification and checkpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from audit.keys import Signer
from console.auditing.events import EventView
from console.auditing.trail import (
    audit_size,
    issue_checkpoint,
    latest_checkpoint,
    list_events,
    verify_store,
)
from console.tui.messages import ActionDone
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.text import PlainTable, line, lines
from console.tui.widgets.titlebar import TitleBar

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    model: str = ""
    actor: str = ""
    action: str = ""

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in (("model", self.model), ("actor", self.actor)) if v]
        if self.action:
            parts.append(f"action={self.action}*")
        return ", ".join(parts) or "none"


@dataclass
class PageLoaded(Message):
    events: list[EventView]
    before: int | None
    log_size: int
    checkpoint: str


@dataclass
class VerificationProgress(Message):
    done: int
    total: int


@dataclass
class VerificationFinished(Message):
    ok: bool
    verdict: str
    detail: str


class EventModal(ModalScreen[None]):
    """One event: who, what, when, and its payload exactly as signed."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="event.close", tooltip="Back to the log"),
        Binding(
            "enter", "close", "Close", id="event.close2", tooltip="Back to the log", show=False
        ),
    ]

    def __init__(self, event: EventView) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        e = self.event
        payload = json.dumps(e.payload, indent=2, sort_keys=True, ensure_ascii=False)
        with Vertical(classes="dialog event"):
            yield Static(f"Event {e.seq}: {e.action}", classes="dialog-title", markup=False)
            yield Static(
                lines(
                    line((label, "bold"), value)
                    for label, value in (
                        ("when     ", e.ts),
                        ("actor    ", e.actor),
                        ("subject  ", e.subject),
                        ("model    ", e.model or "-"),
                    )
                )
            )
            with VerticalScroll(id="event-payload"):
                yield Static(Syntax(payload, "json", word_wrap=True, background_color="default"))

    def action_close(self) -> None:
        self.dismiss(None)


class AuditScreen(SignoffScreen):
    """Newest events first, a page at a time; verify the whole log, write checkpoints."""

    AUTO_FOCUS = "#audit-events"
    BINDINGS = [
        Binding("n", "older", "Next page", id="audit.next", tooltip="Older events"),
        Binding("p", "newer", "Prev page", id="audit.prev", tooltip="Newer events"),
        Binding("g", "newest", "Newest", id="audit.newest", tooltip="Back to the newest page"),
        Binding("slash", "filters", "Filter", id="audit.filter", tooltip="Model, actor, action"),
        Binding(
            "v", "verify", "Verify", id="audit.verify", tooltip="Check every hash and signature"
        ),
        Binding(
            "c", "checkpoint", "Checkpoint", id="audit.checkpoint", tooltip="Sign size and root"
        ),
        Binding(
            "enter", "show_event", "Payload", id="audit.payload", tooltip="The event's payload"
        ),
        Binding("r", "reload", "Reload", id="audit.reload", tooltip="Read the store again"),
        Binding(
            "escape",
            "close",
            "Close",
            id="audit.close",
            tooltip="Close the filter bar or the checkpoint",
            show=False,
        ),
    ]

    page_size = PAGE_SIZE

    def __init__(self) -> None:
        super().__init__()
        # Keyset cursors: each page is "events with seq < before"; the last one is shown.
        self.cursors: list[int | None] = [None]
        self.filters = Filters()
        self.events: list[EventView] = []
        self.log_total = 0
        self.verifying = False

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static("Audit log", id="audit-status", classes="pane-title one-line", markup=False)
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="model", id="filter-model")
            yield Input(placeholder="actor", id="filter-actor")
            yield Input(placeholder="action prefix, e.g. canary", id="filter-action")
        yield PlainTable(id="audit-events", cursor_type="row", zebra_stripes=True)
        with Vertical(id="audit-verify"):
            yield ProgressBar(id="verify-progress", show_eta=False)
            yield Static("", id="audit-verdict", markup=False)
            yield Static("", id="audit-checkpoint", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#audit-events", DataTable).add_columns(
            "Seq", "When (UTC)", "Actor", "Action", "Subject"
        )
        self.query_one("#verify-progress", ProgressBar).display = False
        self.query_one("#audit-checkpoint", Static).display = False
        super().on_mount()

    # ---- paging -------------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load(self.cursors[-1], self.filters)

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-page")
    @reads_store
    def load(self, before: int | None, filters: Filters) -> None:
        events = list_events(
            self.store,
            model=filters.model or None,
            actor=filters.actor or None,
            action=filters.action or None,
            before=before,
            limit=self.page_size,
        )
        latest = latest_checkpoint(self.store)
        checkpoint = (
            f"last checkpoint #{latest.id}: {latest.size} events, by {latest.issued_by} "
            f"at {latest.issued_at[:16].replace('T', ' ')}"
            if latest
            else "no checkpoint yet: c writes one"
        )
        size = audit_size(self.store)
        if not get_current_worker().is_cancelled:  # a newer page request replaced this one
            self.post_message(PageLoaded(events, before, size, checkpoint))

    @on(PageLoaded)
    def show_page(self, page: PageLoaded) -> None:
        if page.before != self.cursors[-1]:
            return  # a newer page request replaced this one
        self.events = page.events
        self.log_total = page.log_size
        table = self.query_one("#audit-events", PlainTable)
        row = table.cursor_row
        table.clear()
        for event in page.events:
            action = Text(event.action, style="bold red" if "rollback" in event.action else "")
            table.add_row(
                str(event.seq),
                event.ts[:19].replace("T", " "),
                event.actor,
                action,
                event.subject,
                key=str(event.seq),
            )
        table.measure_new_rows()
        if page.events:
            table.move_cursor(row=min(max(row, 0), len(page.events) - 1))
            shown = f"seq {page.events[0].seq}–{page.events[-1].seq}"
        else:
            shown = "no events match"
        self.query_one("#audit-status", Static).update(
            f"Audit log · {page.log_size} events · page {len(self.cursors)} ({shown}, newest "
            f"first) · filter: {self.filters.describe()}"
        )
        if not self.verifying:
            verdict = self.signoff.last_verification or "not verified in this session: v verifies"
            self.query_one("#audit-verdict", Static).update(f"{verdict}\n{page.checkpoint}")

    def action_older(self) -> None:
        if len(self.events) < self.page_size or self.events[-1].seq == 0:
            self.notify("This is the oldest page.", timeout=2)
            return
        self.cursors.append(self.events[-1].seq)
        self.reload()

    def action_newer(self) -> None:
        if len(self.cursors) == 1:
            self.notify("This is the newest page.", timeout=2)
            return
        self.cursors.pop()
        self.reload()

    def action_newest(self) -> None:
        self.cursors = [None]
        self.reload()

    # ---- filters ------------------------------------------------------------------------------

    def action_filters(self) -> None:
        bar = self.query_one("#audit-filters")
        bar.toggle_class("-open")
        if bar.has_class("-open"):
            self.query_one("#filter-model", Input).focus()
        else:
            self.query_one("#audit-events", DataTable).focus()

    def action_close(self) -> None:
        """Escape: close the filter bar, else put away the checkpoint text."""
        bar = self.query_one("#audit-filters")
        if bar.has_class("-open"):
            bar.remove_class("-open")
            self.query_one("#audit-events", DataTable).focus()
        else:
            self.query_one("#audit-checkpoint", Static).display = False

    @on(Input.Submitted, "#audit-filters Input")
    def apply_filters(self) -> None:
        self.filters = Filters(
            self.query_one("#filter-model", Input).value.strip(),
            self.query_one("#filter-actor", Input).value.strip(),
            self.query_one("#filter-action", Input).value.strip(),
        )
        self.cursors = [None]
        self.query_one("#audit-events", DataTable).focus()
        self.reload()

    # ---- one event ----------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#audit-events")
    def event_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_show_event()

    def action_show_event(self) -> None:
        row = self.query_one("#audit-events", DataTable).cursor_row
        if 0 <= row < len(self.events):
            self.app.push_screen(EventModal(self.events[row]))

    # ---- verification and checkpoints -----------------------------------------------------------

    def action_verify(self) -> None:
        if self.verifying:
            return
        self.verifying = True
        progress = self.query_one("#verify-progress", ProgressBar)
        progress.update(total=max(self.log_total, 1), progress=0)
        progress.display = True
        self.query_one("#audit-verdict", Static).update("verifying every event…")
        self.verify()

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-verify")
    def verify(self) -> None:
        def progress(done: int, total: int) -> None:
            self.post_message(VerificationProgress(done, total))

        result = verify_store(self.store, progress=progress)
        if result.ok:
            verdict = f"OK: {result.size} events verified; root {result.root_hex[:16]}…"
            detail = f"root {result.root_hex}"
        else:
            verdict = result.failure_line()
            count = len(result.findings) + len(result.differences)
            detail = f"{count} finding(s); the first one is shown"
        self.post_message(VerificationFinished(result.ok, verdict, detail))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.state == WorkerState.ERROR and event.worker.group == "audit-verify":
            self.verifying = False
            self.query_one("#verify-progress", ProgressBar).display = False
            self.query_one("#audit-verdict", Static).update("verification did not finish")

    @on(VerificationProgress)
    def show_progress(self, message: VerificationProgress) -> None:
        self.query_one("#verify-progress", ProgressBar).update(
            total=max(message.total, 1), progress=message.done
        )

    @on(VerificationFinished)
    def show_verdict(self, message: VerificationFinished) -> None:
        self.verifying = False
        self.signoff.last_verification = message.verdict
        self.query_one("#verify-progress", ProgressBar).display = False
        style = "green" if message.ok else "bold red"
        self.query_one("#audit-verdict", Static).update(
            Text.assemble((message.verdict, style), "\n", (message.detail, "dim"))
        )
        self.notify(message.verdict, severity="information" if message.ok else "error")

    def action_checkpoint(self) -> None:
        def sign(signer: Signer) -> None:
            self.write_checkpoint(signer)

        self.signoff.with_signer(sign)

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-checkpoint")
    def write_checkpoint(self, signer: Signer) -> None:
        note = issue_checkpoint(self.store, signer)
        # A C2SP checkpoint's second line is the size it signs: its own event comes next.
        size = int(note.splitlines()[1])
        self.post_message(
            ActionDone(
                f"Checkpoint written at size {size}; keep a copy out of band.",
                size,
                Text(note.rstrip("\n"), style="cyan"),
            )
        )

    def show_done(self, done: ActionDone) -> None:
        body = self.query_one("#audit-checkpoint", Static)
        body.update(done.detail or "")
        body.display = True
