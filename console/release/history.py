"""One history of a model: its stage changes, and the requests and decisions around them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from console.errors import NotFound
from console.registry.lookup import require_stage
from console.registry.refs import check_model_name
from console.store.db import Store
from console.store.models import Deployment, PromotionRequest, RegisteredModel

# Deployment kinds after which the stage serves the deployment's version.
SERVING_KINDS = ("promotion", "canary.completed", "rollback")


@dataclass(frozen=True)
class DeploymentView:
    id: int
    model: str
    stage: str
    kind: str  # promotion | canary.started | canary.step | canary.completed | canary.aborted
    # | rollback | retirement
    version: int
    replaced_version: int | None
    request_id: int | None
    actor: str
    occurred_at: str
    break_glass: bool
    reason: str
    event_seq: int

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: str
    actor: str
    what: str
    detail: str
    break_glass: bool = False

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ModelHistory:
    """A model's history: every entry in log order, and the stage changes among them."""

    entries: list[HistoryEntry]  # requests, decisions, promotions, canary steps, rollbacks
    changes: list[DeploymentView]  # the stage changes alone, oldest first


def history(store: Store, model: str, stage: str | None = None) -> ModelHistory:
    """Requests, decisions, promotions, canary steps and rollbacks of a model (or one stage)."""
    from console.release.evidence import model_approvals
    from console.release.policy import load_policy

    check_model_name(model)
    stages = load_policy(store).stage_names
    with store.session() as session:
        if session.get(RegisteredModel, model) is None:
            raise NotFound(f"no model {model!r} in this store")
        if stage is not None:
            require_stage(session, model, stage, stages)
        query = select(PromotionRequest).where(PromotionRequest.model == model)
        deployments = select(Deployment).where(Deployment.model == model)
        if stage:
            query = query.where(PromotionRequest.stage == stage)
            deployments = deployments.where(Deployment.stage == stage)
        requests = {r.id: r for r in session.exec(query).all()}
        changes = [
            DeploymentView(
                r.id,
                r.model,
                r.stage,
                r.kind,
                r.version,
                r.replaced_version,
                r.request_id,
                r.actor,
                r.occurred_at,
                r.break_glass,
                r.reason,
                r.event_seq,
            )
            for r in session.exec(deployments.order_by(col(Deployment.id))).all()
        ]
    entries: list[HistoryEntry] = []
    for request in requests.values():
        entries.append(
            HistoryEntry(
                request.event_seq,
                request.created_at,
                request.requester,
                "requested",
                f"requested {request.id}: v{request.version} -> {request.stage} ({request.comment})",
            )
        )
        if request.status == "withdrawn" and request.closed_at:
            entries.append(
                HistoryEntry(
                    request.event_seq,
                    request.closed_at,
                    request.closed_by or "",
                    "withdrawn",
                    f"withdrew request {request.id}",
                )
            )
    for approval in model_approvals(store, model):
        if approval.request_id not in requests:
            continue
        entries.append(
            HistoryEntry(
                approval.event_seq,
                approval.decided_at,
                approval.approver,
                "approved" if approval.decision == "approve" else "rejected",
                f"{'approved' if approval.decision == 'approve' else 'REJECTED'} request "
                f"{approval.request_id} as {approval.role}: {approval.comment}",
            )
        )
    entries.extend(_deployment_entry(d) for d in changes)
    return ModelHistory(sorted(entries, key=lambda e: e.seq), changes)


def _deployment_entry(d: DeploymentView) -> HistoryEntry:
    replaced = f" (replaced v{d.replaced_version})" if d.replaced_version else ""
    label = {
        "promotion": f"promoted v{d.version} to {d.stage}{replaced}",
        "canary.started": f"canary v{d.version} started in {d.stage}",
        "canary.step": f"canary v{d.version} stepped in {d.stage}",
        "canary.completed": f"canary v{d.version} completed: now {d.stage}{replaced}",
        "canary.aborted": f"canary v{d.version} aborted in {d.stage}: {d.reason}",
        "rollback": f"ROLLBACK {d.stage} to v{d.version}{replaced}: {d.reason}",
        "retirement": f"v{d.version} retired from {d.stage}: {d.reason}",
    }.get(d.kind, f"{d.kind} v{d.version} in {d.stage}")
    if d.break_glass and d.kind.startswith("canary."):
        label += f" (OVERRIDE of an inconclusive comparison: {d.reason})"
    return HistoryEntry(d.event_seq, d.occurred_at, d.actor, d.kind, label, d.break_glass)
