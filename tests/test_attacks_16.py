"""Issue 16, held under attack: each test attacks one class of defect (the item number is in its
name): a failed output leaves no event (4), time never runs backwards in the log (10), a demo
is whole or absent (11), policy and checkpoint verdicts (12), exit codes (13)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text as sa_text
from sqlmodel import Session

from audit.keys import KeyStore, Signer
from console.auditing.log import append_event
from console.auditing.trail import issue_checkpoint
from console.errors import Refused
from console.release.deployments import promote
from console.release.requests import decide, get_request, request_promotion
from console.store.db import Store
from fixtures.demo import DEMO_PASSPHRASE
from reports.compliance import generate_report
from tests.conftest import Runner, Team, one_line_error, store_fingerprint
from tests.workflow_helpers import record_validation, register_versions, use_policy

Unchanged = Callable[[Path], Callable[[], None]]
MODEL = "credit-risk"
# /proc takes no new files, even for root: a path no test runner can write to.
UNWRITABLE = Path("/proc/signoff-attack/out.pdf")
UNWRITABLE_IN_DIR = Path("/proc/signoff-attack.txt")


def demo_signer(home: Path, name: str) -> Signer:
    keys = KeyStore(home / "demo-keys")
    return Signer(name, keys.load_private(name, DEMO_PASSPHRASE.encode()))


def scalar(home: Path, sql: str) -> object:
    con = duckdb.connect(str(home / "signoff.duckdb"), read_only=True)
    try:
        row = con.execute(sql).fetchone()
        assert row is not None
        return row[0]
    finally:
        con.close()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---- 4: a failed report or checkpoint output leaves neither file nor event ---------------------


@pytest.mark.parametrize("target", [UNWRITABLE, UNWRITABLE_IN_DIR], ids=["no-dir", "no-write"])
def test_item4_report_and_checkpoint_to_unwritable_path_record_nothing(
    signoff: Runner,
    demo_home: Path,
    unchanged: Unchanged,
    target: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    check = unchanged(demo_home)
    result = signoff("report", f"{MODEL}:2", "-o", target, "--home", demo_home, "--as", "aud")
    assert "cannot write" in one_line_error(result)
    check()
    result = signoff("audit", "checkpoint", "-o", target, "--home", demo_home, "--as", "aud")
    assert "cannot write" in one_line_error(result)
    check()


def test_item4_failed_rename_or_commit_leaves_neither_file_nor_event(
    demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(demo_home)
    aud = demo_signer(demo_home, "aud")
    out = tmp_path / "out"
    out.mkdir()
    before = store_fingerprint(demo_home)

    def no_rename(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("console.store.staged_output.os.replace", no_rename)
        with pytest.raises(Exception, match="cannot write"):
            generate_report(store, aud, MODEL, 2, None, output=out / "r.pdf")
        with pytest.raises(Exception, match="cannot write"):
            issue_checkpoint(store, aud, out / "c.txt")
    assert store_fingerprint(demo_home) == before
    assert list(out.iterdir()) == []

    real_commit = Session.commit

    def failing_commit(self: Session) -> None:
        if self.info.get("signoff.audit_head") is not None:  # only a transaction that appended
            raise OSError(5, "Input/output error")
        real_commit(self)

    with monkeypatch.context() as patch:
        patch.setattr(Session, "commit", failing_commit)
        with pytest.raises(Exception, match="Input/output"):
            generate_report(store, aud, MODEL, 2, None, output=out / "r.pdf")
        with pytest.raises(Exception, match="Input/output"):
            issue_checkpoint(store, aud, out / "c.txt")
    assert store_fingerprint(demo_home) == before
    assert list(out.iterdir()) == []

    result = generate_report(store, aud, MODEL, 2, None, output=out / "r.pdf")
    assert (out / "r.pdf").read_bytes() == result.pdf_bytes and result.event_seq is not None
    issue_checkpoint(store, aud, out / "c.txt")
    assert (out / "c.txt").read_text().startswith("signoff/")
    assert leftovers(out) == []


# ---- 10: time in the log never runs backwards; expiry reads the log's time ---------------------


def _times(home: Path) -> list[str]:
    con = duckdb.connect(str(home / "signoff.duckdb"), read_only=True)
    try:
        return [
            str(r[0]) for r in con.execute("SELECT ts FROM audit_events ORDER BY seq").fetchall()
        ]
    finally:
        con.close()


def _instants(times: list[str]) -> list[datetime]:
    return [datetime.fromisoformat(t) for t in times]


def test_item10_clock_set_back_cannot_approve_or_promote_an_expired_request(
    team: Team, tmp_path: Path, signoff: Runner
) -> None:
    register_versions(team, 1)
    use_policy(team, tmp_path)
    record_validation(team, "tumour", 1)
    team.store.clock = lambda: "2027-01-01T00:00:00.000000Z"
    view = request_promotion(team.store, team["dana"], "tumour", 1, "dev", "go")
    team.store.clock = lambda: "2027-03-01T00:00:00.000000Z"
    issue_checkpoint(team.store, team["aud"])  # the log now knows two months went by
    team.store.clock = lambda: "2027-01-01T01:00:00.000000Z"  # set back inside the window
    with pytest.raises(Refused, match="expired"):
        decide(team.store, team["rita"], view.id, "approve", "late")
    with pytest.raises(Refused, match="expired"):
        promote(team.store, team["rel"], view.id)
    assert get_request(team.store, view.id).status == "expired"

    # A request "created in the past" is created at the log's time, not the clock's.
    team.store.clock = lambda: "2000-01-01T00:00:00.000000Z"
    old = request_promotion(team.store, team["dana"], "tumour", 1, "dev", "again")
    assert old.expires_at > "2027-03-01"
    times = _times(team.home)
    assert _instants(times) == sorted(_instants(times))
    assert times[-1].startswith("2027-03-01")
    result = signoff("audit", "verify", "--home", team.home)
    assert result.exit_code == 0, result.output


def test_item10_verify_fails_on_an_event_whose_time_goes_backwards(
    team: Team, signoff: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_audit_export import _offline_verify

    size = len(_times(team.home))
    with monkeypatch.context() as patch:  # a writer that skips the clamp, as a forger would
        patch.setattr("console.auditing.log.event_time", lambda _s, proposed: proposed)
        with team.store.session() as session:
            append_event(session, team["ada"], "test.event", "x", {}, ts="2001-01-01T00:00:00Z")
    result = signoff("audit", "verify", "--home", team.home)
    assert result.exit_code == 1
    assert f"FAILED at sequence {size}: the time goes backwards" in result.output
    exported = signoff("audit", "export", tmp_path / "export", "--home", team.home)
    assert exported.exit_code == 0, exported.output
    offline = _offline_verify(tmp_path / "export")
    assert offline.returncode == 1 and "time goes backwards" in offline.stdout + offline.stderr

    # Through the service, the same old time is clamped and the log verifies after it.
    with team.store.session() as session:
        session.execute(sa_text("DELETE FROM audit_events WHERE seq = :s"), {"s": size})
    with team.store.session() as session:
        event = append_event(session, team["ada"], "test.event", "x", {}, ts="2001-01-01T00:00:00Z")
    assert event.ts == _times(team.home)[size - 1]
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0
