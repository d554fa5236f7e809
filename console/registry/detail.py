"""One model's detail as the console shows it, read in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from console.registry.views import ModelView, get_model
from console.release.evidence import ValidationView, latest_validations
from console.release.history import HistoryEntry, history
from console.store.db import Store


@dataclass(frozen=True)
class ModelDetail:
    """A model, each validated version's newest run (checks included), and its history."""

    model: ModelView
    latest_runs: dict[int, ValidationView]  # by version number; a version never validated is absent
    history: list[HistoryEntry]


def model_detail(store: Store, name: str) -> ModelDetail:
    """What the model detail screen shows, however many versions the model has."""
    return ModelDetail(
        get_model(store, name), latest_validations(store, name), history(store, name).entries
    )
