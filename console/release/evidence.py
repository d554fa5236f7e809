"""Read models of the evidence reviewers, gates, cards and reports rely on."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from console.release.approvals import ApprovalView, read_model_approvals, read_request_approvals
from console.release.policy import Policy
from console.release.request_reads import evidence_digest, read_evidence
from console.release.validation_reads import (
    CheckView,
    ValidationView,
    read_latest_validation,
    read_validation_runs,
)
from console.store.db import Store
from console.store.models import PackageRecord, ValidationCheck, ValidationRun
from console.store.rows import SessionRows, session_rows

__all__ = ["CheckView", "ValidationView", "evidence_digest"]


def validation_view(session: Session, run: ValidationRun) -> ValidationView:
    """A run with its checks, as gates, cards and reports read it."""
    checks = session.exec(
        select(ValidationCheck)
        .where(ValidationCheck.run_id == run.id)
        .order_by(col(ValidationCheck.category), col(ValidationCheck.name))
    ).all()
    return _run_view(run, checks)


def _run_view(run: ValidationRun, checks: Sequence[ValidationCheck]) -> ValidationView:
    return ValidationView(
        id=run.id,
        model=run.model,
        version=run.version,
        dataset_sha256=run.dataset_sha256,
        dataset_name=run.dataset_name,
        target=run.target,
        sensitive=run.sensitive,
        stage=run.stage,
        status=run.status,
        passed=run.passed,
        report_sha256=run.report_sha256,
        started_at=run.started_at,
        finished_at=run.finished_at,
        actor=run.actor,
        summary=json.loads(run.summary),
        event_seq=run.event_seq,
        checks=[
            CheckView(c.name, c.category, c.status, c.value, c.threshold, json.loads(c.detail))
            for c in checks
        ],
    )


def latest_validation_in(session: Session, model: str, version: int) -> ValidationView | None:
    """The newest validation run of a version (the one gates and evidence digests use)."""
    return read_latest_validation(session_rows(session), model, version)


def latest_validation(store: Store, model: str, version: int) -> ValidationView | None:
    with store.session() as session:
        return latest_validation_in(session, model, version)


def latest_validations(store: Store, model: str) -> dict[int, ValidationView]:
    """Each validated version's newest run, with its checks, in two queries however many
    versions the model has."""
    newest = (
        select(func.max(ValidationRun.id))
        .where(ValidationRun.model == model)
        .group_by(col(ValidationRun.version))
    )
    with store.session() as session:
        runs = session.exec(select(ValidationRun).where(col(ValidationRun.id).in_(newest))).all()
        checks: dict[int, list[ValidationCheck]] = {run.id: [] for run in runs}
        for check in session.exec(
            select(ValidationCheck)
            .where(col(ValidationCheck.run_id).in_(newest))
            .order_by(col(ValidationCheck.category), col(ValidationCheck.name))
        ).all():
            checks[check.run_id].append(check)
        return {run.version: _run_view(run, checks[run.id]) for run in runs}


def validation_runs(store: Store, model: str, version: int | None = None) -> list[ValidationView]:
    with store.session() as session:
        return read_validation_runs(SessionRows(session.connection()), model, version)


def approvals_for(session: Session, request_id: int) -> list[ApprovalView]:
    return read_request_approvals(session_rows(session), request_id)


def model_approvals(store: Store, model: str, version: int | None = None) -> list[ApprovalView]:
    """Every decision on requests of a model (or one version), oldest first, in one query."""
    with store.session() as session:
        return read_model_approvals(SessionRows(session.connection()), model, version)


def latest_package(store: Store, model: str, version: int) -> PackageRecord | None:
    with store.session() as session:
        row = session.exec(
            select(PackageRecord)
            .where(PackageRecord.model == model, PackageRecord.version == version)
            .order_by(col(PackageRecord.created_at).desc())
        ).first()
        if row is not None:
            session.expunge(row)
        return row


@dataclass(frozen=True)
class FailingRun:
    model: str
    version: int
    run_id: int
    failed_checks: list[str]


def failing_latest_runs(store: Store, limit: int = 20) -> list[FailingRun]:
    """Versions whose latest validation run failed, newest first (one query, portable SQL)."""
    from sqlalchemy import text

    with store.session() as session:
        rows = (
            session.connection()
            .execute(
                text(
                    "SELECT r.model, r.version, r.id FROM validation_runs r "
                    "WHERE r.status = 'fail' AND r.id = (SELECT max(x.id) FROM validation_runs x "
                    "WHERE x.model = r.model AND x.version = r.version) ORDER BY r.id DESC LIMIT :n"
                ),
                {"n": limit},
            )
            .all()
        )
        result = []
        for model, version, run_id in rows:
            failed = session.exec(
                select(ValidationCheck.name).where(
                    ValidationCheck.run_id == run_id, ValidationCheck.status == "fail"
                )
            ).all()
            result.append(FailingRun(model, int(version), int(run_id), sorted(failed)))
        return result


def evidence_for(
    session: Session, policy: Policy, model: str, version: int, stage: str, plan: list[int]
) -> dict[str, object]:
    """What reviewers approve: artifact, latest validation report, policy, stage, canary plan."""
    return read_evidence(session_rows(session), policy, model, version, stage, plan)
