"""The team store on a real PostgreSQL server: choosing it, creating it, and attacking it."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text
from sqlmodel import Session

from console.errors import Refused, SignoffError, StoreBusy, StoreError
from console.release.decisions import decide
from console.release.deployments import promote
from console.release.requests import request_promotion
from console.store.db import Store, open_store
from console.store.migrations import SCHEMA_VERSION
from console.store.models import Deployment, StoreInfo
from tests.conftest import Runner, Team, one_line_error
from tests.postgres_server import Server
from tests.workflow_helpers import record_validation, register_versions, use_policy

FORK = multiprocessing.get_context("fork")


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture
def flow(team: Team, tmp_path: Path) -> Team:
    register_versions(team, 3)
    use_policy(team, tmp_path)
    for version in (1, 2, 3):
        record_validation(team, "tumour", version)
    return team


def _sql(url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as con:
        cursor = con.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _seqs(url: str) -> list[int]:
    return [r[0] for r in _sql(url, "SELECT seq FROM audit_events ORDER BY seq")]


# ---- choosing and creating the store ---------------------------------------------------------


def test_init_and_info_on_an_empty_database(
    pg_url: str, signoff: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "shared-artifacts"
    created = signoff(
        "init", "--admin", "ada", "--db", pg_url, "--artifacts", artifacts, "--home", tmp_path
    )
    assert created.exit_code == 0, created.output
    assert "postgresql database" in created.output
    info = json.loads(signoff("store", "info", "--db", pg_url, "--json").output)
    assert info["backend"] == "postgresql"
    assert info["server_version"].startswith("PostgreSQL 15")
    assert info["schema_version"] == SCHEMA_VERSION and info["log_size"] == 1
    assert info["artifacts_dir"] == str(artifacts)
    assert len(info["log_head"]) == 64
    # the policy is a row of the database, not a file any client could edit
    assert _sql(pg_url, "SELECT count(*) FROM policies") == [(1,)]
    assert not (tmp_path / "policy.toml").exists()
    # a client that mounts the artifacts elsewhere says so
    monkeypatch.setenv("SIGNOFF_ARTIFACTS", "/mnt/elsewhere")
    moved = json.loads(signoff("store", "info", "--db", pg_url, "--json").output)
    assert moved["artifacts_dir"] == "/mnt/elsewhere"
    # a second init is refused: the database is not empty
    again = signoff(
        "init", "--admin", "ada", "--db", pg_url, "--artifacts", artifacts, "--home", tmp_path
    )
    assert "not empty" in one_line_error(again)


def test_init_on_postgresql_needs_the_artifacts_directory(
    pg_url: str, signoff: Runner, tmp_path: Path
) -> None:
    line = one_line_error(signoff("init", "--admin", "ada", "--db", pg_url, "--home", tmp_path))
    assert "--artifacts" in line
    assert _sql(pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


def test_a_password_in_the_url_is_refused_and_never_printed(
    pg_server: Server, signoff: Runner, tmp_path: Path
) -> None:
    url = pg_server.url().replace("@", ":hunter2-secret@", 1)
    assert ":hunter2-secret@" in url
    for args in (("store", "info"), ("models",), ("init", "--admin", "ada", "--artifacts", "a")):
        result = signoff(*args, "--db", url, "--home", tmp_path)
        line = one_line_error(result)
        assert "password" in line and "hunter2" not in result.output


@pytest.mark.parametrize(
    ("make_url", "expected"),
    [
        (lambda s: s.url("no_such_database"), "does not exist"),
        (lambda s: s.url().replace("signoff_test@", "nobody@"), "nobody"),
        (lambda s: s.url().replace(f"port={s.port}", "port=1"), "cannot connect"),
        (lambda s: s.url(), "no signoff store"),
    ],
    ids=["missing database", "unknown role", "nothing listening", "empty database"],
)
def test_unreachable_or_wrong_databases_are_one_line(
    pg_server: Server, signoff: Runner, tmp_path: Path, make_url: Any, expected: str
) -> None:
    line = one_line_error(signoff("models", "--db", make_url(pg_server), "--home", tmp_path))
    assert expected in line


def test_frozen_steps_build_the_models_schema_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """The DuckDB-dialect steps, translated, give PostgreSQL the tables the models declare."""
    from sqlmodel import SQLModel

    columns = (
        "SELECT table_name, column_name, data_type, is_nullable, ordinal_position "
        "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 5"
    )
    store = Store(tmp_path, url=pg_url)
    with store.session() as session:
        from console.store.migrations import migrate

        migrate(session.connection(), 0)
    migrated = _sql(pg_url, columns)
    collations = _sql(
        pg_url,
        "SELECT DISTINCT collation_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND data_type = 'character varying'",
    )
    assert collations == [("C",)]  # byte order, as DuckDB compares text
    _sql(pg_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    SQLModel.metadata.create_all(store.engine)
    store.dispose()
    assert migrated == _sql(pg_url, columns)


# ---- attacks ---------------------------------------------------------------------------------


def test_a_row_edited_in_postgresql_is_caught_by_verify(team: Team, signoff: Runner) -> None:
    url = os.environ["SIGNOFF_DB"]
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0
    _sql(
        url,
        "UPDATE audit_events SET payload = convert_to(replace(convert_from(payload, 'UTF8'), "
        "'reviewer', 'admin'), 'UTF8') WHERE seq = 2",
    )
    result = signoff("audit", "verify", "--home", team.home)
    assert result.exit_code == 1 and "FAILED at sequence 2" in result.output


def test_a_deleted_row_and_a_forged_signature_are_caught(team: Team, signoff: Runner) -> None:
    url = os.environ["SIGNOFF_DB"]
    _sql(url, "UPDATE audit_events SET signature = %s WHERE seq = 4", [b"\x01" * 64])
    result = signoff("audit", "verify", "--home", team.home)
    assert result.exit_code == 1 and "FAILED at sequence 4" in result.output
    _sql(url, "DELETE FROM audit_events WHERE seq = 3")
    result = signoff("audit", "verify", "--home", team.home)
    assert result.exit_code == 1 and "FAILED at sequence 3" in result.output


def _decide_or_promote(
    team: Team,
    url: str,
    start: Any,
    results: Any,
    actor: str,
    action: str,
    request_id: int,
) -> None:
    store = Store(team.home, url=url)
    start.wait()
    outcome = "ok"
    for _attempt in range(100):
        try:
            if action == "promote":
                promote(store, team[actor], request_id)
            else:
                decide(store, team[actor], request_id, action, "at the same moment")
            outcome = "ok"
            break
        except Refused as exc:
            outcome = f"refused: {exc.message}"
            if action == "promote" and "approval" in exc.message:
                threading.Event().wait(0.05)  # not approved yet: a release manager waits
                continue
            break
        except SignoffError as exc:
            outcome = f"{type(exc).__name__}: {exc.message}"
            break
    results.put((actor, action, request_id, outcome))


def test_eight_processes_deciding_at_once_leave_a_log_that_verifies(
    flow: Team, signoff: Runner
) -> None:
    """Two approvers on one request, a reject racing an approve, promotions waiting for them."""
    url = os.environ["SIGNOFF_DB"]
    ids = [
        request_promotion(flow.store, flow["dana"], "tumour", v, "dev", "go").id for v in (1, 2, 3)
    ]
    plan = [
        ("rita", "approve", ids[0]),
        ("rosa", "approve", ids[0]),
        ("raj", "reject", ids[1]),
        ("rita", "approve", ids[1]),
        ("rosa", "approve", ids[2]),
        ("raj", "approve", ids[2]),
        ("rel", "promote", ids[0]),
        ("rel", "promote", ids[2]),
    ]
    start, results = FORK.Barrier(len(plan)), FORK.Queue()
    workers = [
        FORK.Process(target=_decide_or_promote, args=(flow, url, start, results, *step))
        for step in plan
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in plan]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    failures = [o for o in outcomes if o[3] != "ok" and not o[3].startswith("refused")]
    assert failures == [], failures  # nobody hit a busy store, a conflict or a lost write
    promoted = {o[2] for o in outcomes if o[1] == "promote" and o[3] == "ok"}
    assert promoted == {ids[0], ids[2]}
    # the reject and the approve on one request: exactly one of them landed first
    race = {o[1]: o[3] for o in outcomes if o[2] == ids[1]}
    assert list(race.values()).count("ok") >= 1
    assert signoff("audit", "verify", "--home", flow.home).exit_code == 0
    seqs = _seqs(url)
    assert seqs == list(range(len(seqs)))  # gap-free
    for actor, action, request_id, outcome in outcomes:
        if action == "promote":
            rows = _sql(url, "SELECT count(*) FROM deployments WHERE request_id = %s", [request_id])
            assert rows == [(1,)]  # executed once, though retried until approved
            continue
        decision = "approve" if action == "approve" else "reject"
        rows = _sql(
            url,
            "SELECT count(*) FROM approvals WHERE request_id = %s AND approver = %s "
            "AND decision = %s",
            [request_id, actor, decision],
        )
        events = _sql(
            url,
            "SELECT count(*) FROM audit_events WHERE action = %s AND subject = %s AND actor = %s",
            [
                f"promotion.{action}d" if action == "approve" else "promotion.rejected",
                f"request:{request_id}",
                actor,
            ],
        )
        expected = 1 if outcome == "ok" else 0
        assert rows == [(expected,)] and events == [(expected,)], (actor, action, outcome)


def _pause_before_flushing_a_deployment(flushed: Any, release: Any, pids: Any) -> Any:
    """Hold a promotion's transaction open once it is about to write its deployment row."""

    def hold(session: Session, _context: Any, _instances: Any) -> None:
        if any(isinstance(row, Deployment) for row in session.new):
            pids.put(session.connection().connection.dbapi_connection.info.backend_pid)  # type: ignore[union-attr]
            flushed.set()
            release.wait(60)

    event.listen(Session, "before_flush", hold)
    return hold


