"""`ingest_predictions`: a prediction log in, checked in DuckDB SQL, kept as a Parquet artifact.

The file (CSV, Parquet or JSON lines) holds `timestamp`, `version`, `prediction`, the features
of the versions that served, and optionally `request_id` and `score` (the positive class's
probability). It is parsed once into a scratch Parquet file, checked with a few aggregate
queries (no row reaches Python), and written by DuckDB COPY as the normalised log: `ts`
(TIMESTAMP, UTC), `version`, `request_id`, `prediction`, `score`, then the features (numeric
ones as DOUBLE, the rest as text), in no particular order (every query aggregates). Any
problem is one BadInput with a count and examples, and nothing is stored; the log's artifact,
its row and its `monitoring.ingested` event are written together, and the artifact is removed
again if the transaction fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
from sqlmodel import Session, select

from audit.canonical import canonical_json
from audit.keys import Signer
from console.analytics import (
    connect,
    count,
    ident,
    listing,
    literal,
    one_line,
    parquet_source,
    path_literal,
    rows,
)
from console.auditing.log import append_event
from console.errors import BadInput, NotFound
from console.files import input_sha256
from console.identity.actor import require_actor
from console.monitoring.class_labels import label_text
from console.monitoring.logs import (
    INPUT_TIMESTAMP,
    PREDICTION,
    REQUEST_ID,
    RESERVED,
    SCORE,
    TS,
    VERSION,
    log_batches_in,
    verified_paths,
)
from console.monitoring.settings import INGEST_ROLES
from console.registry.profiling import kind_of, relation_sql
from console.registry.refs import check_model_name
from console.registry.views import ModelView, VersionView, get_model
from console.release.policy import load_policy
from console.release.serving import serving_stage
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import PredictionLog, StageAssignment

_EXAMPLES = 5
_SNIFF = 1 << 16
FORMATS = ("csv", "parquet", "json")


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

    def as_dict(self) -> dict[str, object]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["versions"] = {str(k): v for k, v in self.versions.items()}
        return data


# ---- reading the file ----------------------------------------------------------------------


def detect_log_format(path: Path) -> str:
    """parquet (magic bytes), json (.json/.jsonl/.ndjson or a leading brace) or csv."""
    try:
        if not path.exists():
            raise BadInput(f"file {path} does not exist; check the path")
        if not path.is_file():
            raise BadInput(f"{path} is not a regular file; give a CSV, Parquet or JSON lines file")
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except PermissionError as exc:
        raise BadInput(f"cannot read {path}: permission denied") from exc
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head.strip():
        raise BadInput(f"{path} is empty: it has no rows")
    if head.startswith(b"PAR1"):
        return "parquet"
    if path.suffix.lower() in (".json", ".jsonl", ".ndjson") or head.lstrip()[:1] in (b"{", b"["):
        return "json"
    if b"\x00" in head:
        raise BadInput(
            f"{path} is neither CSV, Parquet nor JSON lines (it holds binary data); "
            "export it as one of those"
        )
    return "csv"


@dataclass(frozen=True)
class RawFile:
    """The input parsed once: a relation DuckDB reads fast, and its columns' types."""

    source: str
    types: dict[str, str]
    format: str


def read_raw(
    con: duckdb.DuckDBPyConnection, path: Path, scratch: Path, text: Sequence[str] = ()
) -> RawFile:
    """Parse CSV or JSON once into scratch Parquet (Parquet is read in place).

    CSV columns named in `text` are read as text, not sniffed: labels and ids keep what the
    file says ("yes" stays "yes" rather than becoming true, "007" stays "007").
    """
    fmt = detect_log_format(path)
    if fmt == "parquet":
        source = f"read_parquet({path_literal(path)})"
    else:
        target = scratch / "raw.parquet"
        attempts = (
            [_csv_reader(con, path, text, sample_all) for sample_all in (False, True)]
            if fmt == "csv"
            else [f"read_json({path_literal(path)}, format = 'auto')"]
        )
        error: duckdb.Error | None = None
        for reader in attempts:
            try:
                con.execute(
                    f"COPY (SELECT * FROM {reader}) TO {path_literal(target)} (FORMAT parquet)"
                )
                error = None
                break
            except duckdb.Error as exc:  # a late row that breaks sniffed types: sniff every row
                error = exc
        if error is not None:
            raise BadInput(f"{path.name} could not be read as {fmt}: {one_line(error)}")
        source = f"read_parquet({path_literal(target)})"
    described = rows(con, f"DESCRIBE SELECT * FROM {source}", f"reading the columns of {path.name}")
    return RawFile(source, {str(r[0]): str(r[1]) for r in described}, fmt)


