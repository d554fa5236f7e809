"""Every guarantee of the audit log, attacked: each tampering is caught and named by sequence."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audit.keys import KeyStore, Signer
from console.auditing.log import append_uncatalogued_event
from console.identity.users import revoke_user
from tests.conftest import BACKENDS, PASSPHRASE, Runner, Team


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The log is attacked on the DuckDB file and in a PostgreSQL team store."""
    return str(request.param)


class _Tables:
    """The store's tables reached past signoff, as an attacker with the file or a database
    login would: `?` parameters on both backends."""

    def __init__(self, team: Team) -> None:
        team.store.dispose()
        self.url = os.environ.get("SIGNOFF_DB")
        self.con: Any
        if self.url:
            import psycopg

            self.con = psycopg.connect(self.url, autocommit=True)
        else:
            self.con = duckdb.connect(str(team.home / "signoff.duckdb"))

    def execute(self, statement: str, params: Any = ()) -> Any:
        if self.url:
            statement = statement.replace("?", "%s")
        return self.con.execute(statement, params)

    def columns(self, table: str) -> list[str]:
        rows = self.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def close(self) -> None:
        self.con.close()


def _db(team: Team) -> _Tables:
    return _Tables(team)


def _verify(signoff: Runner, team: Team, *extra: str | Path) -> tuple[int, str]:
    result = signoff("audit", "verify", "--home", team.home, *extra)
    return result.exit_code, result.output


def _size(team: Team) -> int:
    con = _db(team)
    try:
        return int(con.execute("SELECT count(*) FROM audit_events").fetchone()[0])
    finally:
        con.close()


def test_untouched_log_verifies(team: Team, signoff: Runner) -> None:
    code, output = _verify(signoff, team)
    assert code == 0, output
    assert output.startswith(f"OK: {_size(team)} events verified")


def test_modified_payload_is_named(team: Team, signoff: Runner) -> None:
    con = _db(team)
    if con.url:
        edited = "convert_to(replace(convert_from(payload, 'UTF8'), 'reviewer', 'admin'), 'UTF8')"
    else:
        edited = "replace(payload::VARCHAR, 'reviewer', 'admin')::BLOB"
    con.execute(f"UPDATE audit_events SET payload = {edited} WHERE seq = 2")
    con.close()
    code, output = _verify(signoff, team)
    assert code == 1
    assert "FAILED at sequence 2" in output and "payload" in output


def test_modified_column_outside_the_signed_bytes_is_named(team: Team, signoff: Runner) -> None:
    con = _db(team)
    con.execute("UPDATE audit_events SET actor = 'rita' WHERE seq = 3")
    con.close()
    code, output = _verify(signoff, team)
    assert code == 1 and "FAILED at sequence 3" in output


def test_deleted_row_is_named(team: Team, signoff: Runner) -> None:
    con = _db(team)
    con.execute("DELETE FROM audit_events WHERE seq = 2")
    con.close()
    code, output = _verify(signoff, team)
    assert code == 1 and "FAILED at sequence 2" in output and "gap" in output


def test_inserted_row_is_named(team: Team, signoff: Runner) -> None:
    con = _db(team)
    # Through negative numbers: PostgreSQL checks the key row by row.
    con.execute("UPDATE audit_events SET seq = -seq WHERE seq >= 3")
    con.execute("UPDATE audit_events SET seq = 1 - seq WHERE seq < 0")
    columns = con.columns("audit_events")
    picked = ", ".join("3" if c == "seq" else c for c in columns)
    con.execute(
        f"INSERT INTO audit_events ({', '.join(columns)}) "
        f"SELECT {picked} FROM audit_events WHERE seq = 2"
    )
    con.close()
    code, output = _verify(signoff, team)
    assert code == 1 and "FAILED at sequence 3" in output


def test_swapped_rows_are_named(team: Team, signoff: Runner) -> None:
    con = _db(team)
    con.execute("UPDATE audit_events SET seq = -1 WHERE seq = 2")
    con.execute("UPDATE audit_events SET seq = 2 WHERE seq = 3")
    con.execute("UPDATE audit_events SET seq = 3 WHERE seq = -1")
    con.close()
    code, output = _verify(signoff, team)
    assert code == 1 and "FAILED at sequence 2" in output


def test_forged_signature_is_named(team: Team, signoff: Runner) -> None:
    con = _db(team)
    con.execute("UPDATE audit_events SET signature = ?::BYTEA WHERE seq = 4", [b"\x01" * 64])
    con.close()
    code, output = _verify(signoff, team)
    assert code == 1 and "FAILED at sequence 4" in output and "signature" in output


def test_signature_copied_from_another_row_is_named(team: Team, signoff: Runner) -> None:
    con = _db(team)
    con.execute(
        "UPDATE audit_events SET signature = (SELECT signature FROM audit_events WHERE seq = 3) "
        "WHERE seq = 5"
    )
    con.close()
    code, output = _verify(signoff, team)
    assert code == 1 and "FAILED at sequence 5" in output


def test_event_signed_by_unregistered_key_is_named(team: Team, signoff: Runner) -> None:
    mallory = KeyStore(team.keys)
    mallory.create("mallory", PASSPHRASE.encode())
    forged = Signer("dana", mallory.load_private("mallory", PASSPHRASE.encode()))
    size = _size(team)
    with team.store.session() as session:
        append_uncatalogued_event(
            session, forged, "version.registered", "x:1", {"x": 1}, ts="2026-01-01T00:00:00Z"
        )
    code, output = _verify(signoff, team)
    assert code == 1 and f"FAILED at sequence {size}" in output and "never registered" in output


