"""Messages workers post when store reads finish; handlers on the screens change the view."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.registry import ModelView


@dataclass
class ModelsLoaded(Message):
    models: list[ModelView]
    log_size: int


@dataclass
class LoadFailed(Message):
    text: str
