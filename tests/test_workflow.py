"""The approval workflow, end to end and under attack: every rule enforced in the services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.errors import BadInput, IntegrityError, Refused
from console.release.canary import canary_abort, canary_step
from console.release.decisions import decide
from console.release.deployments import promote, rollback
from console.release.history import history
from console.release.requests import get_request, request_promotion, withdraw
from tests.conftest import BACKENDS, Runner, Team, one_line_error, store_fingerprint
from tests.workflow_helpers import TEST_POLICY, record_validation, register_versions, use_policy


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The workflow runs on the DuckDB file and on a PostgreSQL team store."""
    return str(request.param)


@pytest.fixture
def flow(team: Team, tmp_path: Path) -> Team:
    register_versions(team, 3)
    use_policy(team, tmp_path)
    for version in (1, 2, 3):
        record_validation(team, "tumour", version)
    return team


def _to_dev(team: Team, version: int) -> None:
    view = request_promotion(team.store, team["dana"], "tumour", version, "dev", "first look")
    decide(team.store, team["rita"], view.id, "approve", "ok")
    promote(team.store, team["rel"], view.id)


def test_full_scenario_from_the_cli(flow: Team, signoff: Runner) -> None:
    home = flow.home
    run = lambda *a: signoff(*a, "--home", home)  # noqa: E731
    # dev, then staging with two approvals, then production with a canary
    for version in (1, 2):
        request = run(
            "request",
            f"tumour:{version}",
            "--to",
            "dev",
            "--comment",
            "try it",
            "--as",
            "dana",
            "--json",
        )
        rid = json.loads(request.output)["id"]
        assert run("approve", str(rid), "--comment", "fine", "--as", "rita").exit_code == 0
        assert run("promote", str(rid), "--as", "rel").exit_code == 0
        if version == 2:
            continue
        # v1 is the first version of staging and production: direct (a canary needs a champion)
        for stage, approvers in (("staging", ("rita", "raj")), ("production", ("rita", "rosa"))):
            first = run(
                "request",
                "tumour:1",
                "--to",
                stage,
                "--comment",
                "baseline",
                "--as",
                "dana",
                "--json",
            )
            assert json.loads(first.output)["canary_plan"] == []
            rid = json.loads(first.output)["id"]
            for name in approvers:
                assert run("approve", str(rid), "--comment", "ok", "--as", name).exit_code == 0
            assert "now holds" in run("promote", str(rid), "--as", "rel").output
    staged = run(
        "request", "tumour:2", "--to", "staging", "--comment", "better", "--as", "dana", "--json"
    )
    rid = json.loads(staged.output)["id"]
    assert run("approve", str(rid), "--comment", "metrics ok", "--as", "rita").exit_code == 0
    early = run("promote", str(rid), "--as", "rel")
    assert early.exit_code == 3 and "more approval" in early.output
    assert run("approve", str(rid), "--comment", "risk ok", "--as", "raj").exit_code == 0
    assert run("promote", str(rid), "--as", "rel").exit_code == 0
    prod = run(
        "request", "tumour:2", "--to", "production", "--comment", "ship", "--as", "dana", "--json"
    )
    rid = json.loads(prod.output)["id"]
    assert json.loads(prod.output)["canary_plan"] == [10, 50, 100]
    run("approve", str(rid), "--comment", "ok", "--as", "rita")
    run("approve", str(rid), "--comment", "ok", "--as", "rosa")
    started = run("promote", str(rid), "--as", "rel")
    assert started.exit_code == 0 and "canary at 10%" in started.output
    # no outcomes are logged here, so each step is an override of an inconclusive comparison
    step = ("canary", "step", "tumour", "--stage", "production", "--override", "test traffic")
    assert "50%" in run(*step, "--as", "rel").output
    done = run(*step, "--as", "rel")
    assert "now holds production" in done.output
    # a second version reaches production, then an incident rolls it back
    staged3 = run("request", "tumour:3", "--to", "dev", "--comment", "v3", "--as", "dana", "--json")
    rid3 = json.loads(staged3.output)["id"]
    run("approve", str(rid3), "--comment", "ok", "--as", "rita")
    run("promote", str(rid3), "--as", "rel")
    for stage in ("staging", "production"):
        opened = run(
            "request",
            "tumour:3",
            "--to",
            stage,
            "--canary",
            "100",
            "--comment",
            "v3",
            "--as",
            "dana",
            "--json",
        )
        rid3 = json.loads(opened.output)["id"]
        run("approve", str(rid3), "--comment", "ok", "--as", "rita")
        run("approve", str(rid3), "--comment", "ok", "--as", "raj")
        assert run("promote", str(rid3), "--as", "rel").exit_code == 0
    rolled = run(
        "rollback", "tumour", "--stage", "production", "--reason", "INC-1 drift", "--as", "rel"
    )
    assert rolled.exit_code == 0 and "to v2" in rolled.output
    shown = json.loads(run("show", "tumour", "--json").output)
    assert shown["stages"] == {"dev": 3, "staging": 3, "production": 2}
    hist = run("history", "tumour", "--stage", "production")
    assert "BREAK-GLASS" in hist.output and "ROLLBACK production to v2" in hist.output
    # history, the audit log and verification tell the same story
    events = json.loads(run("audit", "log", "--model", "tumour", "--limit", "500", "--json").output)
    actions = [e["action"] for e in events]
    assert actions.count("rollback.executed") == 1
    assert actions.count("canary.step") == 1 and actions.count("canary.completed") == 1
    entries = json.loads(run("history", "tumour", "--json").output)
    assert {e["seq"] for e in entries} <= {e["seq"] for e in events}
    assert run("audit", "verify").exit_code == 0