def test_event_signed_by_revoked_key_after_revocation_is_named(team: Team, signoff: Runner) -> None:
    revoke_user(team.store, team["ada"], "dana")
    size = _size(team)
    with team.store.session() as session:
        append_uncatalogued_event(
            session, team["dana"], "version.registered", "x:1", {}, ts="2026-01-01T00:00:00Z"
        )
    code, output = _verify(signoff, team)
    assert code == 1 and f"FAILED at sequence {size}" in output and "revocation" in output


def test_replayed_event_under_another_subject_is_named(team: Team, signoff: Runner) -> None:
    """An approval's signature reused for another subject: same actor, key, payload."""
    con = _db(team)
    row = con.execute("SELECT signature FROM audit_events WHERE seq = 3").fetchone()
    con.close()
    assert row is not None
    size = _size(team)

    class Replayer(Signer):
        def sign(self, message: bytes) -> bytes:
            return bytes(row[0])

    replay = Replayer("ada", team["ada"].private_key)
    with team.store.session() as session:
        append_uncatalogued_event(
            session, replay, "promotion.approved", "request:99", {}, ts="2026-01-01T00:00:00Z"
        )
    code, output = _verify(signoff, team)
    assert code == 1 and f"FAILED at sequence {size}" in output and "signature" in output


def test_non_admin_managing_users_is_caught_by_the_verifier(team: Team, signoff: Runner) -> None:
    size = _size(team)
    payload = {"name": "eve", "role": "admin", "public_key": "00" * 32}
    with team.store.session() as session:
        append_uncatalogued_event(
            session, team["rita"], "user.added", "user:eve", payload, ts="2026-01-01T00:00:00Z"
        )
    code, output = _verify(signoff, team)
    assert code == 1 and f"FAILED at sequence {size}" in output and "not an admin" in output


@pytest.fixture
def kept_checkpoint(team: Team, signoff: Runner, tmp_path: Path) -> Path:
    path = tmp_path / "kept.txt"
    result = signoff("audit", "checkpoint", "--home", team.home, "--as", "aud", "-o", path)
    assert result.exit_code == 0, result.output
    return path


def test_checkpoint_of_an_intact_log_verifies(
    team: Team, signoff: Runner, kept_checkpoint: Path
) -> None:
    add_more = signoff("audit", "checkpoint", "--home", team.home, "--as", "ada")
    assert add_more.exit_code == 0
    code, output = _verify(signoff, team, "--checkpoint", kept_checkpoint)
    assert code == 0, output
    assert "extends the checkpoint" in output


def test_truncated_tail_is_caught_against_a_kept_checkpoint(
    team: Team, signoff: Runner, kept_checkpoint: Path
) -> None:
    size = _size(team)
    con = _db(team)
    con.execute("DELETE FROM audit_events WHERE seq >= ?", [size - 2])
    con.close()
    code, output = _verify(signoff, team)
    # Issue 13: the store's own latest checkpoint is honoured too (it was invisible before).
    assert code == 1 and f"FAILED at sequence {size - 2}" in output and "truncated" in output
    code, output = _verify(signoff, team, "--checkpoint", kept_checkpoint)
    assert code == 1 and f"FAILED at sequence {size - 2}" in output and "truncated" in output


@pytest.mark.parametrize("backend", ["duckdb"])  # copies the DuckDB file (pg_dump: README)
def test_store_replaced_by_an_older_copy_is_caught(
    team: Team, signoff: Runner, tmp_path: Path
) -> None:
    team.store.dispose()
    backup = tmp_path / "backup"
    backup.mkdir()
    for path in team.home.glob("signoff.duckdb*"):
        shutil.copy(path, backup / path.name)
    old_size = _size(team)
    revoke_user(team.store, team["ada"], "rosa")
    kept = tmp_path / "kept.txt"
    assert (
        signoff("audit", "checkpoint", "--home", team.home, "--as", "aud", "-o", kept).exit_code
        == 0
    )
    team.store.dispose()
    for path in team.home.glob("signoff.duckdb*"):
        path.unlink()
    for path in backup.iterdir():
        shutil.copy(path, team.home / path.name)
    code, output = _verify(signoff, team, "--checkpoint", kept)
    assert code == 1 and f"FAILED at sequence {old_size}" in output


def test_checkpoint_with_a_bad_signature_is_rejected(
    team: Team, signoff: Runner, kept_checkpoint: Path
) -> None:
    text = kept_checkpoint.read_text()
    body, _, signature = text.rpartition("\n\n")
    name, sig = signature.strip().rsplit(" ", 1)
    tampered = body + "\n\n" + name + " " + ("A" if sig[0] != "A" else "B") + sig[1:] + "\n"
    kept_checkpoint.write_text(tampered)
    code, output = _verify(signoff, team, "--checkpoint", kept_checkpoint)
    assert code == 1 and "checkpoint" in output


def test_checkpoint_with_a_changed_root_is_rejected(
    team: Team, signoff: Runner, kept_checkpoint: Path
) -> None:
    lines = kept_checkpoint.read_text().split("\n")
    lines[2] = "A" * 43 + "="
    kept_checkpoint.write_text("\n".join(lines))
    code, output = _verify(signoff, team, "--checkpoint", kept_checkpoint)
    assert code == 1 and "checkpoint" in output
