"""Holds each derived table to the log's projection: every row, key and field, or a named difference.

`compare_all` is what `signoff audit verify` runs after the chain and signatures hold.
`prove_model` and `prove_user` are the cheap checks acting commands make before they sign: they
read only the events of one model (or the key-management events) through the indexed `model`
and `action` columns, check each of those events' signed entry and signature, and compare the
rows that model or user has in the tables with what those events prove.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.entry import ENTRY_FIELDS, EventRecord, parse_entry, signing_message
from audit.keys import load_public_pem, public_from_raw, public_raw
from audit.merkle import leaf_hash
from console.auditing.append import RECORD_COLUMNS, record_from_row
from console.auditing.projected_rows import Projection, Row
from console.auditing.projection import (
    KEY_ACTIONS,
    decision_signature_valid,
    project,
    statement_sha256,
)
from console.auditing.replay_entries import Event, to_event
from console.errors import BadInput, StateForged
from console.store.rows import SessionRows, WriteRows

if TYPE_CHECKING:
    from sqlmodel import Session

    from console.store.db import Store

MISSING, EXTRA = "the log created this row; the table lacks it", "the log never created this row"
# Tables whose rows a model owns (selected by their `model` column in a targeted check).
MODEL_TABLES = (
    "models",
    "model_versions",
    "stages",
    "deployments",
    "promotion_requests",
    "approvals",
    "card_fields",
    "validation_runs",
    "validation_checks",
    "monitoring_windows",
    "monitoring_alerts",
    "retraining_jobs",
    "packages",
)
ALL_TABLES = (*MODEL_TABLES, "users", "user_keys", "datasets", "checkpoints", "release_keys")
# Primary key of each table as the projection keys it: deployments and decisions by their event.
KEYS: dict[str, tuple[str, ...]] = {
    "models": ("name",),
    "model_versions": ("model", "number"),
    "stages": ("model", "stage"),
    "deployments": ("event_seq",),
    "promotion_requests": ("id",),
    "approvals": ("event_seq",),
    "card_fields": ("model", "version", "field"),
    "validation_runs": ("id",),
    "validation_checks": ("run_id", "name"),
    "monitoring_windows": ("id",),
    "monitoring_alerts": ("id",),
    "retraining_jobs": ("id",),
    "packages": ("sha256",),
    "users": ("name",),
    "user_keys": ("keyid",),
    "datasets": ("sha256",),
    "checkpoints": ("id",),
    "release_keys": ("keyid",),
}


@dataclass(frozen=True)
class Difference:
    """One way a table departs from the log: a field, or a whole row (field `*`)."""

    table: str
    key: str
    field: str
    table_value: object
    log_value: object

    def line(self) -> str:
        where = f"table {self.table}, key {self.key}"
        if self.field == "*":
            return f"{where}: {self.log_value if self.table_value is None else self.table_value}"
        return (
            f"{where}, field {self.field}: the table says {self.table_value!r}, "
            f"the log says {self.log_value!r}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "key": self.key,
            "field": self.field,
            "table_value": _jsonable(self.table_value),
            "log_value": _jsonable(self.log_value),
        }


def _jsonable(value: object) -> object:
    return value if value is None or isinstance(value, bool | int | float | str) else repr(value)


def _key_text(key: tuple[object, ...]) -> str:
    return "/".join(str(part) for part in key)


# ---- the tables as stored, with the derived columns the log can prove -----------------------


def _sha(value: object) -> str:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _approval(row: dict[str, object], p: Projection) -> dict[str, object]:
    statement, signature = bytes(row["statement"]), bytes(row["signature"])  # type: ignore[call-overload]
    row["statement_sha256"] = statement_sha256(statement)
    row["signature_verifies"] = decision_signature_valid(
        p.history, str(row["keyid"]), statement, signature
    )
    row["signature"] = signature.hex()
    row["key_valid_then"] = True  # a stored decision claims a key valid when it was made
    return row


def _user_key(row: dict[str, object], _p: Projection) -> dict[str, object]:
    try:
        key = load_public_pem(str(row["public_key_pem"]).encode(), "stored key")
        row["public_key"] = public_raw(key).hex()
    except BadInput:
        row["public_key"] = "unreadable PEM"
    return row


def _hashed(column: str, name: str) -> Callable[[dict[str, object], Projection], dict[str, object]]:
    def derive(row: dict[str, object], _p: Projection) -> dict[str, object]:
        row[name] = _sha(row[column])
        return row

    return derive


DERIVED: dict[str, Callable[[dict[str, object], Projection], dict[str, object]]] = {
    "approvals": _approval,
    "user_keys": _user_key,
    "datasets": _hashed("profile", "profile_sha256"),
    "monitoring_windows": _hashed("result", "result_sha256"),
}


def _read(rows: WriteRows, table: str, where: str, params: Mapping[str, object]) -> list[Row]:
    return rows.dicts(f"SELECT * FROM {table}" + (f" WHERE {where}" if where else ""), params)


def _check_counts(rows: WriteRows, where: str, params: Mapping[str, object]) -> dict[int, str]:
    counts: dict[int, dict[str, int]] = {}
    query = "SELECT run_id, status, count(*) FROM validation_checks"
    query += (f" WHERE {where}" if where else "") + " GROUP BY run_id, status"
    for run, status, number in rows.all(query, params):
        counts.setdefault(int(run), {})[str(status)] = int(number)
    return {run: json.dumps(c, sort_keys=True, separators=(",", ":")) for run, c in counts.items()}


def compare_tables(
    source: WriteRows,
    p: Projection,
    tables: Sequence[str],
    scopes: Mapping[str, tuple[str, Mapping[str, object]]] | None = None,
    *,
    read: dict[str, list[Row]] | None = None,
) -> list[Difference]:
    """Every difference between the tables (within `scopes`: table -> SQL filter) and `p`;
    `read`, if given, receives each table's rows as read."""
    found: list[Difference] = []
    scopes = scopes or {}
    carried_checks = {key[0] for key in p.table("validation_checks")}
    for table in tables:
        where, params = scopes.get(table, ("", {}))
        rows = _read(source, table, where, params)
        if read is not None:
            read[table] = [dict(row) for row in rows]
        if table == "validation_runs":
            counts = _check_counts(source, *scopes.get("validation_checks", ("", {})))
            for row in rows:
                row["check_counts"] = counts.get(int(row["id"]), "{}")  # type: ignore[call-overload]
        if table == "validation_checks":
            rows = [r for r in rows if r["run_id"] in carried_checks]
        derive = DERIVED.get(table)
        projected = p.table(table)
        stored: dict[tuple[object, ...], Row] = {}
        for row in rows:
            row = derive(row, p) if derive else row
            key = tuple(row[k] for k in KEYS[table])
            if key in stored or key not in projected:
                found.append(Difference(table, _key_text(key), "*", EXTRA, None))
                continue
            stored[key] = row
        for key, expected in projected.items():
            kept = stored.get(key)
            if kept is None:
                found.append(Difference(table, _key_text(key), "*", None, MISSING))
                continue
            for name, value in expected.items():
                if kept.get(name) != value:
                    found.append(Difference(table, _key_text(key), name, kept.get(name), value))
    return found


