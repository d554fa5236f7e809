"""Modal dialogs that return a value: passphrase, decision with comment, confirmation, reason."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class PassphraseModal(ModalScreen[str | None]):
    """Asks once per session for the passphrase of the acting user's key."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]

    def __init__(self, user: str) -> None:
        super().__init__()
        self.user = user

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Unlock {self.user}'s signing key", classes="dialog-title")
            yield Static("Your passphrase stays in this process and is never stored.")
            yield Input(password=True, placeholder="passphrase", id="passphrase")
            with Horizontal(classes="buttons"):
                yield Button("Unlock", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        self.dismiss(self.query_one("#passphrase", Input).value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Decision:
    verdict: str  # approve | reject
    comment: str


class DecisionModal(ModalScreen[Decision | None]):
    """Approve or reject a request with a comment; the caller signs it in a worker."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]

    def __init__(self, verdict: str, summary: str) -> None:
        super().__init__()
        self.verdict = verdict
        self.summary = summary

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"{self.verdict.capitalize()} {self.summary}", classes="dialog-title")
            yield Static("Your decision is signed with your key over the request's evidence.")
            yield Input(placeholder="comment (required)", id="comment")
            yield Static("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(
                    f"Sign and {self.verdict}",
                    variant="success" if self.verdict == "approve" else "error",
                    id="ok",
                )
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        comment = self.query_one("#comment", Input).value.strip()
        if not comment:
            self.query_one("#problem", Static).update("A comment is required.")
            return
        self.dismiss(Decision(self.verdict, comment))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[str | None]):
    """Confirms a consequential action; with `ask_reason`, returns the reason typed."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]

    def __init__(self, title: str, detail: str, *, ask_reason: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail
        self.ask_reason = ask_reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.detail)
            if self.ask_reason:
                yield Input(placeholder="reason (required, recorded in the log)", id="reason")
            yield Static("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button("Confirm", variant="warning", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        if not self.ask_reason:
            self.dismiss("")
            return
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#problem", Static).update("A reason is required.")
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
