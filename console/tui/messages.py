"""Messages every screen handles: the store changed, or an action of this console was recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from rich.text import Text


@dataclass
class StoreChanged(Message):
    """Another process (or this one) changed the store: the audit log grew."""

    log_size: int


@dataclass
class ActionDone(Message):
    """A signed action from the console was recorded; its worker posts this, and
    `SignoffScreen.on_action_done` is the one place that reports it back."""

    summary: str  # what happened, for the notification
    event_seq: int | None  # the audit event that records it
    detail: Text | None = None  # what the screen shows of the result, built in the worker
