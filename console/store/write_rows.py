"""A signed write on a DuckDB store through the driver alone: one transaction, no ORM imported.

`approve`, `reject` and `card edit` on a DuckDB store run their rule (written against
`console.store.rows.WriteRows`) here: the file opened read-write, which holds DuckDB's file lock
as `Store.session()` does (a busy store is retried for `SIGNOFF_LOCK_TIMEOUT` seconds), one
transaction that commits the row change and its event together or neither, and DuckDB's errors
turned into our one-line `StoreError`. A store whose schema is not this signoff's (to upgrade or
to refuse) gets None: the caller takes the `Store` path, which does that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from console.errors import StoreBusy, StoreError
from console.store.location import require_store
from console.store.rows import DuckDBRows, first_line, open_with_retry


def _conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "conflict" in text and "transaction" in text


@contextmanager
def write_rows(home: Path, lock_timeout: float) -> Iterator[DuckDBRows | None]:
    """One write transaction on the DuckDB store in `home`, or None when it needs `Store`.

    Commits when the block ends, rolls back on any error; a DuckDB error is a StoreError
    (StoreBusy for a write-write conflict), one line, and changes nothing.
    """
    import duckdb

    from console.analytics import open_writable
    from console.store.migrations import SCHEMA_VERSION

    require_store(home)
    try:
        connection = open_with_retry(home, open_writable, lock_timeout)
    except duckdb.Error as exc:
        raise StoreError(f"cannot open the store at {home}: {first_line(exc)}") from exc
    try:
        rows = DuckDBRows(connection)
        try:
            version = rows.all("SELECT max(version) FROM schema_version")[0][0]
        except duckdb.Error:
            version = None
        if version != SCHEMA_VERSION:
            yield None
            return
        connection.begin()
        try:
            yield rows
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
    except duckdb.Error as exc:
        if _conflict(exc):
            raise StoreBusy(
                "another process changed the same records at the same time; run the command again"
            ) from exc
        raise StoreError(f"the store failed: {first_line(exc)}") from exc
    finally:
        connection.close()
