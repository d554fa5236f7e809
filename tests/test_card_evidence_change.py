"""Inherited card text beside the evidence it was written for: the pure rule, then the store's."""

from __future__ import annotations

import json

import pytest

from console.errors import BadInput
from console.registry.card_evidence_change import (
    NOT_RUN,
    CheckChange,
    compare_evidence,
    latest_outcomes,
)
from console.registry.card_inheritance import confirm_card_fields, unconfirmed_fields
from console.registry.cards import EVIDENCE_CHANGED, card_completeness, set_card_fields
from console.release.validation_reads import CheckView, ValidationView
from console.store.models import ValidationCheck
from tests.conftest import Runner, Team, one_line_error, store_fingerprint
from tests.test_card_inheritance import PARENT_CARD, card_actions, line
from tests.test_cards import record_run

__all__ = ["line"]  # the fixture, shared with the inheritance tests


def run(run_id: int, version: int, **statuses: str) -> ValidationView:
    """A run whose checks are named by keyword (`a__b` stands for the check `a.b`)."""
    checks = [
        CheckView(name.replace("__", "."), name.split("__")[0], status, None, None, {})
        for name, status in statuses.items()
    ]
    return ValidationView(
        id=run_id,
        model="m",
        version=version,
        dataset_sha256="0" * 64,
        dataset_name="holdout.csv",
        target="y",
        sensitive=None,
        stage=None,
        status="pass",
        passed=True,
        report_sha256="0" * 64,
        started_at="2026-11-01T00:00:00Z",
        finished_at="2026-11-01T00:00:01Z",
        actor="dana",
        summary={},
        event_seq=run_id,
        checks=checks,
    )


def test_a_check_whose_verdict_changed_is_listed_in_the_words_a_reader_needs() -> None:
    source = [run(1, 2, fairness__dp="pass", performance__auc="pass")]
    own = run(2, 3, fairness__dp="fail", performance__auc="pass")
    change = compare_evidence("m", 3, 2, source, own)
    assert change.contradicted
    assert change.changes == (CheckChange("fairness.dp", "pass", "fail"),)
    assert change.summary() == "written for v2; since then: fairness.dp: pass in v2, fail in v3"
    assert change.payload(True) == {
        "source_run": 1,
        "own_run": 2,
        "changes": [{"check": "fairness.dp", "before": "pass", "after": "fail"}],
        "acknowledged": True,
    }


def test_the_rule_is_generic_over_checks_and_ignores_results_without_a_verdict() -> None:
    source = [run(1, 2, a__x="pass", b__y="warn", c__z="info", d__w="pass", e__v="info")]
    source[0].checks.append(CheckView("h.s", "h", "fail", None, None, {}))
    own = run(2, 3, a__x="fail", b__y="pass", c__z="pass", e__v="fail", f__u="fail", g__t="warn")
    own.checks.append(CheckView("h.s", "h", "warn", None, None, {}))
    change = compare_evidence("m", 3, 2, source, own)
    assert [(c.check, c.before, c.after) for c in change.changes] == [
        ("a.x", "pass", "fail"),  # the text's check now fails
        ("d.w", "pass", NOT_RUN),  # the text may rest on a check the version never made
        ("f.u", NOT_RUN, "fail"),  # a new failing check the text's authors never saw
        ("h.s", "fail", "warn"),  # what failed then holds now: the text may say otherwise
    ]  # warn <-> pass is advice (latency depends on load); info gives no verdict; a new
    # passing or warning check contradicts nothing


def test_the_source_evidence_is_its_latest_result_per_check() -> None:
    older = run(1, 2, fairness__dp="fail", drift__psi="pass")
    newer = run(5, 2, fairness__dp="pass")  # re-validated: the text was written for this
    assert latest_outcomes([newer, older]) == {"fairness.dp": "pass", "drift.psi": "pass"}
    change = compare_evidence("m", 3, 2, [newer, older], run(6, 3, fairness__dp="pass"))
    assert change.source_run == 5
    assert [c.check for c in change.changes] == ["drift.psi"]  # not run in v3


def test_the_same_outcomes_and_missing_runs_are_said_plainly() -> None:
    same = compare_evidence("m", 3, 2, [run(1, 2, a__x="pass")], run(2, 3, a__x="pass"))
    assert not same.contradicted
    assert same.summary() == (
        "written for v2: v3's validation (run 2) gives the same outcome for every check v2's did"
    )
    unvalidated = compare_evidence("m", 3, 2, [run(1, 2, a__x="pass")], None)
    assert not unvalidated.contradicted
    assert unvalidated.summary() == (
        "written for v2: v3 has no validation run yet: nothing shows it holds for v3"
    )
    no_source = compare_evidence("m", 3, 2, [], run(2, 3, a__x="fail"))
    assert not no_source.contradicted and no_source.source_run is None
    assert no_source.summary() == (
        "written for v2: v2 had no validation run: the text was written without one"
    )


# ---- the service, the gate and the CLI on a store --------------------------------------------


def checks(**statuses: str) -> list[ValidationCheck]:
    return [
        ValidationCheck(
            run_id=0,
            name=name.replace("__", "."),
            category=name.split("__")[0],
            status=status,
            value=0.1,
            threshold=0.05,
            detail=json.dumps({}),
        )
        for name, status in statuses.items()
    ]