def test_self_approval_by_author_and_requester_is_refused(flow: Team, tmp_path: Path) -> None:
    # rel (release-manager) requests; dana authored. Give dana and rel reviewer-like power by policy.
    open_policy = TEST_POLICY.replace(
        'approver_roles = ["reviewer", "risk-officer"]\ngates = ["validation.passed"]\napproval_ttl_hours = 24',
        'approver_roles = ["reviewer", "risk-officer", "author", "release-manager"]\ngates = ["validation.passed"]\napproval_ttl_hours = 24',
    )
    use_policy(flow, tmp_path, open_policy)
    view = request_promotion(flow.store, flow["rel"], "tumour", 1, "dev", "go")
    before = store_fingerprint(flow.home)
    with pytest.raises(Refused, match="separation of duties"):
        decide(flow.store, flow["dana"], view.id, "approve", "mine")
    with pytest.raises(Refused, match="separation of duties"):
        decide(flow.store, flow["rel"], view.id, "approve", "mine")
    assert store_fingerprint(flow.home) == before


def test_same_person_twice_counts_once(flow: Team) -> None:
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    _to_dev(flow, 2)
    staged = request_promotion(flow.store, flow["dana"], "tumour", 2, "staging", "go")
    decide(flow.store, flow["rita"], staged.id, "approve", "ok")
    with pytest.raises(Refused, match="already decided"):
        decide(flow.store, flow["rita"], staged.id, "approve", "again")
    assert get_request(flow.store, staged.id).counted == ["rita"]
    with pytest.raises(Refused, match="more approval"):
        promote(flow.store, flow["rel"], staged.id)
    assert view.id != staged.id


def test_wrong_role_cannot_approve(flow: Team) -> None:
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    for name in ("aud", "rel", "ada"):
        with pytest.raises(Refused, match="approvals need the role"):
            decide(flow.store, flow[name], view.id, "approve", "ok")


def test_approval_after_evidence_changed_is_refused_and_earlier_ones_void(flow: Team) -> None:
    _to_dev(flow, 1)
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "staging", "go")
    decide(flow.store, flow["rita"], view.id, "approve", "ok")
    record_validation(flow, "tumour", 1)  # a new run: new report digest
    with pytest.raises(Refused, match="evidence"):
        decide(flow.store, flow["raj"], view.id, "approve", "ok")
    current = get_request(flow.store, view.id)
    assert current.evidence_changed and any("evidence changed" in n for n in current.needed)
    with pytest.raises(Refused, match="evidence"):
        promote(flow.store, flow["rel"], view.id)


