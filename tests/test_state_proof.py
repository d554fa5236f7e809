"""Issue 13: state proven by the log. Each derived table is edited with SQL behind signoff's back;
`audit verify` names the table, key and field, and the command acting on it refuses (exit 1)
without changing the store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from console.errors import StateForged
from console.identity.users import revoke_user
from console.monitoring.record import record_windows
from console.monitoring.windows import Crossing, WindowResult
from console.registry.cards import set_card_fields
from console.release.decisions import decide
from console.release.deployments import promote
from console.release.requests import request_promotion, withdraw
from console.store.db import Store
from tests.conftest import Runner, Team, make_team, store_fingerprint
from tests.workflow_helpers import record_validation, register_versions, use_policy

MODEL = "tumour"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """v2 holds dev (it replaced v1), a canary of v2 runs at 10% in staging over v1 (its first,
    direct deployment), v3 is validated."""
    base = tmp_path_factory.mktemp("served")
    team = make_team(base / "home", base / "keys")
    register_versions(team, 3)
    use_policy(team, base)
    for version in (1, 2, 3):
        record_validation(team, MODEL, version)
    for version, stages in ((1, ("dev", "staging")), (2, ("dev",))):
        for stage in stages:
            view = request_promotion(team.store, team["dana"], MODEL, version, stage, "look")
            for name in ("rita", "raj")[: view.required]:
                decide(team.store, team[name], view.id, "approve", "ok")
            promote(team.store, team["rel"], view.id)
    view = request_promotion(team.store, team["dana"], MODEL, 2, "staging", "go", canary=10)
    decide(team.store, team["rita"], view.id, "approve", "ok")
    decide(team.store, team["raj"], view.id, "approve", "ok")
    promote(team.store, team["rel"], view.id)
    set_card_fields(team.store, team["dana"], MODEL, 2, {"license": "MIT"})
    team.store.dispose()
    return team


@pytest.fixture
def served(template: Team, tmp_path: Path, isolated_env: Path) -> Team:
    """A fresh copy of the template store, its keys where this test's CLI looks for them."""
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    shutil.copytree(template.keys, isolated_env, dirs_exist_ok=True)
    return Team(Store(home), home, isolated_env, template.signers)


def sql(team: Team, statement: str, *params: object) -> None:
    team.store.dispose()
    con = duckdb.connect(str(team.home / "signoff.duckdb"))
    try:
        con.execute(statement, list(params))
    finally:
        con.close()


def scalar(team: Team, query: str) -> object:
    team.store.dispose()
    con = duckdb.connect(str(team.home / "signoff.duckdb"), read_only=True)
    try:
        row = con.execute(query).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def verify_names(signoff: Runner, team: Team, table: str, key: str, field: str) -> None:
    """One line naming the first difference; --json lists every one, this one among them."""
    result = signoff("audit", "verify", "--home", team.home)
    assert result.exit_code == 1, result.output
    assert "FAILED: the store differs from its log: table " in result.output, result.output
    listed = signoff("audit", "verify", "--home", team.home, "--json")
    assert listed.exit_code == 1
    found = [(d["table"], d["key"], d["field"]) for d in json.loads(listed.output)["differences"]]
    assert (table, key, field) in found, found


def refused(signoff: Runner, team: Team, *args: object) -> str:
    """The command exits 1 naming the forgery, and the store is exactly as it was."""
    team.store.dispose()
    before = store_fingerprint(team.home)
    result = signoff(*args, "--home", team.home)
    assert result.exit_code == 1, result.output
    assert "differs from its signed log" in result.output, result.output
    team.store.dispose()
    assert store_fingerprint(team.home) == before
    return result.output


