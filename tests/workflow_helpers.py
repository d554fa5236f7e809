"""Helpers for workflow tests: a registered model and validation runs recorded directly."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from sklearn.linear_model import LogisticRegression

from audit.canonical import canonical_json
from console import api
from console.auditing.log import append_uncatalogued_event
from console.store.artifacts import ArtifactStore
from console.store.models import ValidationCheck, ValidationRun
from tests.conftest import Team

TEST_POLICY = """
version = 1
stages = ["dev", "staging", "production"]

[stage.dev]
approvals = 1
approver_roles = ["reviewer", "risk-officer"]
gates = ["validation.passed"]
approval_ttl_hours = 24

[stage.staging]
approvals = 2
approver_roles = ["reviewer", "risk-officer"]
gates = ["validation.passed", "champion.not_worse"]
champion_tolerance = 0.01

[stage.production]
approvals = 2
approver_roles = ["reviewer", "risk-officer"]
gates = ["validation.passed"]
canary_steps = [10, 50, 100]

[rollback]
break_glass_roles = ["release-manager", "admin"]
"""


def register_versions(team: Team, count: int = 3, model: str = "tumour") -> None:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, :4].copy()
    frame.columns = ["radius", "texture", "perimeter", "area"]
    frame["malignant"] = 1 - data.target
    for n in range(count):
        estimator = LogisticRegression(max_iter=200 + n).fit(
            frame.drop(columns="malignant"), frame["malignant"]
        )
        api.register_model(team.store, team["dana"], model, estimator, frame, target="malignant")


def record_validation(
    team: Team,
    model: str,
    version: int,
    *,
    passed: bool = True,
    champion: str = "info",
    actor: str = "rita",
) -> int:
    """A validation run written straight to the store, as `signoff validate` would."""
    report = canonical_json({"model": model, "version": version, "passed": passed, "n": version})
    with team.store.session() as session:
        from sqlalchemy import text

        run_id = int(
            session.connection()
            .execute(text("SELECT coalesce(max(id),0)+1 FROM validation_runs"))
            .scalar()
            or 1
        )
        report = canonical_json(
            {"model": model, "version": version, "passed": passed, "run": run_id}
        )
        digest, _ = ArtifactStore(team.store.artifacts_dir).put_bytes(report)
        now = team.store.clock()
        checks = {
            "performance.accuracy": "pass" if passed else "fail",
            "champion.not_worse": champion,
        }
        event = append_uncatalogued_event(
            session,
            team[actor],
            "validation.completed",
            f"{model}:{version}",
            {
                "run_id": run_id,
                "model": model,
                "version": version,
                "dataset_sha256": "0" * 64,
                "dataset_name": "holdout.csv",
                "target": "malignant",
                "sensitive": None,
                "stage": None,
                "report_sha256": digest,
                "status": "pass" if passed else "fail",
                "passed": passed,
                "counts": dict(Counter(checks.values())),
                "checks": checks,
            },
            ts=now,
            model=model,
        )
        session.add(
            ValidationRun(
                id=run_id,
                model=model,
                version=version,
                dataset_sha256="0" * 64,
                dataset_name="holdout.csv",
                target="malignant",
                status="pass" if passed else "fail",
                passed=passed,
                report_sha256=digest,
                started_at=now,
                finished_at=now,
                actor=actor,
                event_seq=event.seq,
            )
        )
        session.add(
            ValidationCheck(
                run_id=run_id,
                name="performance.accuracy",
                category="performance",
                status="pass" if passed else "fail",
                value=0.9,
                threshold=0.7,
            )
        )
        session.add(
            ValidationCheck(
                run_id=run_id, name="champion.not_worse", category="champion", status=champion
            )
        )
    return run_id


def use_policy(team: Team, tmp_path: Path, text: str = TEST_POLICY) -> None:
    from console.release.policy import set_policy

    path = tmp_path / "policy.toml"
    path.write_text(text)
    set_policy(team.store, team["ada"], text, str(path))


def tolerate_uncalibrated_models(team: Team) -> None:
    """Give the team the default policy with calibration limits wide enough for small, overfit
    test models (the credit checks fail them by design; some tests are about other paths)."""
    from console.release.policy import default_policy_text, set_policy

    text = default_policy_text()
    for key, limit in (
        ("max_calibration_slope_deviation", "100.0"),
        ("max_calibration_intercept_deviation", "100.0"),
        ("max_expected_calibration_error", "1.0"),
    ):
        text = re.sub(rf"^{key} = .*$", f"{key} = {limit}", text, flags=re.M)
    set_policy(team.store, team["ada"], text, "loose-calibration.toml")
