"""Owns the connections: one transaction per unit of work on whichever backend holds the store."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from console.errors import StoreError
from console.store.backend import Backend, backend_for
from console.store.location import ARTIFACTS_DIR, DB_FILE
from console.store.rows import lock_timeout_from_env
from console.store.rows import utc_now as utc_now

ARTIFACTS_KEY = "artifacts_dir"  # store_info key: the shared artifacts directory of a team store
_SNAPSHOT = "signoff.snapshot"


class Store:
    """A signoff store: its metadata (a DuckDB file in `home`, or a PostgreSQL database given by
    `url`) and its artifacts directory. The services never ask which."""

    def __init__(
        self, home: Path, *, url: str | None = None, lock_timeout: float | None = None
    ) -> None:
        self.home = home
        self.backend: Backend = backend_for(url, home)
        self.db_path = home / DB_FILE  # the DuckDB backend's file
        self.lock_timeout = lock_timeout if lock_timeout is not None else lock_timeout_from_env()
        # Time comes from here so tests can move it; the CLI never overrides it.
        self.clock: Callable[[], str] = utc_now
        self._artifacts: Path | None = None
        self._local = threading.local()

    @property
    def kind(self) -> str:
        return self.backend.kind

    @property
    def engine(self) -> Engine:
        return self.backend.engine

    @property
    def artifacts_dir(self) -> Path:
        """The blobs' directory: `home/artifacts` for a DuckDB store; for a team store the one
        `init --artifacts` recorded, unless SIGNOFF_ARTIFACTS says where this client mounts it."""
        if self._artifacts is None:
            if self.kind == "duckdb":
                self._artifacts = self.home / ARTIFACTS_DIR
            elif os.environ.get("SIGNOFF_ARTIFACTS"):
                self._artifacts = Path(os.environ["SIGNOFF_ARTIFACTS"])
            else:
                self._artifacts = Path(self.info_value(ARTIFACTS_KEY) or self.home / ARTIFACTS_DIR)
        return self._artifacts

    @artifacts_dir.setter
    def artifacts_dir(self, path: Path) -> None:
        self._artifacts = path

    def info_value(self, key: str) -> str | None:
        from console.store.models import StoreInfo

        with self.session() as session:
            row = session.get(StoreInfo, key)
            return row.value if row is not None else None

    def exists(self) -> bool:
        return self.backend.has_store()

    def _connect(self) -> Connection:
        return self.backend.connect(self.lock_timeout)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Sessions of this thread share one connection until the block ends.

        For a screen's load: five reads open the store once, not five times (each opening is
        20 ms or more on a big DuckDB file). Keep the block short: while it is open, other
        processes wait for a DuckDB file. A batch of writes (`console.api.session`) uses it too:
        each unit of work still commits or rolls back on its own.
        """
        if getattr(self._local, "connection", None) is not None:
            yield
            return
        connection = self._connect()
        self._local.connection = connection
        try:
            yield
        finally:
            self._local.connection = None
            connection.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Sessions of this thread read one consistent state until the block ends, and never
        wait for a writer (REPEATABLE READ on PostgreSQL): for a long report or a verification.
        Nothing may be written inside it."""
        if getattr(self._local, "snapshot", None) is not None:
            yield
            return
        connection = self._connect()
        try:
            self.backend.begin_snapshot(connection)
            self._local.snapshot = connection
            yield
        except DBAPIError as exc:
            raise self._translated(exc) from exc
        finally:
            self._local.snapshot = None
            with suppress(DBAPIError):
                connection.rollback()
            connection.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back on any error.

        On PostgreSQL it holds the store's write lock from its first statement. Inside a
        `snapshot()` block it reads the snapshot and takes no lock; nested in another unit of
        work of this thread, it is part of that one's transaction.
        """
        snapshot = getattr(self._local, "snapshot", None)
        outer = getattr(self._local, "unit", None)
        if snapshot is not None or outer is not None:
            # Inside a snapshot, or nested in this thread's unit of work: join its transaction
            # (a second writer here would wait for the lock its own thread holds).
            with Session(
                bind=snapshot if snapshot is not None else outer,
                expire_on_commit=False,
                join_transaction_mode="rollback_only",
            ) as session:
                session.info[_SNAPSHOT] = snapshot is not None
                # Files written here are undone if the outer unit fails (it holds the lock).
                session.info[_UNDO] = getattr(self._local, "undo", None) or []
                yield session
                session.flush()
            return
        shared = getattr(self._local, "connection", None)
        connection = shared if shared is not None else self._connect()
        committing = False
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                undo: list[Callable[[], None]] = []
                session.info[_UNDO] = undo
                try:
                    self.backend.begin_write(session, self.lock_timeout)
                    self._local.unit = session.connection()
                    self._local.undo = undo
                    yield session
                    committing = True
                    session.commit()
                except BaseException:
                    _undo_files(undo)  # before the rollback, which may release the write lock
                    with suppress(DBAPIError):  # a lost connection's rollback fails too
                        session.rollback()
                    raise
                finally:
                    self._local.unit = None
                    self._local.undo = None
        except DBAPIError as exc:
            raise self._translated(exc, committing=committing) from exc
        finally:
            if shared is None:
                connection.close()

    def _translated(self, exc: DBAPIError, *, committing: bool = False) -> BaseException:
        ours = self.backend.translate(exc, committing=committing)
        return ours if ours is not None else exc

    def server_version(self) -> str:
        with self.session() as session:
            return self.backend.server_version(session.connection())

    def hold_no_idle_connection(self) -> None:
        """Keep no connection between units of work, for a client that idles (the console):
        a command's process keeps one to a team store while it runs, never a lock."""
        self.backend.hold_no_idle_connection()

    def dispose(self) -> None:
        self.backend.dispose()


def undo_on_failure(session: Session, action: Callable[[], None]) -> None:
    """Run `action` if this unit of work fails, before its write lock is released.

    For files a unit wrote beside the store: while the lock is held no other process can have
    come to rely on them, so undoing them loses nothing that another unit committed.
    """
    session.info.setdefault(_UNDO, []).append(action)


_UNDO = "signoff.undo_on_failure"


def _undo_files(actions: list[Callable[[], None]]) -> None:
    for action in reversed(actions):
        with suppress(OSError):  # a leftover blob is unreferenced: `signoff gc` removes it
            action()


def _refuse_write_in_snapshot(session: Session, *_args: Any) -> None:
    if session.info.get(_SNAPSHOT) and (session.new or session.dirty or session.deleted):
        raise StoreError("a write was attempted inside a read-only snapshot (a bug)")


event.listen(Session, "before_flush", _refuse_write_in_snapshot)


def open_store(
    home: Path, *, url: str | None = None, must_exist: bool = True, idles: bool = False
) -> Store:
    """Open the store (the DuckDB file in `home`, or the database at `url`), checking its
    schema; creating is `init`'s job. A client that `idles` keeps no connection open."""
    from console.store.migrations import check_schema

    store = Store(home, url=url)
    if idles:
        store.hold_no_idle_connection()
    if must_exist:
        store.backend.require_store()
        check_schema(store)
    return store