def test_policy_change_voids_approvals(flow: Team, tmp_path: Path) -> None:
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    decide(flow.store, flow["rita"], view.id, "approve", "ok")
    use_policy(
        flow, tmp_path, TEST_POLICY.replace("approval_ttl_hours = 24", "approval_ttl_hours = 25")
    )
    with pytest.raises(Refused, match="evidence"):
        promote(flow.store, flow["rel"], view.id)


def test_approval_after_expiry_is_refused(flow: Team) -> None:
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    flow.store.clock = lambda: "2999-01-01T00:00:00.000000Z"
    with pytest.raises(Refused, match="expired"):
        decide(flow.store, flow["rita"], view.id, "approve", "late")
    assert get_request(flow.store, view.id).status == "expired"


def test_revoked_user_cannot_approve_and_their_approval_stops_counting(flow: Team) -> None:
    from console.identity.users import revoke_user

    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    decide(flow.store, flow["rita"], view.id, "approve", "ok")
    revoke_user(flow.store, flow["ada"], "rita")
    assert get_request(flow.store, view.id).counted == []
    with pytest.raises(Refused, match="revoked"):
        decide(flow.store, flow["rita"], view.id, "approve", "again")
    with pytest.raises(Refused):
        promote(flow.store, flow["rel"], view.id)


def test_failing_gate_blocks_promotion_but_request_opens(flow: Team) -> None:
    record_validation(flow, "tumour", 1, passed=False)
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    assert not view.gates[0].passed
    decide(flow.store, flow["rita"], view.id, "approve", "ok")
    with pytest.raises(Refused, match=r"validation\.passed"):
        promote(flow.store, flow["rel"], view.id)


def test_champion_gate(flow: Team) -> None:
    _to_dev(flow, 1)
    record_validation(flow, "tumour", 1, champion="fail")
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "staging", "go")
    assert [g.passed for g in view.gates] == [True, False]


def test_skipping_a_stage_is_refused_when_requested(flow: Team) -> None:
    before = store_fingerprint(flow.home)
    with pytest.raises(Refused, match="must hold dev"):
        request_promotion(flow.store, flow["dana"], "tumour", 1, "staging", "skip")
    assert store_fingerprint(flow.home) == before


def test_a_stage_marked_may_skip_can_be_skipped(flow: Team, tmp_path: Path) -> None:
    use_policy(
        flow,
        tmp_path,
        TEST_POLICY.replace("approval_ttl_hours = 24", "approval_ttl_hours = 24\nmay_skip = true"),
    )
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "staging", "skip dev")
    assert view.status == "open"


def test_rollback_rules(flow: Team) -> None:
    with pytest.raises(BadInput, match="holds no version"):
        rollback(flow.store, flow["rel"], "tumour", "dev", "x")
    _to_dev(flow, 1)
    with pytest.raises(Refused, match="no earlier version"):
        rollback(flow.store, flow["rel"], "tumour", "dev", "x")
    _to_dev(flow, 2)
    with pytest.raises(Refused, match="never held"):
        rollback(flow.store, flow["rel"], "tumour", "dev", "x", to_version=3)
    with pytest.raises(Refused, match="role"):
        rollback(flow.store, flow["rita"], "tumour", "dev", "x")
    change = rollback(flow.store, flow["rel"], "tumour", "dev", "bad", to_version=1)
    assert change.version == 1 and change.replaced == 2


def test_rollback_refuses_a_target_whose_artifact_fails(flow: Team) -> None:
    import os

    from console.registry.views import get_version
    from console.store.artifacts import ArtifactStore

    _to_dev(flow, 1)
    _to_dev(flow, 2)
    digest = get_version(flow.store, "tumour", 1).artifact_sha256
    path = ArtifactStore(flow.store.artifacts_dir).path_for(digest)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")
    with pytest.raises(IntegrityError):
        rollback(flow.store, flow["rel"], "tumour", "dev", "incident")


