"""Promotion gates: each reads the store's latest evidence for a version and says pass or why not."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import takewhile

from sqlmodel import Session, col, select

from console.release.evidence import ValidationView, latest_validation_in, validation_view
from console.release.policy import StagePolicy
from console.store.db import Store
from console.store.models import ModelVersion, PackageRecord, ValidationRun


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


def _validation_passed(run: ValidationView | None, independent: bool = False) -> GateResult:
    if run is None:
        who = "someone other than the version's author must run" if independent else "run"
        return GateResult(
            "validation.passed", False, f"no validation run; {who} `signoff validate`"
        )
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


def independent_validation_in(
    session: Session, model: str, version: int
) -> tuple[ValidationView | None, str]:
    """The newest run by someone other than the version's author (SR 11-7), and why the newer
    runs did not count ("" when none was set aside)."""
    author_row = session.get(ModelVersion, (model, version))
    author = author_row.author if author_row is not None else ""
    runs = session.exec(
        select(ValidationRun)
        .where(ValidationRun.model == model, ValidationRun.version == version)
        .order_by(col(ValidationRun.id).desc())
    ).all()
    skipped = list(takewhile(lambda r: r.actor == author, runs))
    counted = runs[len(skipped)] if len(skipped) < len(runs) else None
    why = ""
    if skipped:
        numbers = ", ".join(str(r.id) for r in skipped)
        runs_by = (
            f"run {numbers} by {author} does"
            if len(skipped) == 1
            else f"runs {numbers} by {author} do"
        )
        why = f"{runs_by} not count: the version's author ran it and the stage requires independent validation"
    if counted is None:
        return None, why
    return validation_view(session, counted), why


def evaluate_gates(
    store: Store, session: Session, stage: StagePolicy, model: str, version: int
) -> list[GateResult]:
    """Every gate of the stage, evaluated now against the version's latest evidence (its latest
    independent run, when the stage asks for independent validation)."""
    discounted = ""
    if stage.independent_validation:
        run, discounted = independent_validation_in(session, model, version)
    else:
        run = latest_validation_in(session, model, version)
    results: list[GateResult] = []
    for gate in stage.gates:
        if gate == "validation.passed":
            result = _validation_passed(run, stage.independent_validation)
            if discounted:
                result = GateResult(result.name, result.passed, f"{result.detail}; {discounted}")
            results.append(result)
        elif gate == "champion.not_worse":
            results.append(_champion_not_worse(run, stage.champion_tolerance))
        elif gate == "fairness.passed":
            results.append(_fairness_passed(run))
        elif gate == "card.complete":
            results.append(_card_complete(session, model, version))
        elif gate == "package.verified":
            results.append(_package_verified(session, model, version))
    return results
