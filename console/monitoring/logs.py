"""Read models of the stored prediction logs and outcome batches, and their verified files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.models import OutcomeBatch, PredictionLog

# The columns every stored log has, before the features (see console.monitoring.ingest).
TS, VERSION, REQUEST_ID, PREDICTION, SCORE, OUTCOME = (
    "ts",
    "version",
    "request_id",
    "prediction",
    "score",
    "outcome",
)
# The input file's names for them.
INPUT_TIMESTAMP = "timestamp"
RESERVED = (INPUT_TIMESTAMP, TS, VERSION, REQUEST_ID, PREDICTION, SCORE, OUTCOME, "_file")


@dataclass(frozen=True)
class LogBatch:
    """One ingested prediction log."""

    id: int
    model: str
    stage: str | None
    artifact_sha256: str
    source_name: str
    source_sha256: str
    source_format: str
    rows: int
    versions: dict[int, int]
    first_ts: str
    last_ts: str
    ingested_at: str
    ingested_by: str
    event_seq: int
    # Columns kept for fairness monitoring, not model inputs (console.monitoring.sensitive).
    sensitive: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["versions"] = {str(k): v for k, v in self.versions.items()}
        return data


def columns_record(stored: Sequence[str], sensitive: Sequence[str]) -> dict[str, list[str]]:
    """What `PredictionLog.columns` holds: the stored columns and which of them are sensitive."""
    return {"stored": list(stored), "sensitive": list(sensitive)}


def sensitive_of(columns: str) -> list[str]:
    """The sensitive columns a log recorded (none in logs stored before they were kept, whose
    `columns` is a plain list)."""
    try:
        data = json.loads(columns)
    except ValueError:
        return []
    found = data.get("sensitive") if isinstance(data, dict) else None
    return [str(c) for c in found] if isinstance(found, list) else []


@dataclass(frozen=True)
class OutcomeBatchView:
    """One ingested batch of outcomes."""

    id: int
    model: str
    artifact_sha256: str
    source_name: str
    source_sha256: str
    rows: int
    matched: int
    unmatched: int
    ingested_at: str
    ingested_by: str
    event_seq: int

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _log_view(row: PredictionLog) -> LogBatch:
    return LogBatch(
        id=row.id,
        model=row.model,
        stage=row.stage,
        artifact_sha256=row.artifact_sha256,
        source_name=row.source_name,
        source_sha256=row.source_sha256,
        source_format=row.source_format,
        rows=row.rows,
        versions={int(k): int(v) for k, v in json.loads(row.versions).items()},
        first_ts=row.first_ts,
        last_ts=row.last_ts,
        ingested_at=row.ingested_at,
        ingested_by=row.ingested_by,
        event_seq=row.event_seq,
        sensitive=sensitive_of(row.columns),
    )


def log_batches_in(
    session: Session, model: str, *, upto_seq: int | None = None, stage: str | None = None
) -> list[LogBatch]:
    query = select(PredictionLog).where(PredictionLog.model == model)
    if upto_seq is not None:
        query = query.where(PredictionLog.event_seq < upto_seq)
    if stage is not None:
        query = query.where(PredictionLog.stage == stage)
    return [_log_view(r) for r in session.exec(query.order_by(col(PredictionLog.id))).all()]


def log_batches(
    store: Store, model: str, *, upto_seq: int | None = None, stage: str | None = None
) -> list[LogBatch]:
    """The model's prediction logs, oldest first; `upto_seq`: those logged before event N."""
    with store.session() as session:
        return log_batches_in(session, model, upto_seq=upto_seq, stage=stage)


def outcome_batches_in(
    session: Session, model: str, *, upto_seq: int | None = None
) -> list[OutcomeBatchView]:
    query = select(OutcomeBatch).where(OutcomeBatch.model == model)
    if upto_seq is not None:
        query = query.where(OutcomeBatch.event_seq < upto_seq)
    return [
        OutcomeBatchView(
            r.id,
            r.model,
            r.artifact_sha256,
            r.source_name,
            r.source_sha256,
            r.rows,
            r.matched,
            r.unmatched,
            r.ingested_at,
            r.ingested_by,
            r.event_seq,
        )
        for r in session.exec(query.order_by(col(OutcomeBatch.id))).all()
    ]


def outcome_batches(
    store: Store, model: str, *, upto_seq: int | None = None
) -> list[OutcomeBatchView]:
    """The model's outcome batches, oldest first; `upto_seq`: those recorded before event N."""
    with store.session() as session:
        return outcome_batches_in(session, model, upto_seq=upto_seq)


def verified_paths(store: Store, digests: list[str]) -> list[Path]:
    """The Parquet files of these artifacts, each checked against its digest (IntegrityError)."""
    artifacts = ArtifactStore(store.artifacts_dir)
    return [artifacts.verified_path(d) for d in dict.fromkeys(digests)]