def test_withdraw_and_reject(flow: Team) -> None:
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    with pytest.raises(Refused, match="only dana"):
        withdraw(flow.store, flow["rel"], view.id)
    assert withdraw(flow.store, flow["dana"], view.id).status == "withdrawn"
    again = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go again")
    assert decide(flow.store, flow["raj"], again.id, "reject", "no").status == "rejected"
    with pytest.raises(Refused, match="rejected"):
        decide(flow.store, flow["rita"], again.id, "approve", "ok")


def _serving(team: Team, version: int, *stages: str, canary: int | None = None) -> int:
    """Request, approve (rita and raj) and promote the version through each stage in turn."""
    request = 0
    for stage in stages:
        view = request_promotion(team.store, team["dana"], "tumour", version, stage, "go", canary)
        for name in ("rita", "raj")[: view.required]:
            decide(team.store, team[name], view.id, "approve", "ok")
        promote(team.store, team["rel"], view.id)
        request = view.id
    return request


def test_canary_abort_returns_to_champion(flow: Team) -> None:
    _serving(flow, 1, "dev", "staging", "production")
    _serving(flow, 2, "dev", "staging")
    prod = request_promotion(flow.store, flow["dana"], "tumour", 2, "production", "go", canary=20)
    assert prod.canary_plan == [20, 50, 100]
    decide(flow.store, flow["rita"], prod.id, "approve", "ok")
    decide(flow.store, flow["raj"], prod.id, "approve", "ok")
    started = promote(flow.store, flow["rel"], prod.id)
    assert started.kind == "canary.started" and started.canary_share == 20
    with pytest.raises(Refused, match="canary"):
        promote(flow.store, flow["rel"], prod.id)
    canary_abort(flow.store, flow["rel"], "tumour", "production", "errors up")
    with pytest.raises(BadInput, match="no canary"):
        canary_step(flow.store, flow["rel"], "tumour", "production")
    kinds = [e.what for e in history(flow.store, "tumour", "production").entries]
    assert kinds[-2:] == ["canary.started", "canary.aborted"]
    assert get_request(flow.store, prod.id).status == "aborted"


def test_a_first_deployment_is_direct_and_a_canary_needs_a_champion(
    flow: Team,
    signoff: Runner,
    unchanged,  # type: ignore[no-untyped-def]
) -> None:
    _serving(flow, 1, "dev", "staging")
    check = unchanged(flow.home)
    asked = signoff(
        "request", "tumour:1", "--to", "production", "--canary", "10", "--comment", "go",
        "--as", "dana", "--home", flow.home,
    )  # fmt: skip
    assert "production of tumour holds no version: a canary needs a champion" in one_line_error(
        asked, code=3
    )
    check()
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "production", "first")
    assert view.canary_plan == []  # the policy's 10/50/100 needs a champion: direct
    decide(flow.store, flow["rita"], view.id, "approve", "ok")
    decide(flow.store, flow["raj"], view.id, "approve", "ok")
    change = promote(flow.store, flow["rel"], view.id)
    assert (change.kind, change.version, change.replaced) == ("promotion", 1, None)


