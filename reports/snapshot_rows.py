"""The immutable rows a snapshot reads from the store: those recorded by the first N events."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, col, select

from console.auditing.replay_entries import DatasetEntry, Event, VersionEntry
from console.release.approvals import ApprovalView
from console.release.evidence import ValidationView, approvals_for, validation_view
from console.release.history import DeploymentView
from console.store.models import (
    Checkpoint,
    Dataset,
    Deployment,
    ModelVersion,
    PromotionRequest,
    StoreInfo,
    UserKey,
    ValidationRun,
)


@dataclass
class StoreRows:
    origin: str | None
    checkpoints: list[Checkpoint]
    versions: list[ModelVersion]
    datasets: list[Dataset]
    runs: list[ValidationView]
    requests: list[PromotionRequest]
    approvals: list[ApprovalView]
    deployments: list[DeploymentView]
    pems: dict[str, str]


def read_rows(session: Session, size: int) -> StoreRows:
    """The immutable rows recorded by the first `size` events, in one read snapshot."""
    origin = session.get(StoreInfo, "origin")
    checkpoints = list(session.exec(select(Checkpoint).order_by(col(Checkpoint.id))).all())
    versions = list(session.exec(select(ModelVersion)).all())
    datasets = list(session.exec(select(Dataset)).all())
    runs = [
        run_view(session, run)
        for run in session.exec(
            select(ValidationRun)
            .where(col(ValidationRun.event_seq) < size)
            .order_by(col(ValidationRun.id))
        ).all()
    ]
    requests = list(
        session.exec(
            select(PromotionRequest)
            .where(col(PromotionRequest.event_seq) < size)
            .order_by(col(PromotionRequest.id))
        ).all()
    )
    approvals = [a for r in requests for a in approvals_for(session, r.id) if a.event_seq < size]
    deployments = [
        DeploymentView(
            d.id,
            d.model,
            d.stage,
            d.kind,
            d.version,
            d.replaced_version,
            d.request_id,
            d.actor,
            d.occurred_at,
            d.break_glass,
            d.reason,
            d.event_seq,
        )
        for d in session.exec(
            select(Deployment).where(col(Deployment.event_seq) < size).order_by(col(Deployment.id))
        ).all()
    ]
    pems = {k.keyid: k.public_key_pem for k in session.exec(select(UserKey)).all()}
    for row in [*checkpoints, *versions, *datasets, *requests]:
        session.expunge(row)
    return StoreRows(
        origin.value if origin else None,
        checkpoints,
        versions,
        datasets,
        runs,
        requests,
        approvals,
        deployments,
        pems,
    )


def run_view(session: Session, run: ValidationRun) -> ValidationView:
    return validation_view(session, run)


def version_entry(row: ModelVersion, seq: int) -> VersionEntry:
    return VersionEntry(
        model=row.model,
        number=row.number,
        artifact_sha256=row.artifact_sha256,
        artifact_format=row.artifact_format,
        trusted_pickle=row.trusted_pickle,
        trusted_types=json.loads(row.trusted_types),
        estimator_class=row.estimator_class,
        task_type=row.task_type,
        target=row.target,
        features=[str(c["name"]) for c in json.loads(row.input_schema)],
        train_dataset_sha256=row.train_dataset_sha256,
        parent=row.parent_number,
        code_ref=row.code_ref,
        author=row.author,
        created_at=row.created_at,
        description=row.description,
        event_seq=seq,
    )


def dataset_entry(row: Dataset, event: Event | None) -> DatasetEntry:
    return DatasetEntry(
        row.sha256,
        row.name,
        row.format,
        row.row_count,
        row.column_count,
        row.registered_at,
        row.registered_by,
        str(event.payload.get("profile_sha256", "")) if event else "",
        event.seq if event else None,
    )
