"""`ingest_outcomes`: outcomes that arrive after the prediction, joined to it by request id.

The file holds `request_id` and the outcome (a column named `outcome`, or the model's target
name, or `--outcome COL`). Refused with a count and examples: missing ids or outcomes, ids
given twice, ids that already have an outcome, outcomes the model cannot have (a class it
never predicts, a regression outcome that is not a number), and ids no prediction log holds.
Those last are never silently dropped: they are refused, or, with `allow_unmatched`, stored
and counted in the batch and its event (they match once their predictions are ingested).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
from sqlmodel import Session

from audit.keys import Signer
from console.analytics import (
    Connection,
    count,
    ident,
    listing,
    one_line,
    parquet_source,
    path_literal,
    rows,
)
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.errors import BadInput, NotFound
from console.files import input_sha256
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.monitoring.class_labels import label_of, label_text
from console.monitoring.logs import (
    OUTCOME,
    REQUEST_ID,
    log_batches_in,
    outcome_batches_in,
    verified_paths,
)
from console.monitoring.uploads import (
    EXAMPLES,
    examples,
    read_raw,
    recording_artifact,
    refuse_known_ids,
    refuse_repeated_ids,
    stage_artifact,
)
from console.registry.refs import check_model_name
from console.registry.views import ModelView, get_model
from console.release.evidence import latest_validation_in
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import OutcomeBatch
from console.validation.details import ConfusionMatrix, details_as


@dataclass(frozen=True)
class OutcomeResult:
    batch_id: int
    model: str
    rows: int
    matched: int
    unmatched: int
    unmatched_examples: list[str]
    artifact_sha256: str
    source_sha256: str
    event_seq: int

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def known_classes(session: Session, model: ModelView) -> list[str] | None:
    """The class labels the model's validation runs saw it predict (None for regressors)."""
    if model.versions[-1].task_type != "classification":
        return None
    labels: list[str] = []
    for version in model.versions:
        run = latest_validation_in(session, model.name, version.number)
        check = run.check("performance.confusion_matrix") if run is not None else None
        recorded = details_as(check, ConfusionMatrix) if check is not None else None
        if recorded is not None:
            labels.extend(label_of(v) for v in recorded.labels)
    return list(dict.fromkeys(labels)) or None


def _outcome_column(types: dict[str, str], model: ModelView, asked: str | None) -> str:
    if asked is not None:
        if asked not in types:
            raise BadInput(f"--outcome {asked!r} is not a column (columns: {listing(list(types))})")
        return asked
    for candidate in (OUTCOME, model.versions[-1].target):
        if candidate in types:
            return candidate
    raise BadInput(
        f"no outcome column: name it {OUTCOME!r} or {model.versions[-1].target!r}, "
        "or pass --outcome COL"
    )


def ingest_outcomes(
    store: Store,
    signer: Signer,
    model: str,
    path: Path,
    *,
    outcome_column: str | None = None,
    allow_unmatched: bool = False,
) -> OutcomeResult:
    """Check and store a batch of outcomes; BadInput leaves the store as it was."""
    check_model_name(model)
    path = Path(path)
    view = get_model(store, model)
    if not view.versions:
        raise NotFound(f"model {model!r} has no versions yet")
    with store.session() as session:
        require_actor(session, signer, Permission.INGEST)  # refuse before any heavy work
        earlier = outcome_batches_in(session, model)
        logs = log_batches_in(session, model)
        classes = known_classes(session, view)
    source_digest = input_sha256(path)
    for batch in earlier:
        if batch.source_sha256 == source_digest:
            raise BadInput(
                f"{path.name} was already ingested as outcome batch {batch.id}; nothing to do"
            )
    log_paths = verified_paths(store, [b.artifact_sha256 for b in logs])
    earlier_paths = verified_paths(store, [b.artifact_sha256 for b in earlier])
    regression = view.versions[-1].task_type == "regression"

    def work(con: Connection, scratch: Path) -> tuple[tuple[str, int, int, int, list[str]], Path]:
        outcome_names = [outcome_column or OUTCOME, view.versions[-1].target]
        raw = read_raw(con, path, scratch, text=(REQUEST_ID, *outcome_names))
        if REQUEST_ID not in raw.types:
            raise BadInput(
                f"{path.name} lacks the column request_id; outcomes are joined to "
                "predictions by the request id the prediction log carries"
            )
        column = _outcome_column(raw.types, view, outcome_column)
        total = count(con, f"SELECT count(*) FROM {raw.source}", f"counting {path.name}")
        if total == 0:
            raise BadInput(f"{path.name} has no rows; an outcome file needs at least one")
        outcome = (
            f"TRY_CAST({ident(column)} AS DOUBLE)"
            if regression
            else label_text(ident(column), raw.types[column])
        )
        _refuse_gaps(con, raw.source, path.name, total, column, outcome, regression, classes)
        matched, unmatched, shown = _match(con, raw.source, path.name, log_paths, earlier_paths)
        if unmatched and not allow_unmatched:
            what = "no prediction log holds them" if logs else f"{model} has no logs yet"
            raise BadInput(
                f"{path.name}: {unmatched} of {total} request ids were never logged "
                f"(e.g. {listing(shown)}; {what}); ingest their predictions first, or pass "
                "--allow-unmatched to keep them until they are"
            )
        target = scratch / "outcomes.parquet"
        try:
            con.execute(
                f"COPY (SELECT CAST({ident(REQUEST_ID)} AS VARCHAR) AS {REQUEST_ID}, "
                f"{outcome} AS {OUTCOME} FROM {raw.source} ORDER BY 1) "
                f"TO {path_literal(target)} (FORMAT parquet, COMPRESSION zstd)"
            )
        except duckdb.Error as exc:
            raise BadInput(f"writing the outcomes failed: {one_line(exc)}") from exc
        return (column, total, matched, unmatched, shown), target

    (column, total, matched, unmatched, shown), digest, staged = stage_artifact(store, work)
    with recording_artifact(store, signer, digest, staged) as session:
        batch_id = next_id(session, OutcomeBatch)
        now = store.clock()
        event = append_event(
            session,
            signer,
            actions.MONITORING_LABELS_INGESTED,
            f"outcomes:{batch_id}",
            {
                "batch": batch_id,
                "model": model,
                "artifact_sha256": digest,
                "source_name": path.name,
                "source_sha256": source_digest,
                "outcome_column": column,
                "rows": total,
                "matched": matched,
                "unmatched": unmatched,
                "unmatched_examples": shown,
                "allow_unmatched": allow_unmatched,
            },
            ts=now,
            model=model,
        )
        session.add(
            OutcomeBatch(
                id=batch_id,
                model=model,
                artifact_sha256=digest,
                source_name=path.name,
                source_sha256=source_digest,
                rows=total,
                matched=matched,
                unmatched=unmatched,
                ingested_at=now,
                ingested_by=signer.name,
                event_seq=event.seq,
            )
        )
        return OutcomeResult(
            batch_id, model, total, matched, unmatched, shown, digest, source_digest, event.seq
        )


