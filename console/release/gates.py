"""Promotion gates: each reads the store's latest evidence for a version and says pass or why not."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from console.release.evidence import ValidationView, latest_validation_in
from console.release.policy import StagePolicy
from console.store.db import Store
from console.store.models import PackageRecord


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


def _validation_passed(run: ValidationView | None) -> GateResult:
    if run is None:
        return GateResult("validation.passed", False, "no validation run; run `signoff validate`")
    if not run.passed:
        failed = [c.name for c in run.checks if c.status == "fail"]
        return GateResult(
            "validation.passed",
            False,
            f"run {run.id} failed: {', '.join(failed[:6]) or run.status}",
        )
    return GateResult("validation.passed", True, f"run {run.id} passed ({run.status})")


def _champion_not_worse(run: ValidationView | None, tolerance: float) -> GateResult:
    name = "champion.not_worse"
    if run is None:
        return GateResult(name, False, "no validation run to compare with the champion")
    check = run.check(name)
    if check is None:
        return GateResult(name, False, f"run {run.id} has no champion comparison")
    if check.status == "fail":
        return GateResult(name, False, f"worse than the champion beyond tolerance {tolerance:g}")
    if check.status == "info":
        return GateResult(name, True, "no champion holds the next stage")
    return GateResult(name, True, "not worse than the champion within tolerance")


def _fairness_passed(run: ValidationView | None) -> GateResult:
    name = "fairness.passed"
    if run is None:
        return GateResult(name, False, "no validation run")
    checks = run.by_category("fairness")
    if not checks:
        return GateResult(
            name, False, f"run {run.id} has no fairness analysis; validate with --sensitive COL"
        )
    failed = [c.name for c in checks if c.status == "fail"]
    if failed:
        return GateResult(name, False, f"failed: {', '.join(failed)}")
    return GateResult(name, True, f"{len(checks)} fairness checks passed")


def _card_complete(session: Session, model: str, version: int) -> GateResult:
    from console.registry.cards import card_completeness_in

    missing = card_completeness_in(session, model, version)
    if missing:
        return GateResult("card.complete", False, "missing: " + ", ".join(missing))
    return GateResult("card.complete", True, "every card field is filled")


def _package_verified(session: Session, model: str, version: int) -> GateResult:
    row = session.exec(
        select(PackageRecord)
        .where(PackageRecord.model == model, PackageRecord.version == version)
        .order_by(col(PackageRecord.created_at).desc())
    ).first()
    if row is None:
        return GateResult("package.verified", False, "no package built; run `signoff package`")
    if not row.verified:
        return GateResult("package.verified", False, f"package {row.sha256[:16]}… did not verify")
    return GateResult("package.verified", True, f"package {row.sha256[:16]}… verified")


def evaluate_gates(
    store: Store, session: Session, stage: StagePolicy, model: str, version: int
) -> list[GateResult]:
    """Every gate of the stage, evaluated now against the version's latest evidence."""
    run = latest_validation_in(session, model, version)
    results: list[GateResult] = []
    for gate in stage.gates:
        if gate == "validation.passed":
            results.append(_validation_passed(run))
        elif gate == "champion.not_worse":
            results.append(_champion_not_worse(run, stage.champion_tolerance))
        elif gate == "fairness.passed":
            results.append(_fairness_passed(run))
        elif gate == "card.complete":
            results.append(_card_complete(session, model, version))
        elif gate == "package.verified":
            results.append(_package_verified(session, model, version))
    return results
