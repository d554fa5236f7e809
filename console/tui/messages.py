"""Messages posted when store work finishes; screens change themselves in their handlers."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class StoreChanged(Message):
    """Another process (or this one) changed the store: the audit log grew."""

    log_size: int


@dataclass
class ActionDone(Message):
    """A service call from the console succeeded; `text` says what happened."""

    text: str