def _csv_reader(
    con: duckdb.DuckDBPyConnection, path: Path, text: Sequence[str], sample_all: bool
) -> str:
    reader = relation_sql(path, "csv", sample_all=sample_all)
    try:
        header = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as exc:
        raise BadInput(f"{path.name} could not be read as csv: {one_line(exc)}") from exc
    typed = [c for c in dict.fromkeys(text) if c in header]
    if not typed:
        return reader
    types = ", ".join(f"{literal(c)}: 'VARCHAR'" for c in typed)
    return reader[: -len(")")] + f", types = {{{types}}})"


def timestamp_sql(column: str, dtype: str) -> str:
    """The column as a UTC TIMESTAMP, NULL where it does not parse (offsets are honoured)."""
    upper = dtype.upper()
    if upper in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return f"({ident(column)} AT TIME ZONE 'UTC')"
    if upper.startswith("TIMESTAMP") or upper == "DATE":  # no zone: UTC already
        return f"CAST({ident(column)} AS TIMESTAMP)"
    return f"(TRY_CAST(CAST({ident(column)} AS VARCHAR) AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"


def integer_sql(column: str) -> str:
    """A whole number (1, 1.0, '1'), NULL for anything else."""
    number = f"TRY_CAST({ident(column)} AS DOUBLE)"
    return (
        f"(CASE WHEN {number} = round({number}) AND abs({number}) < 1e15 "
        f"THEN CAST({number} AS BIGINT) END)"
    )


def examples(
    con: duckdb.DuckDBPyConnection, source: str, column: str, where: str, limit: int = _EXAMPLES
) -> list[str]:
    """A few distinct offending values of `column`, as text ('(empty)' for a missing one)."""
    found = rows(
        con,
        f"SELECT DISTINCT coalesce(CAST({ident(column)} AS VARCHAR), '(empty)') AS v "
        f"FROM {source} WHERE {where} ORDER BY v LIMIT {limit}",
        "collecting examples",
    )
    return [str(r[0])[:60] for r in found]


# ---- checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    rows: int
    versions: dict[int, int]
    features: list[tuple[str, str]]  # (name, kind) in the order the versions list them
    first_ts: str
    last_ts: str
    with_request_ids: int
    ignored: list[str]


def _require_columns(raw: RawFile, name: str, needed: Sequence[str], why: str) -> None:
    missing = [c for c in needed if c not in raw.types]
    if missing:
        raise BadInput(f"{name} lacks the column(s) {', '.join(missing)}; {why}")


