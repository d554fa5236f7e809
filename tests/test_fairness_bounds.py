"""Per-attribute fairness bounds in the policy: each applies to its attribute only, with its
reason recorded and shown; the demo validates credit models over gender and age band."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.release.policy import default_policy_text
from fixtures.demo import DEMO_FAIRNESS_BOUND, DEMO_PASSPHRASE
from tests.conftest import Runner, one_line_error
from tests.test_reports import pdf_text, squeeze

AGE_SECTION = "[validation.fairness.age_band]"


@pytest.fixture
def demo(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    return demo_home


def _policy(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(default_policy_text() + extra, encoding="utf-8")
    return path


def _validate(signoff: Runner, home: Path) -> tuple[int, dict[str, dict[str, object]]]:
    data = home / "demo-data" / "credit-risk-v2-holdout.csv"
    result = signoff(
        "validate", "credit-risk:2", "--data", data, "--target", "default",
        "--sensitive", "gender", "--sensitive", "age_band", "--home", home, "--as", "dana", "--json",
    )  # fmt: skip
    run = json.loads(result.stdout)
    return result.exit_code, {str(c["name"]): c for c in run["checks"]}


def _detail(check: dict[str, object]) -> dict[str, object]:
    detail = check["detail"]
    assert isinstance(detail, dict)
    return detail


def test_the_demo_validates_v2_over_both_attributes_each_under_its_bound(
    demo: Path, signoff: Runner
) -> None:
    result = signoff("validations", "credit-risk:2", "--home", demo, "--json")
    run = max(json.loads(result.stdout), key=lambda r: r["id"])
    assert run["sensitive"] == "gender, age_band" and run["status"] != "fail"
    checks = {c["name"]: c for c in run["checks"]}
    for attribute in ("gender", "age_band"):
        for metric in ("groups", "demographic_parity", "equal_opportunity"):
            assert f"fairness.{metric}.{attribute}" in checks, (metric, attribute)
    for metric in ("demographic_parity", "equal_opportunity"):
        age, gender = checks[f"fairness.{metric}.age_band"], checks[f"fairness.{metric}.gender"]
        assert age["threshold"] == 0.35 and age["status"] == "pass"
        assert _detail(age)["bound_source"] == AGE_SECTION
        assert "consumer-credit law" in str(_detail(age)["bound_reason"])
        assert gender["threshold"] == 0.1  # [validation]'s bound: the age band's is not its
        assert "bound_source" not in _detail(gender)
    # v2's age-band gap is above the default bound: only the policy's own bound lets it pass.
    assert checks["fairness.demographic_parity.age_band"]["value"] > 0.1


def test_without_the_attribute_bound_the_default_applies_and_the_gate_fails(
    demo: Path, signoff: Runner, tmp_path: Path
) -> None:
    policy = tmp_path / "default.toml"
    policy.write_text(default_policy_text(), encoding="utf-8")
    assert signoff("policy", "set", policy, "--home", demo, "--as", "ada").exit_code == 0
    code, checks = _validate(signoff, demo)
    assert code == 1
    age = checks["fairness.demographic_parity.age_band"]
    assert age["status"] == "fail" and age["threshold"] == 0.1
    assert "bound_source" not in _detail(age)
    assert checks["fairness.demographic_parity.gender"]["status"] == "pass"


def test_a_bound_for_one_attribute_leaves_the_others_at_the_default(
    demo: Path, signoff: Runner, tmp_path: Path
) -> None:
    # A narrower bound for gender (no reason is too small to state): age band falls back to 0.1.
    narrow = '\n[validation.fairness.gender]\nmax_demographic_parity_difference = 0.01\nreason = "stricter by board decision"\n'
    assert (
        signoff("policy", "set", _policy(tmp_path, narrow), "--home", demo, "--as", "ada").exit_code
        == 0
    )
    code, checks = _validate(signoff, demo)
    assert code == 1
    gender = checks["fairness.demographic_parity.gender"]
    assert gender["threshold"] == 0.01 and gender["status"] == "fail"
    assert _detail(gender)["bound_reason"] == "stricter by board decision"
    # The table sets only demographic parity: equal opportunity keeps [validation]'s bound.
    assert checks["fairness.equal_opportunity.gender"]["threshold"] == 0.1
    assert checks["fairness.demographic_parity.age_band"]["threshold"] == 0.1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("max_demographic_parity_difference = 0.3\n", 'needs reason = "..."'),
        ('max_demographic_parity_difference = 0.3\nreason = "  "\n', 'needs reason = "..."'),
        ('reason = "age is priced"\n', "sets no bound"),
        ('max_parity = 0.3\nreason = "x"\n', "unknown key 'max_parity'"),
        ('max_demographic_parity_difference = 1.3\nreason = "x"\n', "between 0 and 1"),
        ('max_demographic_parity_difference = "wide"\nreason = "x"\n', "between 0 and 1"),
        ('max_equal_opportunity_difference = true\nreason = "x"\n', "between 0 and 1"),
    ],
)
def test_the_validator_refuses_a_bad_attribute_bound_in_one_line(
    demo: Path, signoff: Runner, tmp_path: Path, body: str, fragment: str
) -> None:
    before = signoff("policy", "show", "--home", demo).stdout
    path = _policy(tmp_path, f"\n{AGE_SECTION}\n{body}")
    message = one_line_error(signoff("policy", "set", path, "--home", demo, "--as", "ada"))
    assert fragment in message and "line" in message
    assert signoff("policy", "show", "--home", demo).stdout == before


def test_policy_explain_lists_the_attribute_bounds_of_a_fairness_gated_stage(
    demo: Path, signoff: Runner
) -> None:
    out = signoff("policy", "explain", "credit-risk:2", "--to", "production", "--home", demo).stdout
    line = next(line for line in out.splitlines() if "fairness bound of age_band" in line)
    assert "max_demographic_parity_difference 0.35" in line and AGE_SECTION in line
    assert "consumer-credit law" in line
    dev = signoff("policy", "explain", "credit-risk:2", "--to", "dev", "--home", demo).stdout
    assert "fairness bound" not in dev  # dev is not gated by fairness.passed


def test_the_report_of_the_serving_version_lists_both_attributes_and_the_bounds(
    demo: Path, signoff: Runner, tmp_path: Path
) -> None:
    out = tmp_path / "r.pdf"
    result = signoff("report", "credit-risk:2", "-o", out, "--home", demo, "--as", "aud")
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes())
    flat = squeeze(text)
    start = flat.rindex(squeeze("3. Validation results"))  # the section, not the contents
    validation = flat[start:]
    assert squeeze("Fairness across groups of gender, age_band") in validation
    for attribute in ("gender", "age_band"):
        assert squeeze(f"Groups of {attribute}") in validation
        for metric in ("demographic_parity", "equal_opportunity"):
            assert f"fairness.{metric}.{attribute}" in validation
    assert squeeze("Thresholds of gender from [validation].") in validation
    assert squeeze(f"Thresholds of age_band from {AGE_SECTION}: age is a legitimate") in validation


def test_the_demo_policy_bound_is_what_fairness_monitoring_holds_age_band_to(
    demo: Path, signoff: Runner
) -> None:
    assert "max_equal_opportunity_difference = 0.35" in DEMO_FAIRNESS_BOUND
    result = signoff(
        "monitor", "fairness", "credit-risk", "--sensitive", "age_band", "--home", demo,
        "--as", "raj", "--json",
    )  # fmt: skip
    windows = json.loads(result.stdout)["evaluation"]["windows"]
    measured = [
        w["result"]["attributes"]["age_band"]
        for w in windows
        if "demographic_parity" in w["result"]["attributes"].get("age_band", {})
    ]
    assert measured
    for entry in measured:
        assert entry["demographic_parity"]["threshold"] == 0.35
        assert entry["demographic_parity"]["detail"]["bound_source"] == AGE_SECTION
