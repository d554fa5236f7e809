"""Release: who holds each stage, running canaries, requests ready to execute, and the actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from audit.keys import Signer
from console.identity.permissions import Permission, roles_with
from console.release.canary import ABORT, StepAdvice, canary_abort, canary_step, step_advice
from console.release.deployments import promote, rollback
from console.release.policy import load_policy
from console.release.requests import RequestView, list_requests
from console.tui.messages import ActionDone
from console.tui.release_data import (
    ReleaseCommand,
    StageRow,
    StagesRead,
    describe,
    page_status,
    read_stages,
    request_cells,
    stage_cells,
    step_prompt,
)
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.modals import ConfirmModal
from console.tui.widgets.model_list import FILTER_DELAY
from console.tui.widgets.text import PlainTable
from console.tui.widgets.titlebar import TitleBar

STAGE_PAGE = 50  # models per page of the stages table


@dataclass
class StepAdvised(Message):
    row: StageRow
    advice: StepAdvice


@dataclass
class ReleaseLoaded(Message):
    stages: StagesRead
    match: str
    focus: tuple[str, str] | None  # (model, stage) to put the cursor on
    requests: list[RequestView]
    who: str


class ReleaseScreen(SignoffScreen):
    """Stages on top, open requests below; every action confirms, then signs."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#release-stages"
    BINDINGS = [
        Binding("p", "promote", "Promote", id="release.promote", tooltip="Execute the request"),
        Binding("s", "step", "Canary step", id="release.step", tooltip="Next canary share"),
        Binding("x", "abort", "Canary abort", id="release.abort", tooltip="Stop the canary"),
        Binding("b", "rollback", "Rollback", id="release.rollback", tooltip="Break-glass rollback"),
        Binding("r", "reload", "Reload", id="release.reload", tooltip="Read the store again"),
        Binding("slash", "filter", "Filter", id="release.filter", tooltip="Models by name"),
        Binding(
            "right_square_bracket", "next_page", "Next", id="release.next", tooltip="Next models"
        ),
        Binding(
            "left_square_bracket", "previous_page", "Prev", id="release.previous", tooltip="Back"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[StageRow] = []
        self.stages: StagesRead | None = None
        self._applied = ""  # the filter the shown page was read with
        self._filter = self.debounce(FILTER_DELAY, lambda: self.load(self._match()))
        self.requests: list[RequestView] = []
        self.pending: ReleaseCommand | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static("", id="release-who", markup=False)
        with Vertical(id="release-stages-pane"):
            yield Static(
                "Stages: who holds each, running canaries (Enter: the model)",
                classes="pane-title one-line",
            )
            yield Input(placeholder="/ filter models", compact=True, id="release-filter")
            yield PlainTable(id="release-stages", cursor_type="row", zebra_stripes=True)
            yield Static("", id="release-page", classes="one-line", markup=False)
        with Vertical(id="release-requests-pane"):
            yield Static(
                "Open requests, ready first (Enter: the review)", classes="pane-title one-line"
            )
            yield PlainTable(id="release-requests", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#release-stages", DataTable).add_columns(
            "Model", "Stage", "Holds", "Canary", "By", "Since", "How"
        )
        self.query_one("#release-requests", DataTable).add_columns(
            "Req", "Version", "Stage", "Approvals", "Ready", "By", "Still needed / plan"
        )
        super().on_mount()

    # ---- loading ------------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        first = self.stages.page.models[0] if self.stages and self.stages.page.models else None
        self.load(self._match(), at=first, focus=self._place())

    def _match(self) -> str:
        return self.query_one("#release-filter", Input).value.strip()

    def _place(self) -> tuple[str, str] | None:
        row = self._stage()
        return (row.model, row.stage) if row is not None else None

    @work(thread=True, exclusive=True, exit_on_error=False, group="release")
    @reads_store
    def load(
        self,
        match: str,
        *,
        after: str | None = None,
        before: str | None = None,
        at: str | None = None,
        focus: tuple[str, str] | None = None,
    ) -> None:
        stages = read_stages(
            self.store, match=match, after=after, before=before, at=at, limit=STAGE_PAGE
        )
        requests = list_requests(self.store, pending=True)
        requests.sort(key=lambda r: (not r.ready, -r.id))
        me = self.signoff.acting_user()
        breakers = load_policy(self.store).break_glass_roles
        if me is None:
            who = "read-only: start with --as USER to act"
        else:
            who = (
                f"{me.name} ({me.role}) · promote, canary: {', '.join(roles_with(Permission.PROMOTE))} · "
                f"break-glass: {', '.join(breakers)}"
            )
        if not get_current_worker().is_cancelled:  # a newer load replaced this one
            self.post_message(ReleaseLoaded(stages, match, focus, requests, who))

    @on(ReleaseLoaded)
    def show(self, data: ReleaseLoaded) -> None:
        if data.match != self._match():
            return  # the filter changed since: a newer page is on its way
        self.stages, self.rows, self.requests = data.stages, data.stages.rows, data.requests
        self._applied = data.match
        self.query_one("#release-page", Static).update(page_status(self.stages, self._match()))
        self.query_one("#release-who", Static).update(data.who)
        stages = self.query_one("#release-stages", PlainTable)
        row = stages.cursor_row
        stages.clear()
        for item in self.rows:
            stages.add_row(*stage_cells(item))
        stages.measure_new_rows()
        places = [(r.model, r.stage) for r in self.rows]
        if data.focus in places:
            stages.move_cursor(row=places.index(data.focus))
        elif self.rows:
            stages.move_cursor(row=min(max(row, 0), len(self.rows) - 1))
        requests = self.query_one("#release-requests", PlainTable)
        row = requests.cursor_row
        requests.clear()
        for view in data.requests:
            requests.add_row(*request_cells(view))
        if not data.requests:
            requests.add_row("-", "no open request", "", "", "", "", "")
        else:
            requests.move_cursor(row=min(max(row, 0), len(data.requests) - 1))
        requests.measure_new_rows()
        if self.pending is not None:
            command, self.pending = self.pending, None
            self._run_command(command)

    def action_next_page(self) -> None:
        if self.stages is not None and self.stages.page.has_after:
            self.load(self._match(), after=self.stages.page.models[-1])

    def action_previous_page(self) -> None:
        if self.stages is not None and self.stages.page.has_before:
            self.load(self._match(), before=self.stages.page.models[0])

    def action_filter(self) -> None:
        self.query_one("#release-filter", Input).focus()

    @on(Input.Changed, "#release-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter.cancel()
        if event.value.strip() == self._applied:
            return  # what is shown already (or a palette command cleared it)
        self._filter.restart()

    @on(Input.Submitted, "#release-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#release-stages", DataTable).focus()

    # ---- palette ------------------------------------------------------------------------------

    def run_command(self, command: ReleaseCommand) -> None:
        """From the palette: read the store again (the page of the target), then select the
        target and confirm."""
        self.pending = command
        if command.request_id is not None:
            self.reload()
            return
        self._applied = ""  # so clearing the filter below does not read the first page again
        self.query_one("#release-filter", Input).value = ""
        self.load("", at=command.model, focus=(command.model, command.stage))

    def _run_command(self, command: ReleaseCommand) -> None:
        if command.request_id is not None:
            ids = [r.id for r in self.requests]
            if command.request_id not in ids:
                self.notify(f"Request {command.request_id} is no longer open.", timeout=4)
                return
            table = self.query_one("#release-requests", DataTable)
            table.move_cursor(row=ids.index(command.request_id))
            table.focus()
            self.action_promote()
            return
        places = [(r.model, r.stage) for r in self.rows]
        if (command.model, command.stage) not in places:
            self.notify(f"{command.model} has no stage {command.stage}.", timeout=4)
            return
        table = self.query_one("#release-stages", DataTable)
        table.move_cursor(row=places.index((command.model, command.stage)))
        table.focus()
        self.action_rollback()

    # ---- selection ----------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#release-stages")
    def stage_selected(self, _event: DataTable.RowSelected) -> None:
        row = self._stage()
        if row is not None:
            from console.tui.screens.model_detail import ModelDetailScreen

            self.app.push_screen(ModelDetailScreen(row.model))

    @on(DataTable.RowSelected, "#release-requests")
    def request_selected(self, _event: DataTable.RowSelected) -> None:
        request = self._request()
        if request is not None:
            self.signoff.open_review(request.id)

    def _stage(self) -> StageRow | None:
        row = self.query_one("#release-stages", DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def _request(self) -> RequestView | None:
        row = self.query_one("#release-requests", DataTable).cursor_row
        return self.requests[row] if 0 <= row < len(self.requests) else None

    def _confirmed(self, modal: ConfirmModal, act: Callable[[Signer, str], object]) -> None:
        """Ask, then unlock the key (once per session), then run `act` in its worker."""

        def answered(reason: str | None) -> None:
            if reason is None:
                return

            def signed(signer: Signer) -> None:
                act(signer, reason)

            self.signoff.with_signer(signed)

        self.app.push_screen(modal, answered)

    # ---- actions ------------------------------------------------------------------------------

    def action_promote(self) -> None:
        request = self._request()
        if request is None:
            self.notify("No open request to promote.", timeout=3)
            return
        if not request.ready:
            self.notify(
                f"Request {request.id} is not ready: " + "; ".join(request.needed),
                severity="warning",
            )
            return
        plan = " → ".join(f"{p}%" for p in request.canary_plan)
        detail = (
            f"{request.model}:{request.version} → {request.stage}, approved by "
            f"{', '.join(request.counted) or 'nobody needed'}. "
            + (f"Starts a canary at {plan}." if plan else "Replaces the stage's version now.")
        )
        self._confirmed(
            ConfirmModal(f"Promote request {request.id}?", detail),
            lambda signer, _reason: self.run_promote(signer, request.id),
        )

    def action_step(self) -> None:
        row = self._stage()
        if row is None or row.canary is None:
            self.notify("Select a stage with a running canary.", timeout=3)
            return
        self.advise_step(row)  # the comparison first: a step is held to it

    @work(thread=True, exclusive=True, exit_on_error=False, group="release-act")
    @reads_store
    def advise_step(self, row: StageRow) -> None:
        self.post_message(StepAdvised(row, step_advice(self.store, row.model, row.stage)))

    @on(StepAdvised)
    def confirm_step(self, message: StepAdvised) -> None:
        row, advice = message.row, message.advice
        title, detail = step_prompt(row, advice)
        if advice.recommendation == ABORT:
            self.notify(f"{title} {detail}", severity="error", timeout=8)
            return
        override = advice.needs_override
        self._confirmed(
            ConfirmModal(title, detail, ask_reason=override),
            lambda signer, reason: self.run_step(
                signer, row.model, row.stage, reason if override else None
            ),
        )

    def action_abort(self) -> None:
        row = self._stage()
        if row is None or row.canary is None:
            self.notify("Select a stage with a running canary.", timeout=3)
            return
        holder = f"v{row.version}" if row.version is not None else "no version"
        self._confirmed(
            ConfirmModal(
                f"Abort the canary of {row.model}:{row.canary} in {row.stage}?",
                f"All traffic returns to {holder}. The reason is recorded in the log.",
                ask_reason=True,
            ),
            lambda signer, reason: self.run_abort(signer, row.model, row.stage, reason),
        )

    def action_rollback(self) -> None:
        row = self._stage()
        if row is None or row.version is None:
            self.notify("Select a stage that holds a version.", timeout=3)
            return
        target = f"v{row.replaced}" if row.replaced else "the version it replaced"
        self._confirmed(
            ConfirmModal(
                f"BREAK-GLASS: roll back {row.stage} of {row.model}?",
                f"Returns {row.stage} from v{row.version} to {target} without approvals"
                + (f" and aborts the canary of v{row.canary}" if row.canary else "")
                + ". It is recorded as break-glass with your reason and shown in every report.",
                ask_reason=True,
            ),
            lambda signer, reason: self.run_rollback(signer, row.model, row.stage, reason),
        )

    # ---- workers: one service call each ------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="release-act")
    def run_promote(self, signer: Signer, request_id: int) -> None:
        change = promote(self.store, signer, request_id)
        self.post_message(ActionDone(describe(change, f"request {request_id}"), change.event_seq))

    @work(thread=True, exclusive=True, exit_on_error=False, group="release-act")
    def run_step(self, signer: Signer, model: str, stage: str, override: str | None) -> None:
        change = canary_step(self.store, signer, model, stage, override)
        self.post_message(ActionDone(describe(change), change.event_seq))

    @work(thread=True, exclusive=True, exit_on_error=False, group="release-act")
    def run_abort(self, signer: Signer, model: str, stage: str, reason: str) -> None:
        change = canary_abort(self.store, signer, model, stage, reason)
        self.post_message(ActionDone(describe(change), change.event_seq))

    @work(thread=True, exclusive=True, exit_on_error=False, group="release-act")
    def run_rollback(self, signer: Signer, model: str, stage: str, reason: str) -> None:
        change = rollback(self.store, signer, model, stage, reason)
        self.post_message(ActionDone(describe(change), change.event_seq))