def state_differences(store: Store, verified: Sequence[Event]) -> list[Difference]:
    """Every table against the whole (already verified) log, read in one snapshot.

    Events appended since `verified` were read are projected too: each came with its rows.
    """
    from console.auditing.log import iter_records

    with store.session() as session:
        later = iter_records(session, after=len(verified) - 1)
        projection = project([*verified, *map(to_event, later)])
        return compare_tables(_rows(session), projection, ALL_TABLES)


# ---- targeted proofs before acting ----------------------------------------------------------


def _rows(session: Session) -> SessionRows:
    """The unit of work's connection as `WriteRows`, read as it stands (no flush first)."""
    return SessionRows(session.connection())


def _records(rows: WriteRows, where: str, params: Mapping[str, object]) -> list[EventRecord]:
    query = f"SELECT {RECORD_COLUMNS} FROM audit_events WHERE {where}"
    return [record_from_row(r) for r in rows.all(query, params)]


def _signed_events(rows: WriteRows, model: str | None) -> Projection:
    """The key events and (when named) one model's events, each checked against its signature."""
    actions = ", ".join(f"'{a}'" for a in KEY_ACTIONS)
    records = {r.seq: r for r in _records(rows, f"action IN ({actions})", {})}
    if model is not None:
        records.update((r.seq, r) for r in _records(rows, "model = :m", {"m": model}))
    ordered = [records[seq] for seq in sorted(records)]
    p = project(to_event(r) for r in ordered)
    for record in ordered:  # the keys' validity spans are final, so each is checked at its seq
        problem = _unsound(record, p)
        if problem:
            raise StateForged(
                f"event {record.seq} ({record.action}) fails its own check: {problem}; "
                "run `signoff audit verify`"
            )
    return p


def _unsound(record: EventRecord, p: Projection) -> str | None:
    try:
        entry = parse_entry(record.entry)
    except (ValueError, UnicodeDecodeError):
        return "the signed entry is not valid JSON"
    for name in ENTRY_FIELDS:
        if entry.get(name) != getattr(record, name):
            return f"the stored {name} differs from the signed entry"
    if entry.get("payload_sha256") != hashlib.sha256(record.payload).hexdigest():
        return "the payload does not match its signed digest"
    if leaf_hash(record.entry).hex() != record.entry_hash:
        return "the entry hash does not match the entry"
    invalid = p.history.check_signer(record.seq, record.actor, record.keyid)
    if invalid:
        return invalid
    key = p.history.keys.get(record.keyid)
    if key is None or not _signature_holds(key.public_key, record.signature, record.entry):
        return "signature does not verify"
    return None


@functools.lru_cache(maxsize=4096)
def _signature_holds(public_key: bytes, signature: bytes, entry: bytes) -> bool:
    """Does the signature over the entry verify with the raw public key?

    Remembered: Ed25519 verification depends on nothing but these bytes, and each acting
    command checks the same key events again (a batch of registrations, hundreds of times).
    The records are still read from the store and compared field by field every time.
    """
    try:
        public_from_raw(public_key).verify(signature, signing_message(entry))
    except Exception:  # noqa: BLE001 - any failure to verify is a failure
        return False
    return True


