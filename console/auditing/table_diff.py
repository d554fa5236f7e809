"""A table's rows against the log's projection of them: each difference named, by table, key and field.

What `console/auditing/state_check.py` compares, for `audit verify` and the proofs before acting:
the tables as stored, with the columns derived from them that the log can prove (a statement's
digest, whether a decision's signature verifies, a key's raw bytes, a profile's digest).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from audit.keys import load_public_pem, public_raw
from console.auditing.projected_rows import Projection, Row
from console.auditing.projection import decision_signature_valid, statement_sha256
from console.errors import BadInput
from console.store.rows import WriteRows

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