def check_log(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    name: str,
    model: ModelView,
    earlier: Sequence[Path],
) -> _Plan:
    """Every refusal the issue lists, each with a count and examples; the plan of the copy."""
    _require_columns(
        raw,
        name,
        [INPUT_TIMESTAMP, VERSION, PREDICTION],
        "a prediction log needs timestamp, version, prediction and the features "
        "(request_id and score are optional)",
    )
    src = raw.source
    total = count(con, f"SELECT count(*) FROM {src}", f"counting the rows of {name}")
    if total == 0:
        raise BadInput(f"{name} has no rows; a prediction log needs at least one")
    ts = timestamp_sql(INPUT_TIMESTAMP, raw.types[INPUT_TIMESTAMP])
    bad_ts = count(con, f"SELECT count_if({ts} IS NULL) FROM {src}", "checking timestamps")
    if bad_ts:
        shown = examples(con, src, INPUT_TIMESTAMP, f"{ts} IS NULL")
        raise BadInput(
            f"{name}: {bad_ts} of {total} rows have a timestamp that does not parse "
            f"(e.g. {listing(shown)}); write ISO 8601 such as 2026-11-02T09:00:00Z"
        )
    version = integer_sql(VERSION)
    bad_version = count(
        con, f"SELECT count_if({version} IS NULL) FROM {src}", "checking the version column"
    )
    if bad_version:
        shown = examples(con, src, VERSION, f"{version} IS NULL")
        raise BadInput(
            f"{name}: {bad_version} of {total} rows have no version number "
            f"(e.g. {listing(shown)}); each row names the version of {model.name} that served it"
        )
    per_version = {
        int(str(r[0])): int(str(r[1]))
        for r in rows(
            con, f"SELECT {version}, count(*) FROM {src} GROUP BY 1 ORDER BY 1", "counting versions"
        )
    }
    known = {v.number: v for v in model.versions}
    unknown = {v: n for v, n in per_version.items() if v not in known}
    if unknown:
        described = ", ".join(f"{v} ({n} rows)" for v, n in list(unknown.items())[:_EXAMPLES])
        raise BadInput(
            f"{name}: {sum(unknown.values())} of {total} rows name versions {model.name} does not "
            f"have: {described}; its versions are " + ", ".join(str(v) for v in sorted(known))
        )
    features = _features([known[v] for v in per_version])
    clash = [f for f, _ in features if f in RESERVED]
    if clash:
        raise BadInput(
            f"{model.name}'s feature(s) {', '.join(clash)} use a name the prediction log reserves "
            f"({', '.join(RESERVED)}); rename the feature to monitor this model"
        )
    missing = [f for f, _ in features if f not in raw.types]
    if missing:
        served = ", ".join(f"{model.name}:{v}" for v in per_version)
        raise BadInput(
            f"{name} lacks {len(missing)} feature column(s) of {served}: {listing(missing, 8)}; "
            "each row must carry the features of the version that served it"
        )
    for feature, kind in features:
        if kind != "numeric" or kind_of(raw.types[feature]) == "numeric":
            continue
        where = f"{ident(feature)} IS NOT NULL AND TRY_CAST({ident(feature)} AS DOUBLE) IS NULL"
        bad = count(con, f"SELECT count_if({where}) FROM {src}", f"checking feature {feature}")
        if bad:
            shown = examples(con, src, feature, where)
            raise BadInput(
                f"{name}: {bad} of {total} values of the numeric feature {feature!r} are not "
                f"numbers (e.g. {listing(shown)}); the log does not match the input schema"
            )
    task = model.versions[-1].task_type
    _check_predictions(con, raw, name, total, task)
    with_ids = _check_request_ids(con, raw, name, earlier)
    bounds = rows(con, f"SELECT min({ts}), max({ts}) FROM {src}", "reading the time range")[0]
    kept = {INPUT_TIMESTAMP, VERSION, PREDICTION, REQUEST_ID, SCORE, *(f for f, _ in features)}
    return _Plan(
        rows=total,
        versions=per_version,
        features=features,
        first_ts=_iso(bounds[0]),
        last_ts=_iso(bounds[1]),
        with_request_ids=with_ids,
        ignored=[c for c in raw.types if c not in kept],
    )