def _refuse(found: list[Difference], what: str) -> None:
    if found:
        more = (
            f" (and {len(found) - 1} more; see `signoff audit verify --json`)" if found[1:] else ""
        )
        raise StateForged(
            f"refusing to act on {what}: the store differs from its signed log: "
            f"{found[0].line()}{more}"
        )


def prove_model(session: Session, model: str, *, skip: Sequence[str] = ()) -> None:
    """Before acting on MODEL: every row it owns is what its signed events say (StateForged)."""
    prove_model_rows(_rows(session), model, skip=skip)


def prove_model_rows(rows: WriteRows, model: str, *, skip: Sequence[str] = ()) -> None:
    """`prove_model` on any write transaction (the ORM's, or a driver-level DuckDB one)."""
    _compare_model(rows, _signed_events(rows, model), model, skip)


def _compare_model(rows: WriteRows, p: Projection, model: str, skip: Sequence[str]) -> None:
    by_model = ("model = :m", {"m": model})
    requests = sorted({k[0] for k in p.table("promotion_requests") if isinstance(k[0], int)})
    runs = sorted({k[0] for k in p.table("validation_runs") if isinstance(k[0], int)})
    scopes = {table: by_model for table in MODEL_TABLES}
    scopes["models"] = ("name = :m", {"m": model})
    scopes["approvals"] = (
        "request_id IN (SELECT id FROM promotion_requests WHERE model = :m) "
        f"OR request_id IN ({', '.join(map(str, [0, *requests]))})",
        {"m": model},
    )
    scopes["validation_checks"] = (
        "run_id IN (SELECT id FROM validation_runs WHERE model = :m) "
        f"OR run_id IN ({', '.join(map(str, [0, *runs]))})",
        {"m": model},
    )
    tables = [t for t in MODEL_TABLES if t not in skip]
    _refuse(compare_tables(rows, p, tables, scopes), f"model {model!r}")


def prove_model_after(
    store: Store, model: str, verified: Sequence[Event], *, skip: Sequence[str] = ()
) -> None:
    """`prove_model` for a reader that has just verified the log's first events (a report), in a
    unit of work of its own: those are taken as verified; the events appended since are checked
    here, one by one."""
    from console.auditing.log import iter_records

    with store.session() as session:
        later = list(iter_records(session, after=len(verified) - 1))
        wanted = [r for r in later if r.action in KEY_ACTIONS or r.model == model]
        ordered = [e for e in verified if e.action in KEY_ACTIONS or e.model == model]
        p = project([*ordered, *map(to_event, wanted)])
        for record in wanted:
            if problem := _unsound(record, p):
                raise StateForged(
                    f"event {record.seq} ({record.action}) fails its own check: {problem}; "
                    "run `signoff audit verify`"
                )
        _compare_model(_rows(session), p, model, skip)


def prove_user(session: Session, name: str) -> tuple[Row | None, dict[str, Row]]:
    """Before NAME acts: their role, revocation and keys are what the key events say.

    Returns the rows it proved, as stored: NAME's `users` row (None if there is none) and
    their `user_keys` rows by keyid, so a caller need not read them again under the lock.
    """
    return prove_user_rows(_rows(session), name)


def prove_user_rows(rows: WriteRows, name: str) -> tuple[Row | None, dict[str, Row]]:
    """`prove_user` on any write transaction (the ORM's, or a driver-level DuckDB one)."""
    p = _signed_events(rows, None)
    p.tables["users"] = {k: v for k, v in p.table("users").items() if k == (name,)}
    p.tables["user_keys"] = {k: v for k, v in p.table("user_keys").items() if v["user"] == name}
    scopes = {"users": ("name = :n", {"n": name}), "user_keys": ('"user" = :n', {"n": name})}
    read: dict[str, list[Row]] = {}
    _refuse(compare_tables(rows, p, ("users", "user_keys"), scopes, read=read), f"user {name!r}")
    users = read["users"]
    return (users[0] if users else None), {str(k["keyid"]): k for k in read["user_keys"]}


def prove_release_keys(session: Session, name: str) -> None:
    """Before NAME's release key signs: their release keys are what the signed events say."""
    actions = ", ".join(f"'{a}'" for a in (*KEY_ACTIONS, "release_key.registered"))
    rows = _rows(session)
    ordered = sorted(_records(rows, f"action IN ({actions})", {}), key=lambda r: r.seq)
    p = project(to_event(r) for r in ordered)
    for record in ordered:
        if record.action == "release_key.registered" and (problem := _unsound(record, p)):
            raise StateForged(
                f"event {record.seq} ({record.action}) fails its own check: {problem}; "
                "run `signoff audit verify`"
            )
    keys = p.table("release_keys")
    p.tables["release_keys"] = {k: v for k, v in keys.items() if v["user"] == name}
    scope = {"release_keys": ('"user" = :n', {"n": name})}
    _refuse(compare_tables(rows, p, ("release_keys",), scope), f"{name!r}'s release keys")