def _promote_and_hang(team: Team, url: str, request_id: int, flushed: Any, pids: Any) -> None:
    store = Store(team.home, url=url)
    _pause_before_flushing_a_deployment(flushed, threading.Event(), pids)
    promote(store, team["rel"], request_id)


def _approved_request(flow: Team) -> int:
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    decide(flow.store, flow["rita"], view.id, "approve", "ok")
    return view.id


def test_kill_9_of_a_client_mid_promotion_leaves_nothing_half_written(flow: Team) -> None:
    url = os.environ["SIGNOFF_DB"]
    request_id = _approved_request(flow)
    before = _seqs(url)
    flushed, pids = FORK.Event(), FORK.Queue()
    client = FORK.Process(target=_promote_and_hang, args=(flow, url, request_id, flushed, pids))
    client.start()
    assert flushed.wait(60), "the client never reached the middle of its promotion"
    os.kill(client.pid or 0, signal.SIGKILL)
    client.join(10)
    assert _seqs(url) == before
    assert _sql(url, "SELECT count(*) FROM deployments") == [(0,)]
    # the lock died with the client's session: the next writer does not wait for it
    change = promote(flow.store, flow["rel"], request_id)
    assert change.version == 1
    assert _seqs(url) == [*before, len(before)]


def test_a_server_that_goes_away_mid_command_is_one_line_and_writes_nothing(
    flow: Team, signoff: Runner
) -> None:
    url = os.environ["SIGNOFF_DB"]
    request_id = _approved_request(flow)
    before = _seqs(url)
    flushed, release = threading.Event(), threading.Event()
    pids: Any = __import__("queue").Queue()
    hold = _pause_before_flushing_a_deployment(flushed, release, pids)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            promote(flow.store, flow["rel"], request_id)
        except BaseException as exc:  # noqa: BLE001 - the thread hands it to the test
            errors.append(exc)

    worker = threading.Thread(target=run)
    try:
        worker.start()
        assert flushed.wait(60)
        _sql(url, "SELECT pg_terminate_backend(%s)", [pids.get(timeout=5)])
    finally:
        release.set()
        worker.join(30)
        event.remove(Session, "before_flush", hold)
    assert len(errors) == 1 and isinstance(errors[0], StoreError), errors
    assert "password" not in errors[0].message and "connection" in errors[0].message
    assert _seqs(url) == before
    assert _sql(url, "SELECT count(*) FROM deployments") == [(0,)]


