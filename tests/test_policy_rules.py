"""A bank's policy: per-role quorums, risk tiers, independent validation, the validator, explain."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from console.errors import BadInput
from console.release.decisions import decide
from console.release.policy import parse_policy
from console.release.requests import get_request, request_promotion
from tests.conftest import BACKENDS, Runner, Team, one_line_error
from tests.workflow_helpers import record_validation, register_versions, use_policy

BANK_POLICY = """
version = 1
stages = ["staging", "production"]
tiers = ["low", "medium", "high"]

[stage.staging]
approvals = 1
approver_roles = ["reviewer", "risk-officer"]
gates = ["validation.passed"]
may_skip = true

[stage.production]
approvals = 2
approver_roles = ["reviewer", "risk-officer"]
gates = ["validation.passed"]
approval_ttl_hours = 72

# High-risk models need one reviewer and one risk officer, independent validation, a canary.
[tier.high.stage.production]
approvals = { reviewer = 1, risk-officer = 1 }
independent_validation = true
canary_steps = [10, 100]
"""


@pytest.fixture
def bank(team: Team, tmp_path: Path) -> Team:
    register_versions(team, 2)
    use_policy(team, tmp_path, BANK_POLICY)
    return team


def _set_tier(team: Team, signoff: Runner, tier: str = "high", who: str = "raj") -> Result:
    return signoff(
        "model", "set-tier", "tumour", tier, "--reason", "limits", "--as", who, "--home", team.home
    )


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_high_tier_needs_one_reviewer_and_one_risk_officer(
    bank: Team, signoff: Runner, unchanged: Callable[[Path], Callable[[], None]]
) -> None:
    assert _set_tier(bank, signoff).exit_code == 0
    record_validation(bank, "tumour", 1, actor="rita")
    view = request_promotion(bank.store, bank["dana"], "tumour", 1, "production", "ship")
    assert view.tier == "high" and view.quorum == "1 reviewer and 1 risk-officer"
    decide(bank.store, bank["rita"], view.id, "approve", "metrics ok")
    decide(bank.store, bank["rosa"], view.id, "approve", "me too")
    # Two reviewers would meet the stage's "2 of reviewer or risk-officer", not the tier's rule.
    shown = signoff("show-request", str(view.id), "--home", bank.home)
    assert "missing      1 more approval(s) from risk-officer" in shown.output
    assert "quorum: 1 reviewer and 1 risk-officer, risk tier high" in shown.output
    check = unchanged(bank.home)
    refused = signoff("promote", str(view.id), "--as", "rel", "--home", bank.home)
    assert "1 more approval(s) from risk-officer" in one_line_error(refused, code=3)
    check()
    decide(bank.store, bank["raj"], view.id, "approve", "risk ok")
    ready = get_request(bank.store, view.id)
    assert ready.ready and sorted(ready.counted) == ["raj", "rita", "rosa"]
    # Production holds no version: the first deployment is direct, whatever the tier's canary
    # (its [10, 100] applies once a champion serves; `policy explain` shows it below).
    assert ready.canary_plan == []
    assert signoff("promote", str(view.id), "--as", "rel", "--home", bank.home).exit_code == 0
    assert signoff("audit", "verify", "--home", bank.home).exit_code == 0


def test_a_medium_model_keeps_the_stage_rules(bank: Team) -> None:
    record_validation(bank, "tumour", 1, actor="dana")  # the author's own run counts here
    view = request_promotion(bank.store, bank["dana"], "tumour", 1, "production", "ship")
    assert view.quorum == "2 of reviewer or risk-officer" and view.canary_plan == []
    decide(bank.store, bank["rita"], view.id, "approve", "ok")
    decide(bank.store, bank["rosa"], view.id, "approve", "ok")
    assert get_request(bank.store, view.id).ready


def test_independent_validation_counts_only_runs_by_others(bank: Team, signoff: Runner) -> None:
    _set_tier(bank, signoff)
    record_validation(bank, "tumour", 1, actor="dana")
    own = request_promotion(bank.store, bank["dana"], "tumour", 1, "production", "mine")
    gate = own.gates[0]
    assert not gate.passed
    assert "someone other than the version's author" in gate.detail
    assert "by dana does not count" in gate.detail and "independent validation" in gate.detail
    signoff("withdraw", str(own.id), "--as", "dana", "--home", bank.home)
    # An independent run counts; the author's newer run is set aside, and the gate says so.
    first = record_validation(bank, "tumour", 1, actor="rita")
    newer = record_validation(bank, "tumour", 1, actor="dana", passed=False)
    view = request_promotion(bank.store, bank["dana"], "tumour", 1, "production", "ship")
    gate = view.gates[0]
    assert gate.passed and f"run {first} passed" in gate.detail
    assert f"run {newer} by dana does not count" in gate.detail
    # The same version at medium risk: the newest run (the author's, failed) is the evidence.
    _set_tier(bank, signoff, "medium")
    assert not get_request(bank.store, view.id).gates[0].passed


def test_tier_change_needs_the_set_tier_role(
    bank: Team, signoff: Runner, unchanged: Callable[[Path], Callable[[], None]]
) -> None:
    check = unchanged(bank.home)
    for who in ("dana", "rita", "rel", "aud"):
        line = one_line_error(_set_tier(bank, signoff, who=who), code=3)
        assert "needs the role risk-officer or admin" in line
    bad = _set_tier(bank, signoff, "critical")
    assert "unknown risk tier 'critical'" in one_line_error(bad)
    blank = signoff(
        "model", "set-tier", "tumour", "high", "--reason", " ", "--as", "raj", "--home", bank.home
    )
    assert "--reason" in one_line_error(blank)
    missing = signoff(
        "model", "set-tier", "nope", "high", "--reason", "x", "--as", "raj", "--home", bank.home
    )
    assert "no model 'nope'" in one_line_error(missing)
    check()
    changed = signoff(
        "model", "set-tier", "tumour", "high", "--reason", "x", "--as", "ada", "--json",
        "--home", bank.home,
    )  # fmt: skip
    assert json.loads(changed.output)["previous_tier"] == "medium"
    log = json.loads(
        signoff("audit", "log", "--action", "model.", "--json", "--home", bank.home).output
    )
    assert [e["action"] for e in log] == ["model.created", "model.tier_changed"] or [
        e["action"] for e in log
    ] == ["model.tier_changed", "model.created"]
    assert "risk high" in signoff("show", "tumour", "--home", bank.home).output
    assert signoff("audit", "verify", "--home", bank.home).exit_code == 0


def test_a_tier_edited_in_the_table_is_caught(bank: Team, signoff: Runner) -> None:
    from sqlalchemy import text

    _set_tier(bank, signoff)
    with bank.store.session() as session:  # to escape the tier rule's quorum
        session.connection().execute(text("UPDATE models SET risk_tier = 'low'"))
    verify = signoff("audit", "verify", "--home", bank.home)
    assert verify.exit_code == 1 and "models" in verify.output and "risk_tier" in verify.output
    record_validation(bank, "tumour", 1)
    request = signoff(
        "request", "tumour:1", "--to", "production", "--comment", "x", "--as", "dana",
        "--home", bank.home,
    )  # fmt: skip
    assert "risk_tier" in one_line_error(request, code=1)


BAD_POLICIES = {
    "a serving stage with no approvals": (
        ("approvals = 2\napprover_roles", "approvals = 0\napprover_roles"),
        "serving stage, with no approval",
    ),
    "a tier rule with no approvals": (
        ("approvals = { reviewer = 1, risk-officer = 1 }", "approvals = 0"),
        "[tier.high.stage.production] allows promotion",
    ),
    "a role that does not exist": (
        ("risk-officer = 1 }", "ceo = 1 }"),
        "unknown role 'ceo'",
    ),
    "an approver role that does not exist": (
        (
            'approvals = 2\napprover_roles = ["reviewer", ',
            'approvals = 2\napprover_roles = ["cfo", ',
        ),
        "unknown role 'cfo'",
    ),
    "a tier no model can have": (
        ("[tier.high.stage", "[tier.critical.stage"),
        "names a tier no model can have",
    ),
    "a per-role quorum beside approver_roles": (
        (
            "independent_validation = true",
            'independent_validation = true\napprover_roles = ["reviewer"]',
        ),
        "drop approver_roles",
    ),
    "a role counted zero times": (
        ("reviewer = 1, risk", "reviewer = 0, risk"),
        "approvals of reviewer must be a whole number >= 1",
    ),
    "a tolerance in a tier rule": (
        ("canary_steps = [10, 100]", "canary_steps = [10, 100]\nchampion_tolerance = 0.5"),
        "it is set per stage",
    ),
    "a tier rule for a stage not in stages": (
        ("[tier.high.stage.production]", "[tier.high.stage.prod]"),
        "names a stage not in stages",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_POLICIES))
def test_the_validator_refuses(
    case: str,
    bank: Team,
    signoff: Runner,
    tmp_path: Path,
    unchanged: Callable[[Path], Callable[[], None]],
) -> None:
    (old, new), expected = BAD_POLICIES[case]
    assert old in BANK_POLICY
    path = tmp_path / "bad.toml"
    path.write_text(BANK_POLICY.replace(old, new))
    check = unchanged(bank.home)
    line = one_line_error(signoff("policy", "set", path, "--as", "ada", "--home", bank.home))
    assert expected in line, line
    check()


def test_an_old_policy_with_no_production_approvals_still_reads() -> None:
    # The log may hold policies set before this rule: replay parses them, `policy set` refuses.
    policy = parse_policy(
        BANK_POLICY.replace("approvals = 2\napprover", "approvals = 0\napprover"), "x"
    )
    assert policy.stage("production").approvals == 0


def test_policy_set_warns_when_the_users_cannot_meet_a_quorum(
    bank: Team, signoff: Runner, tmp_path: Path
) -> None:
    path = tmp_path / "strict.toml"
    path.write_text(BANK_POLICY.replace("risk-officer = 1 }", "risk-officer = 2 }"))
    result = signoff("policy", "set", path, "--as", "ada", "--home", bank.home)
    assert result.exit_code == 0
    assert (
        "warning: [tier.high.stage.production] needs 2 risk-officer approval(s); the store has "
        "1 active risk-officer" in result.stderr
    )
    quiet = tmp_path / "quiet.toml"
    quiet.write_text(BANK_POLICY.replace("approval_ttl_hours = 72", "approval_ttl_hours = 48"))
    result = signoff("policy", "set", quiet, "--as", "ada", "--home", bank.home)
    assert result.exit_code == 0 and "warning" not in result.stderr


def test_a_tier_a_model_has_cannot_leave_the_policy(
    bank: Team, signoff: Runner, tmp_path: Path
) -> None:
    _set_tier(bank, signoff)
    path = tmp_path / "two.toml"
    path.write_text(
        BANK_POLICY.replace('tiers = ["low", "medium", "high"]', 'tiers = ["low", "medium"]').split(
            "# High-risk"
        )[0]
    )
    line = one_line_error(signoff("policy", "set", path, "--as", "ada", "--home", bank.home), 3)
    assert "drop 'high', the tier of tumour" in line


def test_registration_takes_a_tier_the_policy_declares(bank: Team) -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    from console import api
    from console.registry.register import ModelInfo

    frame = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, -1]]
    estimator = LogisticRegression(max_iter=200).fit(frame.iloc[:, :2], frame["target"])
    with pytest.raises(BadInput, match="the policy's tiers are low, medium, high"):
        api.register_model(
            bank.store, bank["dana"], "pd", estimator, frame, target="target",
            info=ModelInfo(risk_tier="critical"),
        )  # fmt: skip
    api.register_model(
        bank.store, bank["dana"], "pd", estimator, frame, target="target",
        info=ModelInfo(risk_tier="high"),
    )  # fmt: skip
    record_validation(bank, "pd", 1)
    view = request_promotion(bank.store, bank["dana"], "pd", 1, "production", "ship")
    assert view.tier == "high" and view.quorum == "1 reviewer and 1 risk-officer"


def test_policy_explain_names_each_rule_and_its_source(bank: Team, signoff: Runner) -> None:
    _set_tier(bank, signoff)
    record_validation(bank, "tumour", 1, actor="rita")
    shown = signoff("policy", "explain", "tumour:1", "--to", "production", "--home", bank.home)
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert "risk tier high" in text
    assert "tier rule: [tier.high.stage.production] over [stage.production]" in text
    lines = {line.split()[0]: line for line in text.splitlines()[2:]}
    assert "1 reviewer and 1 risk-officer  <- [tier.high.stage.production]" in lines["approvals"]
    assert "on  <- [tier.high.stage.production]" in lines["independent_validation"]
    assert "validation.passed  <- [stage.production]" in lines["gates"]
    assert "72  <- [stage.production]" in lines["approval_ttl_hours"]
    assert "no  <- default" in lines["may_skip"]
    assert "10%, 100%  <- [tier.high.stage.production]" in lines["canary_steps"]
    assert "by rita" in lines["validation"]
    data = json.loads(
        signoff(
            "policy", "explain", "tumour:2", "--to", "production", "--json", "--home", bank.home
        ).output
    )
    assert data["tier_rule"] == "[tier.high.stage.production]"
    assert {r["key"]: r["source"] for r in data["rules"]}["approvals"] == (
        "[tier.high.stage.production]"
    )
    staging = signoff("policy", "explain", "tumour:1", "--to", "staging", "--home", bank.home)
    assert "tier rule: none for tier high; [stage.staging] applies" in staging.output
    for args, expected in (
        (("tumour", "--to", "production"), "MODEL:VERSION"),
        (("tumour:1", "--to", "prod"), "unknown stage 'prod'"),
        (("tumour:9", "--to", "production"), "no version 9"),
        (("ghost:1", "--to", "production"), "no model 'ghost'"),
    ):
        line = one_line_error(signoff("policy", "explain", *args, "--home", bank.home))
        assert expected in line, line


async def test_the_review_screen_shows_missing_roles_and_the_rules(
    bank: Team, signoff: Runner
) -> None:
    from textual.worker import WorkerFailed

    from console.tui.app import make_app
    from console.tui.screens.review import ReviewScreen

    _set_tier(bank, signoff)
    record_validation(bank, "tumour", 1, actor="rita")
    view = request_promotion(bank.store, bank["dana"], "tumour", 1, "production", "ship")
    decide(bank.store, bank["rosa"], view.id, "approve", "ok")
    app = make_app(bank.store, user="raj")
    async with app.run_test(size=(120, 60)) as pilot:
        app.push_screen(ReviewScreen(view.id))
        for _ in range(3):
            with contextlib.suppress(WorkerFailed):  # the assertions below name what failed
                await app.workers.wait_for_complete()
            await pilot.pause()
        body = str(app.screen.query_one("#evidence-body").render())
    assert "• 1 more approval(s) from risk-officer" in body
    assert "tier rule: [tier.high.stage.production]" in body
    assert "approvals: 1 reviewer and 1 risk-officer  ← [tier.high.stage.production]" in body
    assert "independent_validation: on  ← [tier.high.stage.production]" in body
    assert "validation run counted: run 1 by rita (pass)" in body
