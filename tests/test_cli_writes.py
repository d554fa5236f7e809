"""Signed writes on the DuckDB driver alone (`approve`, `reject`, `card edit`, `withdraw`): the same
rows and events as the ORM's unit of work, no ORM imported, the store opened once, tamper checks
kept, errors one line and nothing changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from audit.keys import KeyStore, Signer
from console.cli.options import Invocation
from console.registry.cards import normalized_fields, set_card_fields, set_card_fields_in
from console.release.decisions import decide, decide_in
from console.release.policy import read_policy
from console.release.requests import withdraw
from console.release.withdrawal import withdraw_in
from console.store.write_rows import write_rows
from fixtures.demo import DEMO_PASSPHRASE
from tests.conftest import (
    BACKENDS,
    PASSPHRASE,
    Runner,
    Team,
    demo_store,
    fixed_clock,
    one_line_error,
    store_fingerprint,
)
from tests.workflow_helpers import register_versions

ROOT = Path(__file__).resolve().parents[1]
ORM = ["sqlalchemy", "sqlmodel", "pandas", "sklearn", "textual"]
# The demo store's fixed clock (`demo_store`): its requests are still open then.
DEMO_TIME = "2026-11-02T12:00:00"


def _signer(home: Path, name: str) -> Signer:
    keys = KeyStore(home / "demo-keys")
    return Signer(name, keys.load_private(name, DEMO_PASSPHRASE.encode()))


def _table(home: Path, table: str, order: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(home / "signoff.duckdb"), read_only=True) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()


def _twins(demo_home: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of the demo store: one for the ORM's path, one for the driver's."""
    twin = tmp_path / "twin"
    shutil.copytree(demo_home, twin)
    return demo_home, twin


def _same_stores(orm: Path, fast: Path) -> None:
    assert _table(orm, "audit_events", "seq") == _table(fast, "audit_events", "seq")
    assert store_fingerprint(orm) == store_fingerprint(fast)  # every row of every table


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_decision_stores_the_same_bytes_on_either_path(
    demo_home: Path, tmp_path: Path, decision: str
) -> None:
    orm, fast = _twins(demo_home, tmp_path)
    before = len(_table(orm, "audit_events", "seq"))
    view = decide(demo_store(orm), _signer(orm, "rosa"), 6, decision, "evidence reviewed")
    with write_rows(fast, 5.0) as rows:
        assert rows is not None
        fast_view = decide_in(
            rows,
            _signer(fast, "rosa"),
            read_policy(rows),
            6,
            decision,
            "evidence reviewed",
            fixed_clock(DEMO_TIME),
        )
    assert fast_view == view
    assert len(_table(fast, "audit_events", "seq")) == before + 1
    _same_stores(orm, fast)


def test_a_card_edit_stores_the_same_bytes_on_either_path(demo_home: Path, tmp_path: Path) -> None:
    orm, fast = _twins(demo_home, tmp_path)
    edit = {"license": "apache-2.0", "contact": "", "factors": "income bands"}
    changed = set_card_fields(demo_store(orm), _signer(orm, "dana"), "credit-risk", 2, edit)
    with write_rows(fast, 5.0) as rows:
        assert rows is not None
        fast_changed = set_card_fields_in(
            rows,
            _signer(fast, "dana"),
            "credit-risk",
            2,
            normalized_fields(edit),
            fixed_clock(DEMO_TIME),
        )
    assert fast_changed == changed and changed
    _same_stores(orm, fast)


def test_a_withdrawal_stores_the_same_bytes_on_either_path(demo_home: Path, tmp_path: Path) -> None:
    orm, fast = _twins(demo_home, tmp_path)
    view = withdraw(demo_store(orm), _signer(orm, "dana"), 6, "superseded by v4")
    with write_rows(fast, 5.0) as rows:
        assert rows is not None
        fast_view = withdraw_in(
            rows,
            _signer(fast, "dana"),
            read_policy(rows),
            6,
            "superseded by v4",
            fixed_clock(DEMO_TIME),
        )
    assert fast_view == view and view.status == "withdrawn"
    _same_stores(orm, fast)


