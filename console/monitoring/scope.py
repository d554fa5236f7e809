"""What a drift or performance evaluation covers: the model, its settings, window and logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from console.errors import NotFound
from console.monitoring.logs import LogBatch, log_batches
from console.monitoring.settings import MonitoringSettings, Window, monitoring_settings
from console.monitoring.windows import parse_since
from console.registry.refs import check_model_name
from console.registry.views import VersionView, get_model
from console.release.policy import load_policy
from console.store.db import Store


@dataclass(frozen=True)
class EvaluationScope:
    settings: MonitoringSettings
    window: Window
    start: datetime | None
    batches: list[LogBatch]
    served: list[int]
    versions: dict[int, VersionView]


def evaluation_scope(
    store: Store,
    model: str,
    *,
    window: Window | None,
    since: str | None,
    upto_seq: int | None,
) -> EvaluationScope:
    """The logs of `model` ingested before event `upto_seq`, and the versions that served them."""
    check_model_name(model)
    view = get_model(store, model)
    settings = monitoring_settings(load_policy(store))
    batches = log_batches(store, model, upto_seq=upto_seq)
    if not batches:
        raise NotFound(
            f"no prediction logs for {model} yet; ingest some with `signoff monitor ingest`"
        )
    return EvaluationScope(
        settings=settings,
        window=window or settings.window,
        start=parse_since(since),
        batches=batches,
        served=sorted({v for b in batches for v in b.versions}),
        versions={v.number: v for v in view.versions},
    )