@pytest.fixture
def contradicted(line: Team) -> Team:
    """tumour:2 inherited tumour:1's card; v1 passed demographic parity, v2 fails it."""
    record_run(line.store, line["rita"], "tumour", 1, checks(fairness__dp="pass", perf__auc="pass"))
    record_run(line.store, line["rita"], "tumour", 2, checks(fairness__dp="fail", perf__auc="pass"))
    return line


def confirmed_events(team: Team) -> list[dict[str, object]]:
    return [payload for action, _, payload in card_actions(team) if action == "card.confirmed"]


def test_confirming_contradicted_text_is_refused_without_acknowledgement(
    contradicted: Team, signoff: Runner
) -> None:
    before = store_fingerprint(contradicted.home)
    for extra in ((), ("--field", "license")):  # one field the checks say nothing about: still
        result = signoff(
            "card", "confirm", "tumour:2", *extra, "--home", contradicted.home, "--as", "dana"
        )
        line = one_line_error(result)
        assert "fairness.dp: pass in v1, fail in v2" in line
        assert "--acknowledge-evidence" in line and "signoff card edit" in line
    with pytest.raises(BadInput, match="differs from v1's"):
        confirm_card_fields(contradicted.store, contradicted["dana"], "tumour", 2)
    assert store_fingerprint(contradicted.home) == before
    assert confirmed_events(contradicted) == []


def test_writing_the_inherited_text_again_does_not_get_around_the_review(
    contradicted: Team,
) -> None:
    store, dana = contradicted.store, contradicted["dana"]
    assert EVIDENCE_CHANGED in card_completeness(store, "tumour", 2)
    same = {name: f"  {value}\r\n" for name, value in PARENT_CARD.items()}  # stored as before
    assert set_card_fields(store, dana, "tumour", 2, same) == []
    assert len(unconfirmed_fields(store, "tumour", 2)) == len(PARENT_CARD)
    assert EVIDENCE_CHANGED in card_completeness(store, "tumour", 2)  # card.complete still waits
    # Rewriting what the new evidence contradicts, then confirming the rest knowingly, clears it.
    set_card_fields(store, dana, "tumour", 2, {"caveats_and_recommendations": "Fails parity."})
    confirm_card_fields(store, dana, "tumour", 2, acknowledge_evidence=True)
    assert EVIDENCE_CHANGED not in card_completeness(store, "tumour", 2)


def test_an_acknowledged_confirmation_records_what_its_author_was_shown(
    contradicted: Team, signoff: Runner
) -> None:
    home = contradicted.home
    result = signoff(
        "card", "confirm", "tumour:2", "--acknowledge-evidence", "--home", home, "--as", "dana"
    )
    assert result.exit_code == 0, result.output
    [payload] = confirmed_events(contradicted)
    assert payload["evidence"] == {
        "source_run": 1,
        "own_run": 2,
        "changes": [{"check": "fairness.dp", "before": "pass", "after": "fail"}],
        "acknowledged": True,
    }
    card = signoff("card", "tumour:2", "--home", home)
    assert "since then" not in card.output  # confirmed knowingly: the card is the author's now
    verify = signoff("audit", "verify", "--home", home)
    assert verify.exit_code == 0, verify.output


def test_unchanged_evidence_needs_no_acknowledgement_and_the_log_says_so(line: Team) -> None:
    record_run(line.store, line["rita"], "tumour", 1, checks(fairness__dp="pass"))
    record_run(line.store, line["rita"], "tumour", 2, checks(fairness__dp="pass"))
    confirm_card_fields(line.store, line["dana"], "tumour", 2)
    [payload] = confirmed_events(line)
    assert payload["evidence"] == {
        "source_run": 1,
        "own_run": 2,
        "changes": [],
        "acknowledged": False,
    }


def test_card_diff_and_check_show_the_difference_beside_the_inherited_fields(
    contradicted: Team, signoff: Runner
) -> None:
    home = contradicted.home
    diff = signoff("card", "diff", "tumour:2", "--home", home)
    assert diff.exit_code == 0, diff.output
    assert "the inherited text was written for v1; since then:\n" in diff.output
    assert "  fairness.dp: pass in v1, fail in v2\n" in diff.output
    assert "perf.auc" not in diff.output
    as_json = json.loads(signoff("card", "diff", "tumour:2", "--home", home, "--json").output)
    assert as_json["evidence"]["changes"] == [
        {"check": "fairness.dp", "before": "pass", "after": "fail"}
    ]
    check = signoff("card", "check", "tumour:2", "--home", home)
    assert check.exit_code == 1
    assert "inherited-text-review" in check.output and "--acknowledge-evidence" in check.output
    card = signoff("card", "tumour:2", "--home", home)
    assert (
        "(Inherited from v1, not confirmed.)\n\n"
        "**Written for v1; since then:** fairness.dp: pass in v1, fail in v2." in card.output
    )
    assert "### Evidence since v1" in card.output


def test_a_version_without_a_run_is_said_plainly(line: Team, signoff: Runner) -> None:
    diff = signoff("card", "diff", "tumour:2", "--home", line.home)
    assert "the inherited text was written for v1:\n" in diff.output
    assert "  v1 had no validation run: the text was written without one\n" in diff.output
    record_run(line.store, line["rita"], "tumour", 1, checks(fairness__dp="pass"))
    diff = signoff("card", "diff", "tumour:2", "--home", line.home)
    assert "  v2 has no validation run yet: nothing shows it holds for v2\n" in diff.output
    assert EVIDENCE_CHANGED not in card_completeness(line.store, "tumour", 2)