def test_a_canary_onto_an_empty_stage_cannot_start(
    flow: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request an older signoff opened with a canary onto an empty stage is refused at promote."""
    from console.release import requests

    _serving(flow, 1, "dev")
    monkeypatch.setattr(requests, "_first_deployment", lambda _s, _m, _st, plan, asked: plan)
    old = request_promotion(flow.store, flow["dana"], "tumour", 1, "staging", "old", canary=50)
    assert old.canary_plan == [50, 100]
    decide(flow.store, flow["rita"], old.id, "approve", "ok")
    decide(flow.store, flow["raj"], old.id, "approve", "ok")
    with pytest.raises(Refused, match="staging of tumour holds no version"):
        promote(flow.store, flow["rel"], old.id)
    assert get_request(flow.store, old.id).status == "open"


def test_a_canary_step_rechecks_the_requests_evidence(
    flow: Team,
    signoff: Runner,
    tmp_path: Path,
    unchanged,  # type: ignore[no-untyped-def]
) -> None:
    _serving(flow, 1, "dev", "staging", "production")
    _serving(flow, 2, "dev", "staging")
    request = _serving(flow, 2, "production")
    assert get_request(flow.store, request).status == "canary"
    home = ("--home", flow.home)
    step = ("canary", "step", "tumour", "--stage", "production", "--as", "rel", *home)
    # No outcomes logged: inconclusive, so a step needs an override reason.
    assert "inconclusive" in one_line_error(signoff(*step), code=3)
    assert "--override" in one_line_error(signoff(*step), code=3)
    one_line_error(signoff(*step, "--override", "  "), code=2)
    assert signoff(*step, "--override", "CAB-7 approved the ramp").exit_code == 0
    # A new (failing) validation run voids the approvals: the next step is refused.
    run = record_validation(flow, "tumour", 2, passed=False)
    check = unchanged(flow.home)
    line = one_line_error(signoff(*step, "--override", "anyway"), code=3)
    assert f"approvals of request {request} are void" in line
    assert f"validation run {run} (fail)" in line and "canary abort" in line
    with pytest.raises(Refused, match="void"):
        canary_step(flow.store, flow["rel"], "tumour", "production", "anyway")
    check()
    # Aborting stays possible, and a new request can follow.
    canary_abort(flow.store, flow["rel"], "tumour", "production", "evidence changed")
    assert get_request(flow.store, request).status == "aborted"


def test_a_policy_change_voids_a_running_canary(flow: Team, tmp_path: Path) -> None:
    from console.release.policy import set_policy

    _serving(flow, 1, "dev", "staging", "production")
    _serving(flow, 2, "dev", "staging")
    _serving(flow, 2, "production")
    stricter = TEST_POLICY.replace("approval_ttl_hours = 24", "approval_ttl_hours = 12")
    set_policy(flow.store, flow["ada"], stricter, "stricter.toml")
    with pytest.raises(Refused, match="the policy changed"):
        canary_step(flow.store, flow["rel"], "tumour", "production", "ramp")


def test_cli_bad_inputs_are_one_line(flow: Team, signoff: Runner, unchanged) -> None:  # type: ignore[no-untyped-def]
    check = unchanged(flow.home)
    home = ["--home", str(flow.home)]
    cases = [
        (["request", "tumour", "--to", "dev", "--comment", "x", "--as", "dana"], 2),
        (["request", "tumour:9", "--to", "dev", "--comment", "x", "--as", "dana"], 2),
        (["request", "tumour:1", "--to", "qa", "--comment", "x", "--as", "dana"], 2),
        (["request", "tumour:1", "--to", "dev", "--comment", " ", "--as", "dana"], 2),
        (
            [
                "request",
                "tumour:1",
                "--to",
                "dev",
                "--canary",
                "0",
                "--comment",
                "x",
                "--as",
                "dana",
            ],
            2,
        ),
        (["request", "tumour:1", "--to", "dev", "--comment", "x", "--as", "rita"], 3),
        (["approve", "abc", "--comment", "x", "--as", "rita"], 2),
        (["approve", "99", "--comment", "x", "--as", "rita"], 2),
        (["promote", "99", "--as", "rel"], 2),
        (["canary", "step", "tumour", "--stage", "dev", "--as", "rel"], 2),
        (["rollback", "ghost", "--stage", "dev", "--reason", "x", "--as", "rel"], 2),
        (["history", "ghost"], 2),
        (["show-request", "99"], 2),
    ]
    for args, code in cases:
        one_line_error(signoff(*args, *home), code=code)
    check()


def test_policy_set_is_admin_only_strict_and_audited(
    flow: Team, signoff: Runner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TEST_POLICY + "\n[stage.dev.extra]\n")
    line = one_line_error(signoff("policy", "set", bad, "--home", flow.home, "--as", "ada"))
    assert "line" in line
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        TEST_POLICY.replace("approval_ttl_hours = 24", "approval_ttl_hours = 24\nquorum = 3")
    )
    line = one_line_error(signoff("policy", "set", unknown, "--home", flow.home, "--as", "ada"))
    assert "unknown key 'quorum'" in line and "line 10" in line
    good = tmp_path / "good.toml"
    good.write_text(TEST_POLICY.replace("approval_ttl_hours = 24", "approval_ttl_hours = 48"))
    assert signoff("policy", "set", good, "--home", flow.home, "--as", "rita").exit_code == 3
    assert signoff("policy", "set", good, "--home", flow.home, "--as", "ada").exit_code == 0
    shown = signoff("policy", "show", "--home", flow.home)
    assert "approval_ttl_hours = 48" in shown.output
    log = signoff("audit", "log", "--home", flow.home, "--action", "policy.", "--json")
    assert json.loads(log.output)[0]["action"] == "policy.changed"


def test_policy_edited_in_the_store_by_hand_is_refused(flow: Team, signoff: Runner) -> None:
    # The policy lives in the store (schema v4): the attack is an UPDATE beside `policy set`.
    from sqlalchemy import text

    with flow.store.session() as session:
        session.connection().execute(
            text("UPDATE policies SET text = replace(text, 'approvals = 2', 'approvals = 0')")
        )
    result = signoff(
        "request", "tumour:1", "--to", "dev", "--comment", "x", "--as", "dana", "--home", flow.home
    )
    line = one_line_error(result, code=1)
    assert "changed outside" in line


def test_requests_listing_and_awaiting(flow: Team, signoff: Runner) -> None:
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    awaiting = json.loads(
        signoff("requests", "--awaiting-me", "--as", "rita", "--home", flow.home, "--json").output
    )
    assert [r["id"] for r in awaiting] == [view.id]
    assert (
        json.loads(
            signoff(
                "requests", "--awaiting-me", "--as", "dana", "--home", flow.home, "--json"
            ).output
        )
        == []
    )
    mine = json.loads(
        signoff("requests", "--mine", "--as", "dana", "--home", flow.home, "--json").output
    )
    assert len(mine) == 1
    shown = signoff("show-request", str(view.id), "--home", flow.home)
    assert "still needed" in shown.output and "1 more approval" in shown.output


def test_stage_pages_cover_every_held_stage_once(demo_home: Path) -> None:
    from console.release.status import stage_page, stage_status
    from console.store.db import Store

    store = Store(demo_home)
    everything = {(s.model, s.stage, s.version) for s in stage_status(store)}
    seen: list[tuple[str, str, int | None]] = []
    page = stage_page(store, limit=1)
    pages = [page]
    while page.has_after:
        page = stage_page(store, after=page.models[-1], limit=1)
        pages.append(page)
    for page in pages:
        seen += [(s.model, s.stage, s.version) for s in page.statuses]
    assert len(pages) == page.total == 3 and [p.offset for p in pages] == [0, 1, 2]
    assert sorted(seen) == sorted(everything)  # every stage once, none twice
    back = stage_page(store, before=pages[-1].models[0], limit=1)
    assert back.models == pages[1].models
    credit = stage_page(store, match=" CREDIT ")
    assert credit.models == ["credit-risk"] and credit.total == 1
    assert {s.stage for s in credit.statuses} == {"dev", "staging", "production"}
    assert stage_page(store, match="nothing").statuses == []


def test_the_log_filters_by_a_set_of_actions_however_old(demo_home: Path) -> None:
    from console.auditing.trail import list_events
    from console.store.db import Store

    store = Store(demo_home)
    wanted = ("promotion.executed", "rollback.executed")
    events = list_events(store, actions=wanted, limit=500)
    everything = [e for e in list_events(store, limit=500) if e.action in wanted]
    assert events == everything and events  # the same, found by the query
    assert [e.seq for e in events] == sorted((e.seq for e in events), reverse=True)
    assert "rollback.executed" in {e.action for e in events}
    assert list_events(store, actions=wanted, limit=1) == events[:1]
