"""The checks a prediction log passes before it is stored, each refusal with a count and examples.

Every check is an aggregate query over the file read once (console.monitoring.uploads): no row
reaches Python. What passes comes back as the plan of the normalised copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.analytics import Connection, count, ident, listing, literal, rows
from console.errors import BadInput
from console.monitoring.class_labels import label_text
from console.monitoring.logs import (
    INPUT_TIMESTAMP,
    PREDICTION,
    REQUEST_ID,
    RESERVED,
    SCORE,
    VERSION,
)
from console.monitoring.uploads import (
    EXAMPLES,
    RawFile,
    examples,
    integer_sql,
    refuse_known_ids,
    refuse_repeated_ids,
    timestamp_sql,
)
from console.registry.dataset_files import kind_of
from console.registry.views import ModelView, VersionView

# Sane bounds for a prediction's time: nothing served before 2000, nothing from the future.
EARLIEST_TS = "2000-01-01"
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class LogPlan:
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


def _refuse_out_of_range(con: Connection, src: str, name: str, total: int, ts: str) -> None:
    """A row dated before 2000 or after tomorrow is a clock or typing error; once stored, such a
    row would sit in every window computation of an immutable log."""
    latest = (datetime.now(UTC) + FUTURE_SLACK).strftime("%Y-%m-%d %H:%M:%S")
    where = f"{ts} < TIMESTAMP '{EARLIEST_TS}' OR {ts} > TIMESTAMP '{latest}'"
    out = count(con, f"SELECT count_if({where}) FROM {src}", "checking the time range")
    if out:
        shown = examples(con, src, INPUT_TIMESTAMP, where)
        raise BadInput(
            f"{name}: {out} of {total} rows have a timestamp outside {EARLIEST_TS} .. "
            f"{latest[:10]} (e.g. {listing(shown)}); predictions are dated when they were served"
        )


def check_log(
    con: Connection,
    raw: RawFile,
    name: str,
    model: ModelView,
    earlier: Sequence[Path],
) -> LogPlan:
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
    _refuse_out_of_range(con, src, name, total, ts)
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
        described = ", ".join(f"{v} ({n} rows)" for v, n in list(unknown.items())[:EXAMPLES])
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
    return LogPlan(
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


def _check_predictions(con: Connection, raw: RawFile, name: str, total: int, task: str) -> None:
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


def check_classes(
    con: Connection, raw: RawFile, name: str, total: int, classes: list[str] | None
) -> None:
    """A classifier's predictions are classes it knows: 'yes' from a 0/1 model is a wrong file."""
    if not classes:
        return
    known = ", ".join(literal(c) for c in classes)
    where = f"{label_text(ident(PREDICTION), raw.types[PREDICTION])} NOT IN ({known})"
    bad = count(con, f"SELECT count_if({where}) FROM {raw.source}", "checking predicted classes")
    if bad:
        shown = examples(con, raw.source, PREDICTION, where)
        raise BadInput(
            f"{name}: {bad} of {total} predictions are classes the model never predicts "
            f"(e.g. {listing(shown)}); its classes are {', '.join(classes)}"
        )


def _check_request_ids(con: Connection, raw: RawFile, name: str, earlier: Sequence[Path]) -> int:
    if REQUEST_ID not in raw.types:
        return 0
    rid = f"CAST({ident(REQUEST_ID)} AS VARCHAR)"
    ids = f"(SELECT {rid} AS rid FROM {raw.source} WHERE {ident(REQUEST_ID)} IS NOT NULL)"
    refuse_repeated_ids(con, ids, name, "each request is logged once")
    refuse_known_ids(
        con,
        ids,
        earlier,
        "comparing request ids with earlier logs",
        f"{name}: {{count}} request ids were already logged (e.g. {{shown}}); "
        "was this file ingested before?",
    )
    return count(con, f"SELECT count(*) FROM {ids}", "counting request ids")


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)
