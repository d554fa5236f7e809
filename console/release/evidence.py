"""Read models of the evidence reviewers, gates, cards and reports rely on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from audit.canonical import canonical_json
from console.errors import NotFound
from console.release.approvals import ApprovalView, read_model_approvals
from console.release.policy import Policy
from console.store.db import Store
from console.store.models import (
    Approval,
    ModelVersion,
    PackageRecord,
    ValidationCheck,
    ValidationRun,
)
from console.store.rows import SessionRows


@dataclass(frozen=True)
class CheckView:
    name: str
    category: str
    status: str
    value: float | None
    threshold: float | None
    detail: dict[str, object]

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ValidationView:
    id: int
    model: str
    version: int
    dataset_sha256: str
    dataset_name: str
    target: str
    sensitive: str | None
    stage: str | None
    status: str
    passed: bool
    report_sha256: str
    started_at: str
    finished_at: str
    actor: str
    summary: dict[str, object]
    event_seq: int
    checks: list[CheckView] = field(default_factory=list)

    def check(self, name: str) -> CheckView | None:
        for item in self.checks:
            if item.name == name:
                return item
        return None

    def by_category(self, category: str) -> list[CheckView]:
        return [c for c in self.checks if c.category == category]

    def as_dict(self) -> dict[str, object]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "checks"}
        data["checks"] = [c.as_dict() for c in self.checks]
        return data


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
    run = session.exec(
        select(ValidationRun)
        .where(ValidationRun.model == model, ValidationRun.version == version)
        .order_by(col(ValidationRun.id).desc())
    ).first()
    return validation_view(session, run) if run is not None else None


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
        query = select(ValidationRun).where(ValidationRun.model == model)
        if version is not None:
            query = query.where(ValidationRun.version == version)
        runs = session.exec(query.order_by(col(ValidationRun.id))).all()
        return [validation_view(session, r) for r in runs]


def approvals_for(session: Session, request_id: int) -> list[ApprovalView]:
    rows = session.exec(
        select(Approval).where(Approval.request_id == request_id).order_by(col(Approval.id))
    ).all()
    return [_approval_view(a) for a in rows]


def _approval_view(a: Approval) -> ApprovalView:
    return ApprovalView(
        a.id,
        a.request_id,
        a.approver,
        a.role,
        a.decision,
        a.comment,
        a.evidence_digest,
        a.decided_at,
        a.keyid,
        bytes(a.statement),
        bytes(a.signature),
        a.void,
        a.void_reason,
        a.event_seq,
    )


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
    row = session.get(ModelVersion, (model, version))
    if row is None:
        raise NotFound(f"model {model!r} has no version {version}")
    run = latest_validation_in(session, model, version)
    return {
        "model": model,
        "version": version,
        "artifact_sha256": row.artifact_sha256,
        "validation_report_sha256": run.report_sha256 if run else None,
        "validation_run": run.id if run else None,
        "policy_sha256": policy.digest,
        "stage": stage,
        "canary_plan": plan,
    }


def evidence_digest(evidence: dict[str, object]) -> str:
    return hashlib.sha256(canonical_json(evidence)).hexdigest()
