"""The seam between the services and where a store lives: a DuckDB file or a PostgreSQL database.

The services only see `Store` (console/store/db.py); `Store` asks its backend to connect, to begin a
write (on PostgreSQL: the store's write lock) or a consistent read, and to turn a driver's error
into one of ours. The analytic work over artifact files is in-process DuckDB on both.
"""

from __future__ import annotations

import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from console.errors import BadInput, SignoffError, StoreBusy, StoreError
from console.store.location import DB_FILE, refuse_foreign_file, require_store

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# The channel on which a PostgreSQL store says "the log grew" when a transaction commits.
CHANGES_CHANNEL = "signoff_log"


def announce_change(connection: Connection) -> None:
    """Tell listening consoles that the log grew once this transaction commits (PostgreSQL)."""
    # pg_notify is transactional: sent on commit, dropped on rollback, and repeats of the same
    # payload within one transaction reach a listener once.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_notify('{CHANGES_CHANNEL}', '')")


class Backend(ABC):
    """One kind of store: how to reach it, how a write and a consistent read begin, its errors."""

    kind: str

    def __init__(self) -> None:
        self._engine: Engine | None = None

    @abstractmethod
    def location(self) -> str:
        """Where the store is, for messages (never a password)."""

    @abstractmethod
    def _make_engine(self) -> Engine: ...

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def hold_no_idle_connection(self) -> None:  # noqa: B027 - a no-op where none is kept
        """Close every connection as soon as its unit of work ends (the console, which idles).

        The DuckDB file's engine keeps none already (it would hold the file's lock)."""

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @abstractmethod
    def connect(self, lock_timeout: float) -> Connection:
        """A new connection, waiting up to `lock_timeout` seconds for a busy store."""

    @abstractmethod
    def has_store(self) -> bool:
        """Whether a signoff store is there (without upgrading or checking it)."""

    @abstractmethod
    def require_store(self) -> None:
        """Fail with the one line a user needs when there is no store."""

    @abstractmethod
    def refuse_existing(self) -> None:
        """Fail unless a new store may be created here (`init`, `store copy`)."""

    @abstractmethod
    def begin_write(self, session: Session, lock_timeout: float) -> None:
        """Start a unit of work that may write: serialized with every other writer."""

    def begin_snapshot(self, connection: Connection) -> None:
        """Start a read-only transaction that sees one consistent state until it ends."""
        connection.begin()

    @abstractmethod
    def translate(self, exc: DBAPIError, *, committing: bool = False) -> SignoffError | None:
        """Our error for a driver's error (None: not one we know, let it through)."""

    @abstractmethod
    def server_version(self, connection: Connection) -> str: ...

    def watch(self, stop: threading.Event, changed: Callable[[], None]) -> bool:
        """Call `changed` whenever another client may have written, until `stop` is set.

        Returns False at once when the store cannot announce its changes (the caller polls).
        """
        return False


def backend_for(url: str | None, home: Path) -> Backend:
    """The backend a `--db` URL names, or the DuckDB file in `home` when there is none."""
    if not url:
        return DuckDBFile(home / DB_FILE)
    if url.startswith(POSTGRES_SCHEMES):
        from console.store.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise BadInput(
        "--db takes a postgresql:// URL (libpq conventions); for a DuckDB store give --home DIR"
    )


class DuckDBFile(Backend):
    """The embedded default: one file, which one process at a time holds (its lock is the file's)."""

    kind = "duckdb"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def location(self) -> str:
        return str(self.path.parent)

    def _make_engine(self) -> Engine:
        # NullPool: every unit of work opens and closes its own connection, so the file
        # lock is held only while work runs and other processes can share the store.
        # Offline like every DuckDB connection; metadata work never needs many threads.
        from console.analytics import OFFLINE

        config = {**OFFLINE, "threads": 2}
        return create_engine(
            f"duckdb:///{self.path}", poolclass=NullPool, connect_args={"config": config}
        )

    def connect(self, lock_timeout: float) -> Connection:
        if not self.path.parent.is_dir():
            raise StoreError(f"no signoff store at {self.path.parent}; run `signoff init` first")
        refuse_foreign_file(self.path)
        deadline = time.monotonic() + lock_timeout
        delay = 0.02
        while True:
            try:
                return self.engine.connect()
            except DBAPIError as exc:
                if not _is_lock_error(exc):
                    raise StoreError(
                        f"cannot open the store at {self.path}: {driver_message(exc)}"
                    ) from exc
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"the store at {self.path.parent} is busy (another signoff process "
                        "holds it); try again in a moment"
                    ) from exc
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)

    def has_store(self) -> bool:
        return self.path.is_file()

    def require_store(self) -> None:
        require_store(self.path.parent)

    def refuse_existing(self) -> None:
        if self.has_store():
            raise BadInput(f"a signoff store already exists at {self.path.parent}")

    def begin_write(self, session: Session, lock_timeout: float) -> None:
        """Nothing to take: the connection already holds the file, so writers are serialized."""

    def translate(self, exc: DBAPIError, *, committing: bool = False) -> SignoffError | None:
        from sqlalchemy.exc import OperationalError

        if not isinstance(exc, OperationalError):
            return None
        # DuckDB gives no SQLSTATE; its write-write conflict is told by its message.
        if _is_conflict(exc):
            return StoreBusy(
                "another process changed the same records at the same time; run the command again"
            )
        return StoreError(f"the store failed: {driver_message(exc)}")

    def server_version(self, connection: Connection) -> str:
        return f"DuckDB {connection.exec_driver_sql('SELECT version()').scalar()}"


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def _is_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "conflict" in text and "transaction" in text


def driver_message(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).splitlines()[0] if str(original) else type(original).__name__
