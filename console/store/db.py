"""Owns the engine: short-lived connections, one transaction per unit of work, lock retries."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from console.analytics import OFFLINE
from console.errors import BadInput, StoreBusy, StoreError
from console.store.location import ARTIFACTS_DIR, DB_FILE, POLICY_FILE, require_store

DEFAULT_LOCK_TIMEOUT = 15.0


def utc_now() -> str:
    """The store's time format: ISO 8601 UTC with microseconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lock_timeout_from_env() -> float:
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


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def _is_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "conflict" in text and "transaction" in text


class Store:
    """A signoff home directory: the DuckDB file, the artifacts and the policy."""

    def __init__(self, home: Path, *, lock_timeout: float | None = None) -> None:
        self.home = home
        self.db_path = home / DB_FILE
        self.artifacts_dir = home / ARTIFACTS_DIR
        self.policy_path = home / POLICY_FILE
        self.lock_timeout = lock_timeout if lock_timeout is not None else _lock_timeout_from_env()
        # Time comes from here so tests can move it; the CLI never overrides it.
        self.clock: Callable[[], str] = utc_now
        self._engine: Engine | None = None
        self._reading = threading.local()

    @property
    def url(self) -> str:
        return f"duckdb:///{self.db_path}"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            # NullPool: every unit of work opens and closes its own connection, so the file
            # lock is held only while work runs and other processes can share the store.
            # Offline like every DuckDB connection; metadata work never needs many threads.
            config = {**OFFLINE, "threads": 2}
            self._engine = create_engine(
                self.url, poolclass=NullPool, connect_args={"config": config}
            )
        return self._engine

    def exists(self) -> bool:
        return self.db_path.is_file()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Sessions of this thread share one connection until the block ends.

        For a screen's load: five reads open the file once, not five times (each opening is
        20 ms or more on a big store). Keep the block short: while it is open, other processes
        wait for the file.
        """
        if getattr(self._reading, "connection", None) is not None:
            yield
            return
        connection = self._connect()
        self._reading.connection = connection
        try:
            yield
        finally:
            self._reading.connection = None
            connection.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back on any error."""
        shared = getattr(self._reading, "connection", None)
        connection = shared if shared is not None else self._connect()
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except OperationalError as exc:
            if _is_conflict(exc):
                raise StoreBusy(
                    "another process changed the same records at the same time; run the "
                    "command again"
                ) from exc
            raise StoreError(f"the store failed: {_driver_message(exc)}") from exc
        finally:
            if shared is None:
                connection.close()

    def _connect(self) -> Any:
        if not self.home.is_dir():
            raise StoreError(f"no signoff store at {self.home}; run `signoff init` first")
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return self.engine.connect()
            except DBAPIError as exc:
                if not _is_lock_error(exc):
                    raise StoreError(
                        f"cannot open the store at {self.db_path}: {_driver_message(exc)}"
                    ) from exc
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"the store at {self.home} is busy (another signoff process holds it); "
                        "try again in a moment"
                    ) from exc
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _driver_message(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).splitlines()[0] if str(original) else type(original).__name__


def open_store(home: Path, *, must_exist: bool = True) -> Store:
    """Open the store at `home`, checking its schema; creating is `init`'s job."""
    from console.store.migrations import check_schema

    store = Store(home)
    if must_exist:
        require_store(home)
        check_schema(store)
    return store
