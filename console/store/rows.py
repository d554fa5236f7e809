"""Plain SQL reads that run on a raw DuckDB connection or a SQLAlchemy one: read commands skip the ORM.

A read model written against `Rows` (SQL with `:name` parameters, rows as tuples) serves both the
console, inside a `Store.session()`, and a read command, which opens the DuckDB file read-only with
the driver alone (`read_only_rows`): no SQLAlchemy, no SQLModel, the file's lock held only while
the command reads. A store this path cannot serve as it is (an older schema to upgrade, a newer one
to refuse, PostgreSQL) is read through `Store` as before.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from console.errors import BadInput, StoreBusy, StoreError
from console.store.location import DB_FILE, require_store

if TYPE_CHECKING:
    import duckdb
    from sqlalchemy import Connection
    from sqlmodel import Session

Row = tuple[Any, ...]
DEFAULT_LOCK_TIMEOUT = 15.0
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# The one table a plain INSERT, UPDATE or DELETE changes (anything else forgets every answer).
_CHANGED_TABLE = re.compile(
    r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)[\s(]", re.IGNORECASE
)


def utc_now() -> str:
    """The store's time format: ISO 8601 UTC with microseconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lock_timeout_from_env() -> float:
    """SIGNOFF_LOCK_TIMEOUT in seconds; a value that is not a number is the user's to fix."""
    text = os.environ.get("SIGNOFF_LOCK_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):  # also refuses nan
        raise BadInput(
            f"SIGNOFF_LOCK_TIMEOUT={text!r} is not a number of seconds (e.g. 15); fix or unset it"
        )
    return value


class Rows(Protocol):
    """Runs one SELECT with `:name` parameters and returns its rows."""

    def all(self, sql: str, params: Mapping[str, object] | None = None) -> list[Row]: ...


class WriteRows(Rows, Protocol):
    """`Rows` inside a write transaction: rows by column name, and statements that change rows.

    A rule written against it (a decision, a card edit, the proofs before acting) runs in the
    ORM's unit of work (`SessionRows`) and on a driver-level DuckDB transaction (`DuckDBRows`
    from `console.store.write_rows`) alike: one copy of each rule.
    """

    def dicts(
        self, sql: str, params: Mapping[str, object] | None = None
    ) -> list[dict[str, Any]]: ...

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> None: ...

    def log_grew(self) -> None:
        """The transaction appended an event: listeners hear of it on commit (PostgreSQL)."""


class SessionRows:
    """`Rows` on the connection of a SQLAlchemy session (the console, the services' units)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def all(self, sql: str, params: Mapping[str, object] | None = None) -> list[Row]:
        from sqlalchemy import text

        return [tuple(row) for row in self.connection.execute(text(sql), dict(params or {}))]

    def dicts(self, sql: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        from sqlalchemy import text

        found = self.connection.execute(text(sql), dict(params or {})).mappings()
        return [dict(row) for row in found]

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> None:
        from sqlalchemy import text

        self.connection.execute(text(sql), dict(params or {}))

    def log_grew(self) -> None:
        from console.store.backend import announce_change

        announce_change(self.connection)


def session_rows(session: Session) -> SessionRows:
    """`Rows` in a unit of work, after flushing what it holds (as the ORM's own queries do)."""
    session.flush()
    return SessionRows(session.connection())


class DuckDBRows:
    """`Rows` on a raw DuckDB connection (`:name` becomes DuckDB's `$name`).

    The connection holds the store's file (read-only, or for writing), so no other process
    changes it while this object lives: a SELECT asked again with the same parameters (a read
    model asks for a version's card or runs several times) is answered from what it returned,
    until a statement of this connection changes rows of a table it read (`execute`: an INSERT,
    UPDATE or DELETE forgets the answers naming its table, any other statement all of them) or a
    transaction begins or ends.
    """

    REMEMBERED_ROWS = 1000  # a larger result (a long log) is read again rather than kept

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection
        self._answers: dict[tuple[str, object], tuple[list[str], list[Row]]] = {}

    def _run(self, sql: str, params: Mapping[str, object] | None) -> duckdb.DuckDBPyConnection:
        if params:
            used = set(_PARAMETER.findall(sql))
            return self.connection.execute(
                _PARAMETER.sub(r"$\1", sql), {k: v for k, v in params.items() if k in used}
            )
        return self.connection.execute(sql)

    def _select(self, sql: str, params: Mapping[str, object] | None) -> tuple[list[str], list[Row]]:
        key = (sql, tuple(sorted((params or {}).items())))
        try:
            answer, keep = self._answers.get(key), True
        except TypeError:  # a parameter that cannot be a key (a list): asked every time
            answer, keep = None, False
        if answer is None:
            cursor = self._run(sql, params)
            answer = ([column[0] for column in cursor.description or ()], cursor.fetchall())
            if keep and len(answer[1]) <= self.REMEMBERED_ROWS:
                self._answers[key] = answer
        return answer

    def all(self, sql: str, params: Mapping[str, object] | None = None) -> list[Row]:
        return list(self._select(sql, params)[1])

    def dicts(self, sql: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        names, found = self._select(sql, params)
        return [dict(zip(names, row, strict=True)) for row in found]

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> None:
        changed = _CHANGED_TABLE.match(sql)
        if changed is None:
            self.forget()
        else:  # only answers that read the changed table are asked again
            table = re.compile(rf"\b{changed.group(1)}\b", re.IGNORECASE)
            self._answers = {
                key: answer for key, answer in self._answers.items() if not table.search(key[0])
            }
        self._run(sql, params)

    def forget(self) -> None:
        """Ask the store again from now on (rows changed, or a transaction began or ended)."""
        self._answers.clear()

    def log_grew(self) -> None:
        """Nothing to announce: consoles on a DuckDB file poll it."""


@contextmanager
def read_only_rows(home: Path, lock_timeout: float) -> Iterator[DuckDBRows | None]:
    """The DuckDB store in `home` opened read-only, or None when it needs `Store` (see above).

    Read-only: other readers may open it at the same time, and a writer waits only while this
    block runs (keep it to the reads; print after it). A store held by a writer is retried with
    backoff for `lock_timeout` seconds, as `Store` does.
    """
    import duckdb

    from console.analytics import open_read_only

    require_store(home)  # no file, or not a DuckDB file: refused before DuckDB opens it
    connection: duckdb.DuckDBPyConnection | None
    try:
        connection = open_with_retry(home, open_read_only, lock_timeout)
    except duckdb.Error:
        connection = None  # whatever else: the full path opens it, and says what is wrong
    if connection is None:
        yield None
        return
    try:
        rows = DuckDBRows(connection)
        yield rows if at_current_schema(rows) else None
    finally:
        connection.close()


def at_current_schema(rows: DuckDBRows) -> bool:
    """Whether the store is at the schema this code knows; if not (older, newer, or no schema
    table), the caller leaves it to the `Store` path, which migrates it or says what is wrong."""
    import duckdb

    from console.store.migrations import SCHEMA_VERSION

    try:
        version = rows.all("SELECT max(version) FROM schema_version")[0][0]
    except duckdb.Error:
        return False
    return bool(version == SCHEMA_VERSION)


def open_with_retry(
    home: Path, opener: Callable[[Path], duckdb.DuckDBPyConnection], lock_timeout: float
) -> duckdb.DuckDBPyConnection:
    """`opener(store file)`, retried with jittered backoff while another process holds the file.

    A lock still held after `lock_timeout` seconds is StoreBusy, any other I/O error StoreError;
    DuckDB's other errors reach the caller as raised.
    """
    import duckdb

    path = home / DB_FILE
    deadline = time.monotonic() + lock_timeout
    delay = 0.02
    while True:
        try:
            return opener(path)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"cannot open the store at {path}: {first_line(exc)}") from exc
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"the store at {home} is busy (another signoff process holds it); "
                    "try again in a moment"
                ) from exc
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
