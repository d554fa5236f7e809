"""What drift and performance evaluations share: the scope, the loop over served versions, a window.

An evaluation covers the logs of one model ingested before an event, per version that served
them. Each kind measures one version's windows in one grouped DuckDB scan (`VersionWindows`);
this module opens the connection, hands each version its verified log files, and turns each
window's statistics and crossings into a `WindowResult` the same way for both kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from console.analytics import Connection, connect
from console.errors import NotFound
from console.monitoring.logs import TS, VERSION, LogBatch, log_batches, verified_paths
from console.monitoring.settings import MonitoringSettings, Window, monitoring_settings
from console.monitoring.windows import (
    READABLE_TS,
    Crossing,
    WindowResult,
    basis_digest,
    parse_since,
    status_of,
    store_time,
    window_end,
    window_start,
)
from console.registry.refs import check_model_name
from console.registry.views import VersionView, get_model
from console.release.policy import load_policy
from console.store.db import Store

# The log's column DuckDB's `file_index` is projected as, to name the files a window read.
FILE_COLUMN = "_file"


@dataclass(frozen=True)
class EvaluationScope:
    store: Store
    model: str
    settings: MonitoringSettings
    window: Window
    start: datetime | None
    batches: list[LogBatch]
    served: list[int]
    versions: dict[int, VersionView]

    @property
    def since(self) -> str | None:
        """The start of the first window evaluated, in store time (None: from the first log)."""
        return store_time(window_start(self.start, self.window)) if self.start else None

    def version_filter(self, number: int) -> str:
        """SQL selecting the log rows of one version within the scope's time range."""
        where = f"{VERSION} = {number} AND {READABLE_TS}"
        if self.start is not None:
            begin = window_start(self.start, self.window).isoformat(sep=" ")
            where += f" AND {TS} >= TIMESTAMP '{begin}'"
        return where

    def window_result(
        self,
        kind: str,
        version: int,
        start: object,
        rows: int,
        result: dict[str, object],
        crossings: list[Crossing],
        files: Sequence[str],
    ) -> WindowResult:
        """One window of one version; a window with too few rows is insufficient, never alerts."""
        assert isinstance(start, datetime)
        minimum = self.settings.min_window_rows
        crossings = crossings if rows >= minimum else []
        return WindowResult(
            kind=kind,
            model=self.model,
            version=version,
            start=store_time(start),
            end=store_time(window_end(start, self.window)),
            rows=rows,
            status=status_of(rows, minimum, crossings),
            result=result,
            crossings=crossings,
            basis_sha256=basis_digest(files, self.settings.policy_sha256, self.window),
        )


# The windows of one served version, measured on its verified log files.
VersionWindows = Callable[[Connection, VersionView, list[Path]], list[WindowResult]]


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
        store=store,
        model=model,
        settings=settings,
        window=window or settings.window,
        start=parse_since(since),
        batches=batches,
        served=sorted({v for b in batches for v in b.versions}),
        versions={v.number: v for v in view.versions},
    )


def evaluate_windows(scope: EvaluationScope, measure: VersionWindows) -> list[WindowResult]:
    """Every window of every served version, oldest first, on one DuckDB connection."""
    windows: list[WindowResult] = []
    con = connect()
    try:
        for number in scope.served:
            paths = verified_paths(
                scope.store, [b.artifact_sha256 for b in scope.batches if number in b.versions]
            )
            windows += measure(con, scope.versions[number], paths)
    finally:
        con.close()
    windows.sort(key=lambda w: (w.start, w.version))
    return windows


def file_names(paths: Sequence[Path], indices: object) -> list[str]:
    """The files (by name: their digest) that DuckDB's `file_index` values point at."""
    if not isinstance(indices, list):
        return []
    return [paths[int(i)].name for i in indices if isinstance(i, int)]