def test_a_signed_write_opens_the_store_once(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import console.analytics as analytics

    opened: list[str] = []
    for name in ("open_writable", "open_read_only"):
        real = getattr(analytics, name)

        def counted(path: Path, real: object = real, name: str = name) -> duckdb.DuckDBPyConnection:
            opened.append(name)
            return real(path)  # type: ignore[operator, no-any-return]

        monkeypatch.setattr(analytics, name, counted)
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    run = Invocation(demo_home, "dana", demo_home / "demo-keys", None)
    with run.signed_write() as fast:
        assert fast is not None
        rows, signer = fast
        assert signer.name == "dana"
        assert rows.all("SELECT count(*) FROM users")[0][0] > 0
    assert opened == ["open_writable"]


def test_a_passphrase_prompt_holds_no_store(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the person types, another process can open the store for writing."""
    import console.cli.options as options

    monkeypatch.setattr(options, "prompts_for_passphrase", lambda _file: True)
    free: list[int] = []

    def typed(_key: str) -> bytes:
        probe = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
        done = subprocess.run([sys.executable, "-c", probe, str(demo_home / "signoff.duckdb")])
        free.append(done.returncode)
        return DEMO_PASSPHRASE.encode()

    monkeypatch.setattr(Invocation, "passphrase", lambda _self, key: typed(key))
    run = Invocation(demo_home, "dana", demo_home / "demo-keys", None)
    with run.signed_write() as fast:
        assert fast is not None and fast[1].name == "dana"
    assert free == [0]


def _run(home: Path, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`signoff ARGV` in a new process, then the heavy modules it imported (exit code kept)."""
    code = (
        "import sys\n"
        "from console.cli import cli\n"
        f"code = cli(prog_name='signoff', args={argv!r}, standalone_mode=False)\n"
        f"loaded = sorted(set({ORM!r}) & {{m.split('.')[0] for m in sys.modules}})\n"
        "print('imported:', ', '.join(loaded) or 'none')\n"
        "sys.exit(code or 0)"
    )
    environ = dict(
        os.environ,
        SIGNOFF_HOME=str(home),
        SIGNOFF_KEYS=str(home / "demo-keys"),
        SIGNOFF_PASSPHRASE=DEMO_PASSPHRASE,
        PYTHONPATH=str(ROOT),
        **env,
    )
    environ.pop("SIGNOFF_DB", None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True
    )


def test_card_edit_writes_without_the_orm_and_the_log_verifies(
    demo_home: Path, signoff: Runner
) -> None:
    done = _run(
        demo_home, ["card", "edit", "credit-risk:2", "--set", "license=mit", "--as", "dana"]
    )
    assert done.returncode == 0, done.stderr
    assert "updated the card of credit-risk:2: license" in done.stdout
    assert "imported: none" in done.stdout
    assert signoff("audit", "verify", "--home", demo_home).exit_code == 0


def test_a_decision_runs_without_the_orm_and_refuses_an_expired_request(demo_home: Path) -> None:
    before = store_fingerprint(demo_home)
    # The demo's requests expired by the real clock: refused inside the write, nothing stored.
    done = _run(demo_home, ["approve", "6", "--comment", "looked", "--as", "rosa"])
    assert done.returncode == 3, done.stderr
    assert "expired" in done.stderr and "Traceback" not in done.stderr
    assert "imported: none" in done.stdout
    assert store_fingerprint(demo_home) == before


def test_withdraw_runs_without_the_orm_and_refuses_what_it_must(
    demo_home: Path, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = store_fingerprint(demo_home)
    # The demo's requests expired by the real clock: refused inside the write, nothing stored.
    done = _run(demo_home, ["withdraw", "6", "--reason", "superseded", "--as", "dana"])
    assert done.returncode == 2, done.stderr
    assert "expired; nothing to withdraw" in done.stderr and "Traceback" not in done.stderr
    assert "imported: none" in done.stdout
    monkeypatch.setenv("SIGNOFF_KEYS", str(demo_home / "demo-keys"))
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    home = ["--home", str(demo_home)]
    result = signoff("withdraw", "6", "--as", "rosa", *home)
    assert "only dana, who opened request 6, may withdraw it" in one_line_error(result, 3)
    assert "no request 999" in one_line_error(signoff("withdraw", "999", "--as", "dana", *home))
    assert "not a request number" in one_line_error(signoff("withdraw", "x", "--as", "dana", *home))
    bad = signoff("withdraw", "6", "--reason", "a\x1bb", "--as", "dana", *home)
    assert "control character" in one_line_error(bad)
    assert store_fingerprint(demo_home) == before
    with duckdb.connect(str(demo_home / "signoff.duckdb")) as con:
        con.execute("UPDATE users SET role = 'admin' WHERE name = 'dana'")
    forged = store_fingerprint(demo_home)
    result = signoff("withdraw", "6", "--as", "dana", *home)
    assert "differs from its signed log" in one_line_error(result, 1)
    assert store_fingerprint(demo_home) == forged


def test_a_tampered_store_is_refused_on_the_driver_path(
    demo_home: Path, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    with duckdb.connect(str(demo_home / "signoff.duckdb")) as con:
        updated = con.execute(
            "UPDATE card_fields SET value = 'forged' WHERE model = 'credit-risk' AND version = 2 "
            "AND field = 'contact'"
        ).fetchone()
        assert updated == (1,)
        updated = con.execute(
            "UPDATE promotion_requests SET requester = 'rita' WHERE id = 6"
        ).fetchone()
        assert updated == (1,)
    before = store_fingerprint(demo_home)
    monkeypatch.setenv("SIGNOFF_KEYS", str(demo_home / "demo-keys"))
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    home = ["--home", str(demo_home)]
    result = signoff("card", "edit", "credit-risk:2", "--set", "license=mit", "--as", "dana", *home)
    assert "differs from its signed log" in one_line_error(result, 1)
    result = signoff("approve", "6", "--comment", "looked", "--as", "rosa", *home)
    assert "differs from its signed log" in one_line_error(result, 1)
    assert store_fingerprint(demo_home) == before


def test_bad_input_and_a_broken_store_are_one_line_with_the_store_unchanged(
    demo_home: Path, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNOFF_KEYS", str(demo_home / "demo-keys"))
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    home = ["--home", str(demo_home)]
    before = store_fingerprint(demo_home)
    edit = ["card", "edit", "--as", "dana", *home]
    assert "no version 9" in one_line_error(signoff(*edit, "credit-risk:9", "--set", "license=mit"))
    assert "unknown card field" in one_line_error(signoff(*edit, "credit-risk:2", "--set", "x=1"))
    assert "no request 999" in one_line_error(
        signoff("approve", "999", "--comment", "c", "--as", "rosa", *home)
    )
    assert "no user" in one_line_error(
        signoff("reject", "6", "--comment", "c", "--as", "nobody", *home)
    )
    assert store_fingerprint(demo_home) == before
    with duckdb.connect(str(demo_home / "signoff.duckdb")) as con:
        con.execute("DROP TABLE card_fields")  # a DuckDB error inside the write transaction
    broken = store_fingerprint(demo_home)
    result = signoff(*edit, "credit-risk:2", "--set", "license=mit")
    assert "the store failed" in one_line_error(result)
    assert store_fingerprint(demo_home) == broken


def test_a_store_held_by_another_process_is_busy_after_the_timeout(demo_home: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(demo_home / 'signoff.duckdb')!r})\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        done = _run(
            demo_home,
            ["card", "edit", "credit-risk:2", "--set", "license=mit", "--as", "dana"],
            SIGNOFF_LOCK_TIMEOUT="0.3",
        )
    finally:
        holder.communicate("")
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "busy" in lines[0], done.stderr


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The `team` of this module's tests on the DuckDB file (the driver's path) and on
    PostgreSQL (the `Store` path)."""
    return str(request.param)


def test_card_edit_on_either_backend_verifies(
    team: Team, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_versions(team, 1)
    monkeypatch.setenv("SIGNOFF_KEYS", str(team.keys))
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", PASSPHRASE)
    home = ["--home", str(team.home)]
    result = signoff("card", "edit", "tumour:1", "--set", "license=mit", "--as", "dana", *home)
    assert result.exit_code == 0, result.output
    assert "updated the card of tumour:1: license" in result.output
    assert signoff("audit", "verify", *home).exit_code == 0


def test_a_driver_connection_asks_again_after_its_own_changes(tmp_path: Path) -> None:
    """Answers are remembered until a statement changes a table they read (or anything else)."""
    from console.store.rows import DuckDBRows

    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        con.execute("CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER)")
        con.execute("INSERT INTO a VALUES (1); INSERT INTO b VALUES (10)")
        rows = DuckDBRows(con)
        assert rows.all("SELECT x FROM a") == [(1,)]
        assert rows.dicts("SELECT y FROM b WHERE y = :y", {"y": 10}) == [{"y": 10}]
        con.execute("INSERT INTO a VALUES (2)")  # behind its back: the answer is remembered
        assert rows.all("SELECT x FROM a") == [(1,)]
        rows.execute("UPDATE b SET y = 11")  # b changed: a's answer kept, b's asked again
        assert rows.all("SELECT x FROM a") == [(1,)]
        assert rows.dicts("SELECT y FROM b WHERE y = :y", {"y": 10}) == []
        rows.execute("INSERT INTO a VALUES (3)")
        assert sorted(rows.all("SELECT x FROM a")) == [(1,), (2,), (3,)]
        found = rows.dicts("SELECT y FROM b")
        found[0]["y"] = 99  # a caller's copy: the next answer is the store's
        assert rows.dicts("SELECT y FROM b") == [{"y": 11}]
        rows.execute("CREATE TABLE c (z INTEGER)")  # anything else: every answer asked again
        con.execute("INSERT INTO b VALUES (12)")
        assert sorted(rows.all("SELECT y FROM b")) == [(11,), (12,)]
