"""A signed write on a DuckDB store through the driver alone: one transaction, no ORM imported.

`approve`, `reject` and `card edit` on a DuckDB store run their rule (written against
`console.store.rows.WriteRows`) here: the file opened read-write once, which holds DuckDB's file
lock as `Store.session()` does (a busy store is retried for `SIGNOFF_LOCK_TIMEOUT` seconds), the
checks before acting read on it, then one transaction that commits the row change and its event
together or neither, and DuckDB's errors turned into our one-line `StoreError`. A store whose
schema is not this signoff's (to upgrade or to refuse) gets None: the caller takes the `Store`
path, which does that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from console.errors import StoreBusy, StoreError
from console.store.location import require_store
from console.store.rows import DuckDBRows, at_current_schema, first_line, open_with_retry


def _conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "conflict" in text and "transaction" in text


class WritableStore:
    """The store's file, held for writing by this process; `rows` reads it outside a transaction
    (the checks before a key is unlocked), `transaction()` is the one write."""

    def __init__(self, rows: DuckDBRows) -> None:
        self.rows = rows

    @contextmanager
    def transaction(self) -> Iterator[DuckDBRows]:
        """Commits when the block ends, rolls back on any error."""
        connection = self.rows.connection
        self.rows.forget()
        connection.begin()
        try:
            yield self.rows
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            self.rows.forget()


@contextmanager
def writable_store(home: Path, lock_timeout: float) -> Iterator[WritableStore | None]:
    """The DuckDB store in `home` opened for writing, or None when it needs `Store`.

    A DuckDB error in the block is a StoreError (StoreBusy for a write-write conflict), one line;
    the file is closed, and its lock released, when the block ends.
    """
    import duckdb

    from console.analytics import open_writable

    require_store(home)
    try:
        connection = open_with_retry(home, open_writable, lock_timeout)
    except duckdb.Error as exc:
        raise StoreError(f"cannot open the store at {home}: {first_line(exc)}") from exc
    try:
        rows = DuckDBRows(connection)
        yield WritableStore(rows) if at_current_schema(rows) else None
    except duckdb.Error as exc:
        if _conflict(exc):
            raise StoreBusy(
                "another process changed the same records at the same time; run the command again"
            ) from exc
        raise StoreError(f"the store failed: {first_line(exc)}") from exc
    finally:
        connection.close()


@contextmanager
def write_rows(home: Path, lock_timeout: float) -> Iterator[DuckDBRows | None]:
    """One write transaction on the DuckDB store in `home`, or None when it needs `Store`.

    Commits when the block ends, rolls back on any error; a DuckDB error is a StoreError
    (StoreBusy for a write-write conflict), one line, and changes nothing.
    """
    with writable_store(home, lock_timeout) as store:
        if store is None:
            yield None
            return
        with store.transaction() as rows:
            yield rows