def _refuse_gaps(
    con: Connection,
    source: str,
    name: str,
    total: int,
    column: str,
    outcome: str,
    regression: bool,
    classes: list[str] | None,
) -> None:
    rid = ident(REQUEST_ID)
    for where, what, shown_column in (
        (f"{rid} IS NULL", "have no request id (outcomes", column),
        (f"{ident(column)} IS NULL", f"have no outcome in {column!r} (request ids", REQUEST_ID),
    ):
        bad = count(con, f"SELECT count_if({where}) FROM {source}", "checking outcomes")
        if bad:
            shown = examples(con, source, shown_column, where)
            raise BadInput(f"{name}: {bad} of {total} rows {what} e.g. {listing(shown)})")
    if regression:
        where = f"{outcome} IS NULL"
        bad = count(con, f"SELECT count_if({where}) FROM {source}", "checking outcomes")
        if bad:
            shown = examples(con, source, column, where)
            raise BadInput(
                f"{name}: {bad} of {total} outcomes are not numbers (e.g. {listing(shown)}); "
                "a regression outcome is the observed value"
            )
    elif classes:
        known = ", ".join(f"'{c}'" for c in classes)
        where = f"{outcome} NOT IN ({known})"
        bad = count(con, f"SELECT count_if({where}) FROM {source}", "checking outcome labels")
        if bad:
            shown = examples(con, source, column, where)
            raise BadInput(
                f"{name}: {bad} of {total} outcomes are labels the model never predicts "
                f"(e.g. {listing(shown)}); its classes are {', '.join(classes)}"
            )
    ids = f"(SELECT CAST({rid} AS VARCHAR) AS rid FROM {source})"
    refuse_repeated_ids(con, ids, name, "give each request one outcome")


def _match(
    con: Connection,
    source: str,
    name: str,
    logs: list[Path],
    earlier: list[Path],
) -> tuple[int, int, list[str]]:
    """(matched, unmatched, examples of unmatched); refuses ids that already have an outcome."""
    ids = f"(SELECT CAST({ident(REQUEST_ID)} AS VARCHAR) AS rid FROM {source})"
    refuse_known_ids(
        con,
        ids,
        earlier,
        "comparing with earlier outcomes",
        f"{name}: {{count}} request ids already have an outcome (e.g. {{shown}}); "
        "outcomes are recorded once",
    )
    total = count(con, f"SELECT count(*) FROM {ids}", "counting request ids")
    if not logs:
        shown = [str(r[0]) for r in rows(con, f"SELECT rid FROM {ids} ORDER BY rid LIMIT 5", "")]
        return 0, total, shown
    logged = f"(SELECT {REQUEST_ID} FROM {parquet_source(logs)} WHERE {REQUEST_ID} IS NOT NULL)"
    unmatched = count(
        con, f"SELECT count(*) FROM {ids} WHERE rid NOT IN {logged}", "matching request ids"
    )
    shown = (
        [
            str(r[0])
            for r in rows(
                con,
                f"SELECT rid FROM {ids} WHERE rid NOT IN {logged} ORDER BY rid LIMIT {EXAMPLES}",
                "matching request ids",
            )
        ]
        if unmatched
        else []
    )
    return total - unmatched, unmatched, shown
