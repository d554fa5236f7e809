"""`ingest_predictions`: a prediction log in, checked in DuckDB SQL, kept as a Parquet artifact.

The file (CSV, Parquet or JSON lines) holds `timestamp`, `version`, `prediction`, the features
of the versions that served, and optionally `request_id` and `score` (the positive class's
probability); SageMaker and KServe capture logs are first turned into those columns
(`console.monitoring.capture_formats`). It is parsed once into a scratch Parquet file, checked
with a few aggregate queries (no row reaches Python), and written by DuckDB COPY as the
normalised log: `ts` (TIMESTAMP, UTC), `version`, `request_id`, `prediction`, `score`, then
the features (numeric ones as DOUBLE, the rest as text), in no particular order (every query
aggregates). Any problem is one BadInput with a count and examples, and nothing is stored;
the log's artifact, its row and its `monitoring.ingested` event are written together, and the
artifact is removed again if the transaction fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
from sqlmodel import Session, select

from audit.canonical import canonical_json
from audit.keys import Signer
from console.analytics import (
    Connection,
    connect,
    ident,
    one_line,
    path_literal,
    rows,
)
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.auditing.monitoring_payloads import Backfill
from console.errors import BadInput, NotFound
from console.files import input_sha256
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.monitoring.capture_formats import log_format, read_log
from console.monitoring.class_labels import label_text
from console.monitoring.log_checks import LogPlan, check_classes, check_log
from console.monitoring.logs import (
    INPUT_TIMESTAMP,
    PREDICTION,
    REQUEST_ID,
    SCORE,
    TS,
    VERSION,
    LogBatch,
    columns_record,
    log_batches_in,
    verified_paths,
)
from console.monitoring.sensitive import sensitive_plan, sensitive_sql, validated_attributes
from console.monitoring.serving_dates import check_backfill_reason, checked_dates
from console.monitoring.uploads import (
    RawFile,
    integer_sql,
    recording_artifact,
    refuse_known_ids,
    stage_artifact,
    timestamp_sql,
)
from console.registry.refs import check_model_name
from console.registry.views import get_model
from console.release.policy import load_policy
from console.release.serving import serving_stage
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import PredictionLog, StageAssignment


@dataclass(frozen=True)
class IngestResult:
    log_id: int
    model: str
    stage: str | None
    rows: int
    versions: dict[int, int]
    first_ts: str
    last_ts: str
    artifact_sha256: str
    source_sha256: str
    with_request_ids: int
    ignored_columns: list[str]
    event_seq: int
    sensitive_columns: list[str] = field(default_factory=list)
    backfill: Backfill | None = None  # the reason and counts of --allow-backfill

    def as_dict(self) -> dict[str, object]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["versions"] = {str(k): v for k, v in self.versions.items()}
        return data


# ---- writing ---------------------------------------------------------------------------------


def copy_log(
    con: Connection,
    raw: RawFile,
    plan: LogPlan,
    task: str,
    target: Path,
    extra: Sequence[str] = (),
) -> None:
    """Write the normalised log: fixed leading columns, the typed features, then `extra` (the
    select items of the sensitive columns)."""
    prediction = (
        f"TRY_CAST({ident(PREDICTION)} AS DOUBLE)"
        if task == "regression"
        else label_text(ident(PREDICTION), raw.types[PREDICTION])
    )
    columns = [
        f"{timestamp_sql(INPUT_TIMESTAMP, raw.types[INPUT_TIMESTAMP])} AS {TS}",
        f"{integer_sql(VERSION)} AS {VERSION}",
        (
            f"CAST({ident(REQUEST_ID)} AS VARCHAR) AS {REQUEST_ID}"
            if REQUEST_ID in raw.types
            else f"CAST(NULL AS VARCHAR) AS {REQUEST_ID}"
        ),
        f"{prediction} AS {PREDICTION}",
        (
            f"TRY_CAST({ident(SCORE)} AS DOUBLE) AS {SCORE}"
            if SCORE in raw.types
            else f"CAST(NULL AS DOUBLE) AS {SCORE}"
        ),
    ]
    for feature, kind in plan.features:
        if kind == "numeric":
            columns.append(f"TRY_CAST({ident(feature)} AS DOUBLE) AS {ident(feature)}")
        elif kind == "datetime":
            columns.append(ident(feature))
        else:
            columns.append(f"CAST({ident(feature)} AS VARCHAR) AS {ident(feature)}")
    columns += extra
    try:
        con.execute(
            # No ORDER BY: every query aggregates, and sorting ten million rows doubles the cost.
            f"COPY (SELECT {', '.join(columns)} FROM {raw.source}) "
            f"TO {path_literal(target)} (FORMAT parquet, COMPRESSION zstd)"
        )
    except duckdb.Error as exc:
        raise BadInput(f"writing the log failed: {one_line(exc)}") from exc


def _refuse_ids_logged_meanwhile(
    store: Store,
    session: Session,
    model: str,
    seen: Sequence[LogBatch],
    digest: str,
    name: str,
) -> None:
    """Under the write lock: the ids checked before it, against the logs committed since."""
    known = {batch.id for batch in seen}
    newer = [b for b in log_batches_in(session, model) if b.id not in known]
    if not newer:
        return
    stored = ArtifactStore(store.artifacts_dir).path_for(digest)
    ids = (
        f"(SELECT {REQUEST_ID} AS rid FROM read_parquet({path_literal(stored)}) "
        f"WHERE {REQUEST_ID} IS NOT NULL)"
    )
    con = connect()
    try:
        refuse_known_ids(
            con,
            ids,
            verified_paths(store, [b.artifact_sha256 for b in newer]),
            "comparing request ids with logs ingested meanwhile",
            f"{name}: {{count}} request ids were already logged (e.g. {{shown}}), by a log "
            "ingested at the same time; nothing was recorded",
        )
    finally:
        con.close()


def ingest_predictions(
    store: Store,
    signer: Signer,
    model: str,
    path: Path,
    *,
    stage: str | None = None,
    sensitive: Sequence[str] | None = None,
    fmt: str | None = None,
    version: int | None = None,
    allow_backfill: str | None = None,
) -> IngestResult:
    """Check, normalise and store a prediction log; BadInput leaves the store as it was.

    `sensitive` names the group columns to keep for fairness monitoring (None: the attributes
    the model's latest validation compared, those the file has; see console.monitoring.sensitive).
    `fmt` (console.monitoring.capture_formats.FORMATS) is detected when not given; `version`
    names the version behind a sagemaker or kserve log's endpoint. Rows dated before their
    version served the stage, or after now, are refused unless `allow_backfill` says why
    (`console.monitoring.serving_dates`).
    """
    check_model_name(model)
    check_backfill_reason(allow_backfill)
    path = Path(path)
    fmt = log_format(path, fmt, version)
    view = get_model(store, model)
    if not view.versions:
        raise NotFound(f"model {model!r} has no versions yet; nothing can have served")
    from console.monitoring.labels import known_classes

    with store.session() as session:
        require_actor(session, signer, Permission.INGEST)  # refuse before any heavy work
        earlier = log_batches_in(session, model)
        classes = known_classes(session, view)
        validated = validated_attributes(session, view)
    policy = load_policy(store)
    if stage is not None:
        stage = policy.stage(stage).name
    source_digest = input_sha256(path)
    for batch in earlier:
        if batch.source_sha256 == source_digest:
            raise BadInput(
                f"{path.name} was already ingested as log {batch.id} on {batch.ingested_at[:10]} "
                f"(sha256 {source_digest[:16]}…); nothing to do"
            )
    earlier_paths = verified_paths(store, [b.artifact_sha256 for b in earlier])

    def work(
        con: Connection, scratch: Path
    ) -> tuple[tuple[RawFile, LogPlan, list[str], list[str]], Path]:
        raw = read_log(con, path, fmt, scratch, view, version, (PREDICTION, REQUEST_ID))
        plan = check_log(con, raw, path.name, view, earlier_paths)
        check_classes(con, raw, path.name, plan.rows, classes)
        kept = sensitive_plan(con, raw, path.name, sensitive, validated)
        plan = replace(plan, ignored=[c for c in plan.ignored if c not in kept])
        target = scratch / "log.parquet"
        extra = sensitive_sql(kept, [f for f, _ in plan.features])
        copy_log(con, raw, plan, view.versions[-1].task_type, target, extra)
        described = rows(
            con,
            f"DESCRIBE SELECT * FROM read_parquet({path_literal(target)})",
            "reading back the log",
        )
        return (raw, plan, [str(r[0]) for r in described], kept), target

    (raw, plan, stored, kept), digest, staged = stage_artifact(store, work)
    with recording_artifact(store, signer, digest, staged) as session:
        if plan.with_request_ids:
            _refuse_ids_logged_meanwhile(store, session, model, earlier, digest, path.name)
        same = session.exec(
            select(PredictionLog).where(
                PredictionLog.model == model, PredictionLog.artifact_sha256 == digest
            )
        ).first()
        if same is not None:
            raise BadInput(
                f"{path.name} holds exactly the predictions of log {same.id} "
                f"({same.source_name}); nothing to do"
            )
        where = stage or _stage_order_default(session, policy.stage_names, model, plan)
        now = store.clock()
        stored_log = ArtifactStore(store.artifacts_dir).path_for(digest)
        backfill = checked_dates(
            session, stored_log, model, where, plan.versions, plan.rows, now, path.name,
            allow_backfill,
        )  # fmt: skip
        log_id = next_id(session, PredictionLog)
        payload: dict[str, object] = {
            "log": log_id,
            "model": model,
            "stage": where,
            "artifact_sha256": digest,
            "source_name": path.name,
            "source_sha256": source_digest,
            "source_format": raw.format,
            "rows": plan.rows,
            "versions": {str(k): v for k, v in plan.versions.items()},
            "first_ts": plan.first_ts,
            "last_ts": plan.last_ts,
            "with_request_ids": plan.with_request_ids,
            "ignored_columns": plan.ignored,
            "sensitive_columns": kept,
        }
        if backfill is not None:
            payload["backfill"] = backfill
        event = append_event(
            session,
            signer,
            actions.MONITORING_INGESTED,
            f"log:{log_id}",
            payload,
            ts=now,
            model=model,
        )
        session.add(
            PredictionLog(
                id=log_id,
                model=model,
                stage=where,
                artifact_sha256=digest,
                source_name=path.name,
                source_sha256=source_digest,
                source_format=raw.format,
                rows=plan.rows,
                versions=canonical_json(payload["versions"]).decode(),
                first_ts=plan.first_ts,
                last_ts=plan.last_ts,
                columns=canonical_json(columns_record(stored, kept)).decode(),
                ingested_at=now,
                ingested_by=signer.name,
                event_seq=event.seq,
            )
        )
        return IngestResult(
            log_id=log_id,
            model=model,
            stage=where,
            rows=plan.rows,
            versions=plan.versions,
            first_ts=plan.first_ts,
            last_ts=plan.last_ts,
            artifact_sha256=digest,
            source_sha256=source_digest,
            with_request_ids=plan.with_request_ids,
            ignored_columns=plan.ignored,
            event_seq=event.seq,
            sensitive_columns=kept,
            backfill=backfill,
        )


def _stage_order_default(
    session: Session, order: Sequence[str], model: str, plan: LogPlan
) -> str | None:
    """The last stage, in policy order, that holds (or canaries) a version that served."""
    held = session.exec(select(StageAssignment).where(StageAssignment.model == model)).all()
    served = {
        r.stage: r.version if r.version in plan.versions else r.canary_version
        for r in held
        if r.version in plan.versions or r.canary_version in plan.versions
    }
    return serving_stage(order, served)