def test_a_unique_violation_is_one_line_and_rolls_back(team: Team) -> None:
    with pytest.raises(StoreBusy) as caught, team.store.session() as session:
        session.add(StoreInfo(key="probe", value="kept?"))
        session.flush()
        session.add(StoreInfo(key="store_id", value="a second one"))
    assert "23505" in caught.value.message
    assert _sql(
        os.environ["SIGNOFF_DB"], "SELECT count(*) FROM store_info WHERE key = 'probe'"
    ) == [(0,)]


def test_a_snapshot_reads_one_state_and_never_waits_for_the_writer(team: Team) -> None:
    url = os.environ["SIGNOFF_DB"]
    size = len(_seqs(url))
    store = open_store(team.home, url=url)
    with store.session() as writer:  # holds the write lock until the block ends
        writer.add(StoreInfo(key="during", value="the snapshot"))
        writer.flush()
        reader = open_store(team.home, url=url)
        with reader.snapshot():
            with reader.session() as session:
                first = session.connection().execute(text("SELECT count(*) FROM audit_events"))
                assert first.scalar() == size
            with pytest.raises(StoreError), reader.session() as session:
                session.add(StoreInfo(key="written", value="in a snapshot"))


# ---- moving a store between the backends -----------------------------------------------------


def test_a_duckdb_store_moves_to_postgresql_and_back_to_a_snapshot(
    pg_url: str, signoff: Runner, tmp_path: Path, isolated_env: Path
) -> None:
    from tests.conftest import make_team

    team = make_team(tmp_path / "home", isolated_env)
    register_versions(team, 1)
    home = team.home
    source = json.loads(signoff("store", "info", "--home", home, "--json").output)
    shared = tmp_path / "shared"
    moved = signoff(
        "store", "copy", "--home", home, "--to", pg_url, "--artifacts", shared, "--json"
    )
    assert moved.exit_code == 0, moved.output
    report = json.loads(moved.output)
    blobs = sorted(p.name for p in (home / "artifacts" / "sha256").glob("*/*"))
    assert report["log_size"] == source["log_size"] and report["artifacts"] == len(blobs) >= 1
    assert sorted(p.name for p in (shared / "sha256").glob("*/*")) == blobs
    there = json.loads(signoff("store", "info", "--db", pg_url, "--json").output)
    assert (there["log_size"], there["log_head"]) == (source["log_size"], source["log_head"])
    assert there["store_id"] == source["store_id"] and there["artifacts_dir"] == str(shared)
    for args in (("policy", "show"), ("show", "tumour", "--json"), ("audit", "log", "--json")):
        assert signoff(*args, "--db", pg_url).output == signoff(*args, "--home", home).output, args
    assert signoff("audit", "verify", "--db", pg_url).exit_code == 0
    # the team keeps working there, then an auditor takes a DuckDB snapshot offline
    added = signoff("audit", "checkpoint", "--db", pg_url, "--as", "aud")
    assert added.exit_code == 0, added.output
    snapshot = tmp_path / "auditor-laptop"
    back = signoff("store", "copy", "--db", pg_url, "--to", snapshot)
    assert back.exit_code == 0, back.output
    verified = signoff("audit", "verify", "--home", snapshot)
    assert verified.exit_code == 0 and f"{source['log_size'] + 1} events" in verified.output
    shown = json.loads(signoff("show", "tumour:1", "--home", snapshot, "--json").output)
    assert shown["author"] == "dana"


def test_store_copy_refuses_a_non_empty_target_and_changes_nothing(
    flow: Team, signoff: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import store_fingerprint

    url = os.environ["SIGNOFF_DB"]
    other = tmp_path / "other"
    first = signoff("store", "copy", "--home", flow.home, "--to", other)
    assert first.exit_code == 0, first.output
    monkeypatch.delenv("SIGNOFF_DB")
    before = store_fingerprint(other)
    again = signoff("store", "copy", "--db", url, "--home", flow.home, "--to", other)
    assert "already exists" in one_line_error(again)
    assert store_fingerprint(other) == before
    # into a database that is not empty: the team store itself
    into_itself = signoff(
        "store", "copy", "--home", other, "--to", url, "--artifacts", tmp_path / "a"
    )
    assert "not empty" in one_line_error(into_itself)
    secret = url.replace("@", ":pw-in-url@", 1)
    refused = signoff("store", "copy", "--home", other, "--to", secret, "--artifacts", other)
    assert "password" in one_line_error(refused) and "pw-in-url" not in refused.output
