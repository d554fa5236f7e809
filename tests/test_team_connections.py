"""What a client holds on a team store between its units of work: a command one warm
connection (never a lock), the console none; a connection that died is replaced unseen."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

import psycopg
import pytest

from console.auditing.trail import audit_size
from console.store.db import Store
from tests.conftest import Team

FORK = multiprocessing.get_context("fork")


@pytest.fixture
def backend() -> str:
    return "postgresql"


def _others(url: str) -> list[tuple[int, str]]:
    """The other clients' sessions on the test's database (not autovacuum's): (pid, state)."""
    with psycopg.connect(url, autocommit=True) as con:
        return con.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()


def _backend_pid(store: Store) -> int:
    with store.session() as session:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        return int(dbapi.info.backend_pid)


def test_a_command_keeps_one_idle_connection_and_no_lock(team: Team) -> None:
    url = os.environ["SIGNOFF_DB"]
    team.store.dispose()
    store = Store(team.home, url=url)
    first = _backend_pid(store)
    assert _backend_pid(store) == first  # the same server process, its caches warm
    assert _others(url) == [(first, "idle")]  # between units: idle, no transaction open
    with psycopg.connect(url, autocommit=True) as con:  # and it holds no lock
        assert con.execute("SELECT pg_try_advisory_lock(1365839856)").fetchone() == (True,)
    store.dispose()
    assert _others(url) == []


def test_the_console_keeps_no_connection_between_units(team: Team) -> None:
    url = os.environ["SIGNOFF_DB"]
    team.store.dispose()
    store = Store(team.home, url=url)
    _backend_pid(store)
    store.hold_no_idle_connection()  # what the console asks of its store
    assert _others(url) == []
    assert audit_size(store) > 0
    assert _others(url) == []


def test_a_kept_connection_the_server_dropped_is_replaced(team: Team) -> None:
    url = os.environ["SIGNOFF_DB"]
    team.store.dispose()
    store = Store(team.home, url=url)
    first = _backend_pid(store)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SELECT pg_terminate_backend(%s)", [first])
    assert _backend_pid(store) != first  # no error: checked before use, connected again
    store.dispose()


def _child_pid(store: Store, results: Any) -> None:
    results.put(_backend_pid(store))


def test_a_forked_child_connects_on_its_own(team: Team) -> None:
    url = os.environ["SIGNOFF_DB"]
    team.store.dispose()
    store = Store(team.home, url=url)
    parent = _backend_pid(store)
    results = FORK.Queue()
    child = FORK.Process(target=_child_pid, args=(store, results))
    child.start()
    theirs = results.get(timeout=60)
    child.join(30)
    assert child.exitcode == 0 and theirs != parent
    assert _backend_pid(store) == parent  # the parent's connection survived the child
    store.dispose()