def test_an_untouched_store_matches_its_log(served: Team, signoff: Runner) -> None:
    result = signoff("audit", "verify", "--home", served.home, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["differences"] == []


def test_a_forged_stage_holder(served: Team, signoff: Runner, tmp_path: Path) -> None:
    sql(served, f"UPDATE stages SET version = 3 WHERE model = '{MODEL}' AND stage = 'dev'")
    verify_names(signoff, served, "stages", f"{MODEL}/dev", "version")
    out = refused(signoff, served, "package", f"{MODEL}:3", "-o", tmp_path / "p.tgz", "--as", "rel")
    assert "table stages, key tumour/dev, field version" in out
    assert not (tmp_path / "p.tgz").exists()
    refused(signoff, served, "rollback", MODEL, "--stage", "dev", "--reason", "x", "--as", "rel")


def test_a_forged_override_of_a_canary_step(served: Team, signoff: Runner) -> None:
    from console.release.canary import canary_step

    # No outcomes are logged: the comparison is inconclusive, so the step is an override.
    step = canary_step(served.store, served["rel"], MODEL, "staging", "CAB-7 ramp")
    assert step.override and step.kind == "canary.completed"  # staging: 10% then 100%
    sql(served, f"UPDATE deployments SET break_glass = false WHERE event_seq = {step.event_seq}")
    verify_names(signoff, served, "deployments", str(step.event_seq), "break_glass")
    refused(signoff, served, "canary", "step", MODEL, "--stage", "staging", "--as", "rel")


def test_a_forged_canary_share(served: Team, signoff: Runner) -> None:
    sql(
        served, f"UPDATE stages SET canary_share = 90 WHERE model = '{MODEL}' AND stage = 'staging'"
    )
    verify_names(signoff, served, "stages", f"{MODEL}/staging", "canary_share")
    refused(signoff, served, "canary", "step", MODEL, "--stage", "staging", "--as", "rel")
    refused(
        signoff,
        served,
        "canary",
        "abort",
        MODEL,
        "--stage",
        "staging",
        "--reason",
        "x",
        "--as",
        "rel",
    )


def test_a_deleted_deployment_hides_a_previous_holder(served: Team, signoff: Runner) -> None:
    seq = scalar(served, "SELECT min(event_seq) FROM deployments")
    sql(served, "DELETE FROM deployments WHERE event_seq = ?", seq)
    verify_names(signoff, served, "deployments", str(seq), "*")
    refused(signoff, served, "rollback", MODEL, "--stage", "dev", "--reason", "x", "--as", "rel")


def test_a_forged_request_status(served: Team, signoff: Runner) -> None:
    view = request_promotion(served.store, served["dana"], MODEL, 3, "dev", "v3")
    decide(served.store, served["rita"], view.id, "approve", "ok")
    withdraw(served.store, served["dana"], view.id, "not yet")
    sql(
        served,
        f"UPDATE promotion_requests SET status = 'open', closed_at = NULL WHERE id = {view.id}",
    )
    verify_names(signoff, served, "promotion_requests", str(view.id), "status")
    refused(signoff, served, "approve", str(view.id), "--comment", "ok", "--as", "rosa")
    refused(signoff, served, "promote", str(view.id), "--as", "rel")


def test_a_forged_decision(served: Team, signoff: Runner) -> None:
    view = request_promotion(served.store, served["dana"], MODEL, 3, "dev", "v3")
    decide(served.store, served["rita"], view.id, "reject", "no")
    sql(served, f"UPDATE approvals SET decision = 'approve' WHERE request_id = {view.id}")
    sql(served, f"UPDATE promotion_requests SET status = 'open' WHERE id = {view.id}")
    seq = scalar(served, f"SELECT event_seq FROM approvals WHERE request_id = {view.id}")
    verify_names(signoff, served, "approvals", str(seq), "decision")
    refused(signoff, served, "promote", str(view.id), "--as", "rel")


def test_an_inserted_approval_whose_signature_does_not_verify(
    served: Team, signoff: Runner
) -> None:
    view = request_promotion(served.store, served["dana"], MODEL, 3, "dev", "v3")
    statement = json.dumps({"request": view.id, "decision": "approve", "approver": "rosa"})
    key = scalar(served, "SELECT keyid FROM user_keys WHERE \"user\" = 'rosa'")
    sql(
        served,
        "INSERT INTO approvals VALUES ((SELECT max(id) + 1 FROM approvals), ?, 'rosa', "
        "'reviewer', 'approve', 'ok', ?, '2026-01-01T00:00:00.000000Z', ?, ?, ?, false, '', ?)",
        view.id,
        view.evidence_digest,
        key,
        statement.encode(),
        bytes(64),
        scalar(served, "SELECT max(seq) FROM audit_events"),  # the request's own event
    )
    result = signoff("audit", "verify", "--home", served.home)
    assert result.exit_code == 1 and "table approvals" in result.output, result.output
    assert "the log never created this row" in result.output
    refused(signoff, served, "promote", str(view.id), "--as", "rel")


def test_a_forged_role_cannot_approve(served: Team, signoff: Runner) -> None:
    view = request_promotion(served.store, served["dana"], MODEL, 3, "dev", "v3")
    sql(served, "UPDATE users SET role = 'reviewer' WHERE name = 'aud'")
    verify_names(signoff, served, "users", "aud", "role")
    out = refused(signoff, served, "approve", str(view.id), "--comment", "ok", "--as", "aud")
    assert "user 'aud'" in out


def test_an_author_made_admin_cannot_revoke(served: Team, signoff: Runner) -> None:
    sql(served, "UPDATE users SET role = 'admin' WHERE name = 'dana'")
    verify_names(signoff, served, "users", "dana", "role")
    refused(signoff, served, "users", "revoke", "rita", "--as", "dana")


def test_a_revocation_undone_in_the_table(served: Team, signoff: Runner) -> None:
    view = request_promotion(served.store, served["dana"], MODEL, 3, "dev", "v3")
    revoke_user(served.store, served["ada"], "rosa")
    sql(served, "UPDATE users SET active = true, revoked_seq = NULL WHERE name = 'rosa'")
    sql(served, "UPDATE user_keys SET revoked_at_seq = NULL WHERE \"user\" = 'rosa'")
    verify_names(signoff, served, "users", "rosa", "active")
    refused(signoff, served, "approve", str(view.id), "--comment", "ok", "--as", "rosa")


def test_forged_training_metrics(served: Team, signoff: Runner, tmp_path: Path) -> None:
    """The training metrics a card, a report and a review show are the ones the log signed."""
    sql(
        served,
        f"UPDATE model_versions SET metrics = '{{\"accuracy\":0.999}}' "
        f"WHERE model = '{MODEL}' AND number = 3",
    )
    verify_names(signoff, served, "model_versions", f"{MODEL}/3", "metrics")
    refused(signoff, served, "package", f"{MODEL}:3", "-o", tmp_path / "p.tgz", "--as", "rel")


def test_a_failed_validation_marked_passed(served: Team, signoff: Runner, tmp_path: Path) -> None:
    run = record_validation(served, MODEL, 3, passed=False)
    sql(served, f"UPDATE validation_runs SET status = 'pass', passed = true WHERE id = {run}")
    verify_names(signoff, served, "validation_runs", str(run), "status")
    refused(signoff, served, "package", f"{MODEL}:3", "-o", tmp_path / "p.tgz", "--as", "rel")


def test_a_failed_check_marked_passed(served: Team, signoff: Runner, tmp_path: Path) -> None:
    run = record_validation(served, MODEL, 3, passed=False)
    sql(
        served,
        f"UPDATE validation_checks SET status = 'pass' WHERE run_id = {run} "
        "AND name = 'performance.accuracy'",
    )
    verify_names(signoff, served, "validation_checks", f"{run}/performance.accuracy", "status")
    refused(signoff, served, "package", f"{MODEL}:3", "-o", tmp_path / "p.tgz", "--as", "rel")


def test_a_forged_card_field(served: Team, signoff: Runner, tmp_path: Path) -> None:
    sql(
        served,
        f"UPDATE card_fields SET value = 'GPL' WHERE model = '{MODEL}' AND field = 'license'",
    )
    verify_names(signoff, served, "card_fields", f"{MODEL}/2/license", "value")
    refused(signoff, served, "card", "edit", f"{MODEL}:2", "--set", "contact=x", "--as", "dana")
    refused(signoff, served, "package", f"{MODEL}:2", "-o", tmp_path / "p.tgz", "--as", "rel")


def _alert(team: Team) -> int:
    window = WindowResult(
        "drift",
        MODEL,
        2,
        "2026-01-05T00:00:00Z",
        "2026-01-12T00:00:00Z",
        500,
        "alert",
        {"psi": {"radius": 0.4}},
        [Crossing("drift.psi", "radius", 0.4, 0.2, {"bins": 10})],
        "b" * 64,
    )
    recorded = record_windows(team.store, team["raj"], MODEL, "drift", "7d", "p" * 64, [window])
    team.store.dispose()
    return recorded.alerts[0].id


def test_a_forged_alert_state(served: Team, signoff: Runner) -> None:
    alert = _alert(served)
    sql(served, f"UPDATE monitoring_alerts SET status = 'resolved' WHERE id = {alert}")
    verify_names(signoff, served, "monitoring_alerts", str(alert), "status")
    refused(signoff, served, "monitor", "resolve", str(alert), "--reason", "x", "--as", "raj")


def test_services_raise_state_forged(served: Team) -> None:
    sql(served, f"UPDATE stages SET version = 1 WHERE model = '{MODEL}' AND stage = 'dev'")
    with pytest.raises(StateForged, match="table stages, key tumour/dev, field version"):
        set_card_fields(served.store, served["dana"], MODEL, 2, {"contact": "x"})


def test_a_log_cut_below_the_stores_own_checkpoint(served: Team, signoff: Runner) -> None:
    issued = signoff("audit", "checkpoint", "--home", served.home, "--as", "aud")
    assert issued.exit_code == 0
    size = scalar(served, "SELECT count(*) FROM audit_events")
    assert isinstance(size, int)
    # Cut the checkpoint's event and the card edit before it, and the card row with it.
    sql(served, "DELETE FROM audit_events WHERE seq >= ?", size - 2)
    sql(served, "DELETE FROM card_fields")
    result = signoff("audit", "verify", "--home", served.home)
    assert result.exit_code == 1
    assert f"FAILED at sequence {size - 2}" in result.output and "truncated" in result.output


def test_a_report_refuses_a_forged_row_at_any_log_size(
    served: Team, signoff: Runner, tmp_path: Path
) -> None:
    """The report proves the model's rows from the events it has just verified (and checks the
    events after --as-of itself): a forged stage holder is refused either way, no file written."""
    sql(served, f"UPDATE stages SET version = 3 WHERE model = '{MODEL}' AND stage = 'dev'")
    target = tmp_path / "r.pdf"
    out = refused(signoff, served, "report", f"{MODEL}:2", "-o", target, "--as", "aud")
    assert "table stages, key tumour/dev, field version" in out
    refused(signoff, served, "report", f"{MODEL}:2", "--as-of", "6", "-o", target, "--as", "aud")
    assert not target.exists()


def test_a_report_refuses_a_forged_event_after_its_as_of(
    served: Team, signoff: Runner, tmp_path: Path
) -> None:
    """Events after --as-of are outside the verified prefix; their signatures are still checked
    before the model's rows are trusted."""
    last = scalar(served, f"SELECT max(seq) FROM audit_events WHERE model = '{MODEL}'")
    sql(served, f"UPDATE audit_events SET signature = repeat('\\x00', 64)::BLOB WHERE seq = {last}")
    served.store.dispose()
    result = signoff(
        "report",
        f"{MODEL}:2",
        "--as-of",
        "6",
        "-o",
        tmp_path / "r.pdf",
        "--home",
        served.home,
        "--as",
        "aud",
    )
    assert result.exit_code == 1, result.output
    assert f"event {last} " in result.output and "signature does not verify" in result.output
    assert not (tmp_path / "r.pdf").exists()
