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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from audit.entry import ENTRY_FIELDS, EventRecord, parse_entry, signing_message
from audit.keys import public_from_raw
from audit.merkle import leaf_hash
from console.auditing.append import RECORD_COLUMNS, record_from_row
from console.auditing.projected_rows import Projection, Row
from console.auditing.projection import KEY_ACTIONS, project
from console.auditing.replay_entries import Event, to_event
from console.auditing.table_diff import ALL_TABLES, MODEL_TABLES, compare_tables
from console.auditing.table_diff import Difference as Difference
from console.errors import StateForged
from console.store.rows import SessionRows, WriteRows

if TYPE_CHECKING:
    from sqlmodel import Session

    from console.store.db import Store


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
    where = "action IN ({})".format(", ".join(f"'{a}'" for a in KEY_ACTIONS))
    params: dict[str, object] = {}
    if model is not None:  # one read of both
        where, params = where + " OR model = :m", {"m": model}
    ordered = sorted(_records(rows, where, params), key=lambda r: r.seq)
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


def prove_user_rows(
    rows: WriteRows, name: str, *, model: str | None = None
) -> tuple[Row | None, dict[str, Row]]:
    """`prove_user` on any write transaction (the ORM's, or a driver-level DuckDB one).

    With `model`, `prove_model_rows` of it first, in the same pass: the key events and the
    model's are read and checked once for both proofs.
    """
    p = _signed_events(rows, model)
    if model is not None:
        _compare_model(rows, p, model, ())
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
