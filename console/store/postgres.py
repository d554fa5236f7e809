"""The team store: a PostgreSQL database every client reaches, writes serialized by one lock."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, QueuePool
from sqlmodel import Session, create_engine

from console.errors import BadInput, SignoffError, StoreBusy, StoreError
from console.store.backend import CHANGES_CHANNEL, Backend

# pg_advisory_xact_lock's key for "the store's writer": any constant works, this one spells it.
WRITE_LOCK_KEY = 0x5169_0FF0
RETRIED = {"40001", "40P01", "53300"}  # serialization failure, deadlock, too many connections
CONNECT_ATTEMPTS = 6
LISTEN_WINDOW = 0.5  # seconds: how often a listener gathers the notifications that arrived
RELISTEN_MAX = 8.0  # seconds: the longest wait before a lost listener connects again


def parse_url(url: str) -> dict[str, str]:
    """The libpq parameters of a URL; a password in it is refused (it would end up in logs)."""
    import psycopg

    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise BadInput(
            "--db is not a valid postgresql:// URL (libpq conventions: "
            "postgresql://USER@HOST:PORT/DBNAME?sslmode=... or ?host=/socket/dir)"
        ) from None
    if params.get("password") is not None:
        raise BadInput(
            "--db must not carry a password: put it in ~/.pgpass, PGPASSFILE or PGPASSWORD"
        )
    return {key: str(value) for key, value in params.items() if value is not None}


class PostgresDatabase(Backend):
    """A PostgreSQL database, through psycopg 3; every client process connects per unit of work."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.params = parse_url(url)
        # A command keeps its one connection between units of work: a new one is a new
        # server process with cold catalogue caches, which made every statement of a write,
        # under the write lock, several times slower (bench_team_store.py). The console
        # asks for none to be kept (`Store.hold_no_idle_connection`).
        self.keep_connection = True
        self._pid = os.getpid()

    @property
    def dbname(self) -> str:
        return self.params.get("dbname") or self.params.get("user") or "postgres"

    def location(self) -> str:
        host = self.params.get("host", "localhost")
        port = self.params.get("port", "5432")
        return f"postgresql database {self.dbname!r} on {host}:{port}"

    def _make_engine(self) -> Engine:
        import psycopg

        conninfo = psycopg.conninfo.make_conninfo(**self.params)

        def connect() -> Any:
            return psycopg.connect(conninfo)

        if not self.keep_connection:  # NullPool: nothing held while idle (the console)
            return create_engine("postgresql+psycopg://", creator=connect, poolclass=NullPool)
        # One connection kept, any more a thread needs opened and closed as before; checked
        # before each use, so a server restarted meanwhile costs a reconnect, not an error.
        return create_engine(
            "postgresql+psycopg://",
            creator=connect,
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=-1,
            pool_pre_ping=True,
        )

    @property
    def engine(self) -> Engine:
        if self._engine is not None and self._pid != os.getpid():
            # A forked child must not share its parent's socket: forget it without closing it.
            self._engine.dispose(close=False)
            self._engine = None
        self._pid = os.getpid()
        return super().engine

    def hold_no_idle_connection(self) -> None:
        if self.keep_connection:
            self.keep_connection = False
            self.dispose()

    def connect(self, lock_timeout: float) -> Connection:
        delay = 0.05
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                return self.engine.connect()
            except DBAPIError as exc:
                state = _sqlstate(exc)
                if state in RETRIED and attempt < CONNECT_ATTEMPTS - 1:
                    time.sleep(delay * (1 + random.random()))
                    delay *= 2
                    continue
                raise self.connect_error(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def connect_error(self, exc: DBAPIError) -> SignoffError:
        known = self.translate(exc)
        if _sqlstate(exc) is not None and known is not None:
            return known
        # libpq reports a failed login, a missing database or a refused socket without a
        # SQLSTATE; its own reason (never containing a password) is the useful part.
        return StoreError(f"cannot connect to the {self.location()}: {_libpq_reason(exc)}")

    def has_store(self) -> bool:
        with self.connect(0) as connection:
            return bool(
                connection.exec_driver_sql(
                    "SELECT to_regclass('schema_version') IS NOT NULL"
                ).scalar()
            )

    def require_store(self) -> None:
        if not self.has_store():
            raise StoreError(
                f"no signoff store in the {self.location()}; run `signoff init --admin NAME "
                "--db URL --artifacts DIR` on an empty database first"
            )

    def refuse_existing(self) -> None:
        with self.connect(0) as connection:
            tables = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            ).scalar()
        if tables:
            raise BadInput(
                f"the {self.location()} is not empty ({tables} tables); a store is created "
                "only in an empty database"
            )

    def begin_write(self, session: Session, lock_timeout: float) -> None:
        # Every writer takes the one lock first, so what it reads (the log's head, quorum
        # counts, the next ids) stays true until it commits; readers never take it.
        session.connection().exec_driver_sql(
            "SELECT set_config('lock_timeout', %(timeout)s, true), pg_advisory_xact_lock(%(key)s)",
            {"timeout": f"{max(1, int(lock_timeout * 1000))}ms", "key": WRITE_LOCK_KEY},
        )

    def begin_snapshot(self, connection: Connection) -> None:
        connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        connection.begin()

    def translate(self, exc: DBAPIError, *, committing: bool = False) -> SignoffError | None:
        import psycopg

        state = _sqlstate(exc)
        where = self.location()
        if state in ("40001", "40P01"):
            return StoreBusy(
                f"another client's transaction conflicted with this one (SQLSTATE {state}); "
                "nothing was written, run the command again"
            )
        if state == "55P03":
            return StoreBusy(
                f"the {where} is busy (another client held its write lock too long); try again"
            )
        if state == "23505":
            return StoreBusy(
                "another client wrote the same record at the same moment (SQLSTATE 23505); "
                "nothing was written, run the command again"
            )
        if state == "3D000":
            return StoreError(f"the {where} does not exist; create it (createdb) first")
        if state in ("28P01", "28000"):
            return StoreError(
                f"the {where} refused the login; check ~/.pgpass, PGPASSFILE or PGPASSWORD"
            )
        if state == "42P01":
            return StoreError(
                f"the {where} holds no complete signoff store; run `signoff init --db URL`"
            )
        if state == "25006":
            return StoreError("a write was attempted inside a read-only snapshot (a bug)")
        lost = state is not None and state.startswith(("08", "57"))
        if lost or (state is None and isinstance(_original(exc), psycopg.OperationalError)):
            if committing:
                return StoreError(
                    f"the connection to the {where} was lost while committing; see "
                    "`signoff audit log` for whether the command landed"
                )
            return StoreError(
                f"the connection to the {where} was lost in the middle of the command; its "
                "transaction was rolled back, nothing was written"
            )
        if state is None:
            return None
        return StoreError(f"the {where} failed (SQLSTATE {state})")

    def server_version(self, connection: Connection) -> str:
        return f"PostgreSQL {connection.exec_driver_sql('SHOW server_version').scalar()}"

    def watch(self, stop: threading.Event, changed: Callable[[], None]) -> bool:
        """LISTEN for committed audit events until `stop`; a lost connection is made again.

        The listening connection is in autocommit: it holds no transaction, snapshot or lock,
        so it never delays a writer or a vacuum. While it is down, `changed` is called at each
        attempt to reconnect, which makes the caller poll.
        """
        import psycopg

        conninfo = psycopg.conninfo.make_conninfo(**self.params)
        delay = LISTEN_WINDOW
        while not stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as listener:
                    listener.execute(f"LISTEN {CHANGES_CHANNEL}")
                    changed()  # whatever was written while nobody listened
                    delay = LISTEN_WINDOW
                    while not stop.is_set():
                        if any(True for _ in listener.notifies(timeout=LISTEN_WINDOW)):
                            changed()
            except psycopg.Error:
                changed()
                stop.wait(delay)
                delay = min(delay * 2, RELISTEN_MAX)
        return True


def _original(exc: BaseException) -> BaseException:
    return getattr(exc, "orig", None) or exc


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(_original(exc), "sqlstate", None)
    return str(state) if state else None


def _libpq_reason(exc: BaseException) -> str:
    lines = [line.strip() for line in str(_original(exc)).splitlines() if line.strip()]
    if not lines:
        return type(_original(exc)).__name__
    # "connection failed: connection to server on socket ... failed: FATAL:  role ... does not exist"
    return lines[0].rsplit("failed: ", 1)[-1].replace("  ", " ")
