"""Shared test fixtures: isolated key directories, stores with users, and a CLI runner."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from audit.keys import KeyStore, Signer
from console.cli import cli
from console.identity.genesis import init_store
from console.identity.users import add_user
from console.store.db import Store
from tests.postgres_server import Server, running_server

PASSPHRASE = "correct horse battery staple"
TEAM = {
    "dana": "author",
    "rita": "reviewer",
    "raj": "risk-officer",
    "rosa": "reviewer",
    "rel": "release-manager",
    "aud": "auditor",
}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own key directory and never sees the developer's environment."""
    keys = tmp_path / "keys"
    monkeypatch.setenv("SIGNOFF_KEYS", str(keys))
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SIGNOFF_LOCK_TIMEOUT", "3")
    for name in ("SIGNOFF_HOME", "SIGNOFF_USER", "SIGNOFF_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return keys


@pytest.fixture(autouse=True)
def payloads_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every event a test writes is checked against its catalogue type, values included."""
    from console.auditing import append, log
    from tests.payload_types import check_event_strictly

    monkeypatch.setattr(log, "check_event", check_event_strictly)
    monkeypatch.setattr(append, "check_event", check_event_strictly)  # the plain-SQL append


@dataclass
class Team:
    """A store with an admin and one user per role, and every private key unlocked."""

    store: Store
    home: Path
    keys: Path
    signers: dict[str, Signer]

    def __getitem__(self, name: str) -> Signer:
        return self.signers[name]


def make_team(home: Path, keys: Path, *, url: str | None = None) -> Team:
    """A team on the DuckDB file in `home`, or on the PostgreSQL database at `url` (its
    artifacts then in `home/artifacts`, as `init --artifacts` records)."""
    keystore = KeyStore(keys)
    signers: dict[str, Signer] = {}
    for name in ["ada", *TEAM]:
        keystore.create(name, PASSPHRASE.encode())
        signers[name] = Signer(name, keystore.load_private(name, PASSPHRASE.encode()))
    store = Store(home, url=url)
    if url is not None:
        store.artifacts_dir = home / "artifacts"
    init_store(store, signers["ada"])
    for name, role in TEAM.items():
        add_user(store, signers["ada"], name, role, signers[name].public_key)
    return Team(store, home, keys, signers)


# The backends a suite runs on: a module opts into both by overriding `backend` with
# `@pytest.fixture(params=BACKENDS)`; everything else stays on the DuckDB file.
BACKENDS = ["duckdb", "postgresql"]


@pytest.fixture
def backend() -> str:
    return "duckdb"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """A throwaway PostgreSQL server for the session, started by the first test that asks.

    It raises (never skips) when the server cannot start: `make test` installs the binaries.
    """
    with running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: Server) -> Iterator[str]:
    """An empty database of its own for one test, dropped after it."""
    import uuid

    import psycopg

    name = f"signoff_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.url(name)
    with psycopg.connect(pg_server.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def team(
    tmp_path: Path,
    isolated_env: Path,
    backend: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Team:
    url = None
    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
        monkeypatch.setenv("SIGNOFF_DB", url)  # the CLI reaches the same database
    return make_team(tmp_path / "home", isolated_env, url=url)


def store_at(home: Path) -> Store:
    """The test's store in `home`: the team database when SIGNOFF_DB names one (as the CLI
    reads it), else the DuckDB file there."""
    return Store(home, url=os.environ.get("SIGNOFF_DB") or None)


@pytest.fixture
def on_backend(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Path], Path]:
    """`home = on_backend(home)` puts a built DuckDB store on the test's backend.

    On PostgreSQL its rows move into a database of the test's own (the blobs stay in
    `home/artifacts`, where the database says they are), the DuckDB file is removed so nothing
    can read it by mistake, and SIGNOFF_DB sends the CLI (and `store_at`) to the database.
    """

    def move(home: Path) -> Path:
        if backend == "duckdb":
            return home
        from console.store.transfer import copy_rows

        url: str = request.getfixturevalue("pg_url")
        source, target = Store(home), Store(home, url=url)
        target.artifacts_dir = home / "artifacts"
        try:
            copy_rows(source, target)
        finally:
            source.dispose()
            target.dispose()
        for path in home.glob("signoff.duckdb*"):
            path.unlink()
        monkeypatch.setenv("SIGNOFF_DB", url)
        return home

    return move


Runner = Callable[..., Result]


@pytest.fixture
def signoff() -> Runner:
    """Run the CLI in-process like a user would type it."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


def store_fingerprint(home: Path) -> str:
    """A digest of every row of every table and every artifact: equal means unchanged.

    On a team store (SIGNOFF_DB set by the `team` fixture) the rows are the database's.
    """
    digest = hashlib.sha256()
    db = home / "signoff.duckdb"
    url = os.environ.get("SIGNOFF_DB")
    if url:
        digest.update(database_fingerprint(url).encode())
    elif db.exists():
        con = duckdb.connect(str(db), read_only=True)
        try:
            tables = [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM information_schema.tables ORDER BY 1"
                ).fetchall()
            ]
            for table in tables:
                rows = con.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall()
                digest.update(f"{table}:{rows!r}".encode())
        finally:
            con.close()
    artifacts = home / "artifacts"
    if artifacts.exists():
        for path in sorted(artifacts.rglob("*")):
            digest.update(str(path.relative_to(home)).encode())
    return digest.hexdigest()


def database_fingerprint(url: str) -> str:
    """A digest of every row of every table of a PostgreSQL store."""
    import psycopg

    digest = hashlib.sha256()
    with psycopg.connect(url) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
            ).fetchall()
        ]
        for table in tables:
            rows = sorted(repr(r) for r in con.execute(f'SELECT * FROM "{table}"').fetchall())
            digest.update(f"{table}:{rows!r}".encode())
    return digest.hexdigest()


@pytest.fixture
def unchanged() -> Iterator[Callable[[Path], Callable[[], None]]]:
    """`check = unchanged(home); ...; check()` asserts the store did not change."""

    def start(home: Path) -> Callable[[], None]:
        before = store_fingerprint(home)

        def check() -> None:
            assert store_fingerprint(home) == before, "the store changed"

        return check

    yield start


def one_line_error(result: Result, code: int = 2) -> str:
    """A failed command prints exactly one line and no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    assert lines[0].startswith("error: ")
    return lines[0]


def fixed_clock(start: str = "2026-11-02T09:00:00") -> Callable[[], str]:
    """A clock that ticks one second per call, so demo stores are the same every run."""
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(start)
    state = {"n": 0}

    def now() -> str:
        state["n"] += 1
        return (moment + timedelta(seconds=state["n"])).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    return now


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store, built once per session; copy it before changing it."""
    from fixtures.demo import build_demo

    home = tmp_path_factory.mktemp("template") / "demo"
    build_demo(home, echo=lambda _line: None, clock=fixed_clock())
    return home


@pytest.fixture
def demo_home(demo_template: Path, tmp_path: Path) -> Path:
    import shutil

    home = tmp_path / "demo"
    shutil.copytree(demo_template, home)
    return home


def demo_store(home: Path) -> Store:
    """A Store on a demo copy whose clock continues the demo's fixed clock (requests stay open)."""
    store = Store(home)
    store.clock = fixed_clock("2026-11-02T12:00:00")
    return store