def _features(versions: Sequence[VersionView]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for view in versions:
        for column in view.input_schema:
            seen.setdefault(str(column["name"]), str(column.get("kind", "categorical")))
    return list(seen.items())


def _check_predictions(
    con: duckdb.DuckDBPyConnection, raw: RawFile, name: str, total: int, task: str
) -> None:
    src = raw.source
    prediction = ident(PREDICTION)
    where = f"{prediction} IS NULL"
    if task == "regression":
        where += f" OR TRY_CAST({prediction} AS DOUBLE) IS NULL"
    bad = count(con, f"SELECT count_if({where}) FROM {src}", "checking predictions")
    if bad:
        shown = examples(con, src, PREDICTION, where)
        need = "a number" if task == "regression" else "the predicted class"
        raise BadInput(
            f"{name}: {bad} of {total} rows have no usable prediction (e.g. {listing(shown)}); "
            f"each row needs {need}"
        )
    if SCORE in raw.types:
        where = f"{ident(SCORE)} IS NOT NULL AND TRY_CAST({ident(SCORE)} AS DOUBLE) IS NULL"
        bad = count(con, f"SELECT count_if({where}) FROM {src}", "checking scores")
        if bad:
            shown = examples(con, src, SCORE, where)
            raise BadInput(
                f"{name}: {bad} of {total} scores are not numbers (e.g. {listing(shown)}); "
                "score is the positive class's probability"
            )


def _check_classes(
    con: duckdb.DuckDBPyConnection, raw: RawFile, name: str, total: int, classes: list[str] | None
) -> None:
    """A classifier's predictions are classes it knows: 'yes' from a 0/1 model is a wrong file."""
    if not classes:
        return
    known = ", ".join("'" + c.replace("'", "''") + "'" for c in classes)
    where = f"{label_text(ident(PREDICTION), raw.types[PREDICTION])} NOT IN ({known})"
    bad = count(con, f"SELECT count_if({where}) FROM {raw.source}", "checking predicted classes")
    if bad:
        shown = examples(con, raw.source, PREDICTION, where)
        raise BadInput(
            f"{name}: {bad} of {total} predictions are classes the model never predicts "
            f"(e.g. {listing(shown)}); its classes are {', '.join(classes)}"
        )


def _check_request_ids(
    con: duckdb.DuckDBPyConnection, raw: RawFile, name: str, earlier: Sequence[Path]
) -> int:
    if REQUEST_ID not in raw.types:
        return 0
    rid = f"CAST({ident(REQUEST_ID)} AS VARCHAR)"
    ids = f"(SELECT {rid} AS rid FROM {raw.source} WHERE {ident(REQUEST_ID)} IS NOT NULL)"
    found = rows(
        con,
        f"SELECT count(*) OVER (), rid FROM (SELECT rid FROM {ids} GROUP BY rid "
        f"HAVING count(*) > 1) ORDER BY rid LIMIT {_EXAMPLES}",
        "checking request ids",
    )
    if found:
        raise BadInput(
            f"{name}: {found[0][0]} request ids appear more than once "
            f"(e.g. {listing([str(r[1]) for r in found])}); each request is logged once"
        )
    if earlier:
        logged = f"(SELECT {REQUEST_ID} FROM {parquet_source(earlier)})"
        found = rows(
            con,
            f"SELECT count(*) OVER (), rid FROM {ids} WHERE rid IN {logged} ORDER BY rid "
            f"LIMIT {_EXAMPLES}",
            "comparing request ids with earlier logs",
        )
        if found:
            raise BadInput(
                f"{name}: {found[0][0]} request ids were already logged "
                f"(e.g. {listing([str(r[1]) for r in found])}); was this file ingested before?"
            )
    return count(con, f"SELECT count(*) FROM {ids}", "counting request ids")


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


# ---- writing ---------------------------------------------------------------------------------


def copy_log(
    con: duckdb.DuckDBPyConnection, raw: RawFile, plan: _Plan, task: str, target: Path
) -> None:
    """Write the normalised log: fixed leading columns, then the typed features."""
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
    try:
        con.execute(
            # No ORDER BY: every query aggregates, and sorting ten million rows doubles the cost.
            f"COPY (SELECT {', '.join(columns)} FROM {raw.source}) "
            f"TO {path_literal(target)} (FORMAT parquet, COMPRESSION zstd)"
        )
    except duckdb.Error as exc:
        raise BadInput(f"writing the log failed: {one_line(exc)}") from exc


def ingest_predictions(
    store: Store, signer: Signer, model: str, path: Path, *, stage: str | None = None
) -> IngestResult:
    """Check, normalise and store a prediction log; BadInput leaves the store as it was."""
    check_model_name(model)
    path = Path(path)
    view = get_model(store, model)
    if not view.versions:
        raise NotFound(f"model {model!r} has no versions yet; nothing can have served")
    from console.monitoring.labels import known_classes

    with store.session() as session:
        require_actor(session, signer, INGEST_ROLES)  # refuse before any heavy work
        earlier = log_batches_in(session, model)
        classes = known_classes(session, view)
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
    artifacts = ArtifactStore(store.artifacts_dir)
    with artifacts.staging() as scratch:
        con = connect(Path(scratch))
        try:
            raw = read_raw(con, path, Path(scratch), text=(PREDICTION, REQUEST_ID))
            plan = check_log(con, raw, path.name, view, earlier_paths)
            _check_classes(con, raw, path.name, plan.rows, classes)
            target = Path(scratch) / "log.parquet"
            copy_log(con, raw, plan, view.versions[-1].task_type, target)
            stored = [
                str(r[0])
                for r in rows(
                    con,
                    f"DESCRIBE SELECT * FROM read_parquet({path_literal(target)})",
                    "reading back the log",
                )
            ]
        finally:
            con.close()
        digest, created = artifacts.adopt_file(target)
    try:
        with store.session() as session:
            require_actor(session, signer, INGEST_ROLES)
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
            log_id = next_id(session, PredictionLog)
            now = store.clock()
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
            }
            event = append_event(
                session,
                signer,
                "monitoring.ingested",
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
                    columns=canonical_json(stored).decode(),
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
            )
    except BaseException:
        if created:
            artifacts.remove(digest)
        raise


def _stage_order_default(
    session: Session, order: Sequence[str], model: str, plan: _Plan
) -> str | None:
    """The last stage, in policy order, that holds (or canaries) a version that served."""
    held = session.exec(select(StageAssignment).where(StageAssignment.model == model)).all()
    served = {
        r.stage: r.version if r.version in plan.versions else r.canary_version
        for r in held
        if r.version in plan.versions or r.canary_version in plan.versions
    }
    return serving_stage(order, served)
