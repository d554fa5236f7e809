"""Promotion gates: each reads the store's latest evidence for a version and says pass or why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from console.release.policy_rules import StagePolicy
from console.release.validation_reads import (
    ValidationView,
    read_independent_validation,
    read_latest_validation,
)
from console.store.rows import Rows

if TYPE_CHECKING:
    from sqlmodel import Session

    from console.store.db import Store


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


def _card_complete(rows: Rows, model: str, version: int) -> GateResult:
    from console.registry.card_spec import read_card_completeness

    missing = read_card_completeness(rows, model, version)
    if missing:
        return GateResult("card.complete", False, "missing: " + ", ".join(missing))
    return GateResult("card.complete", True, "every card field is filled")


def _package_verified(rows: Rows, model: str, version: int) -> GateResult:
    found = rows.all(
        "SELECT sha256, verified FROM packages WHERE model = :model AND version = :version "
        "ORDER BY created_at DESC LIMIT 1",
        {"model": model, "version": version},
    )
    if not found:
        return GateResult("package.verified", False, "no package built; run `signoff package`")
    sha256, verified = found[0]
    if not verified:
        return GateResult("package.verified", False, f"package {sha256[:16]}… did not verify")
    return GateResult("package.verified", True, f"package {sha256[:16]}… verified")


def independent_validation_in(
    session: Session, model: str, version: int
) -> tuple[ValidationView | None, str]:
    """`read_independent_validation` in a caller's unit of work."""
    from console.store.rows import session_rows

    return read_independent_validation(session_rows(session), model, version)


def evaluate_gates(
    store: Store, session: Session, stage: StagePolicy, model: str, version: int
) -> list[GateResult]:
    """`read_gates` in a caller's unit of work."""
    from console.store.rows import session_rows

    return read_gates(session_rows(session), stage, model, version)


def read_gates(rows: Rows, stage: StagePolicy, model: str, version: int) -> list[GateResult]:
    """Every gate of the stage, evaluated now against the version's latest evidence (its latest
    independent run, when the stage asks for independent validation)."""
    discounted = ""
    if stage.independent_validation:
        run, discounted = read_independent_validation(rows, model, version)
    else:
        run = read_latest_validation(rows, model, version)
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
            results.append(_card_complete(rows, model, version))
        elif gate == "package.verified":
            results.append(_package_verified(rows, model, version))
    return results
