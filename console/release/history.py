"""One history of a model: its stage changes, and the requests and decisions around them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from console.errors import NotFound
from console.registry.lookup import check_stage
from console.registry.refs import check_model_name
from console.release.approvals import read_model_approvals
from console.release.policy import read_policy

if TYPE_CHECKING:
    from console.store.db import Store
    from console.store.rows import Rows

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


DEPLOYMENT_COLUMNS = (
    "id, model, stage, kind, version, replaced_version, request_id, actor, occurred_at, "
    "break_glass, reason, event_seq"
)
REQUEST_COLUMNS = "id, version, stage, requester, comment, created_at, status, closed_at, closed_by"


def history(store: Store, model: str, stage: str | None = None) -> ModelHistory:
    """Requests, decisions, promotions, canary steps and rollbacks of a model (or one stage)."""
    from console.store.rows import SessionRows

    check_model_name(model)
    with store.session() as session:
        return read_history(SessionRows(session.connection()), model, stage)


def read_history(rows: Rows, model: str, stage: str | None = None) -> ModelHistory:
    """`history` on plain rows, in one read: the policy (its digest checked), then the model's."""
    check_model_name(model)
    stages = read_policy(rows).stage_names
    if not rows.all("SELECT 1 FROM models WHERE name = :model", {"model": model}):
        raise NotFound(f"no model {model!r} in this store")
    if stage is not None:
        check_stage(rows, model, stage, stages)
    where = "model = :model" + (" AND stage = :stage" if stage else "")
    params = {"model": model, "stage": stage}
    requests = {
        int(row[0]): row
        for row in rows.all(
            f"SELECT {REQUEST_COLUMNS}, event_seq FROM promotion_requests WHERE {where}", params
        )
    }
    changes = [
        DeploymentView(
            int(id_),
            about,
            at_stage,
            kind,
            int(version),
            replaced,
            request_id,
            actor,
            occurred_at,
            bool(break_glass),
            reason,
            int(event_seq),
        )
        for (
            id_,
            about,
            at_stage,
            kind,
            version,
            replaced,
            request_id,
            actor,
            occurred_at,
            break_glass,
            reason,
            event_seq,
        ) in rows.all(
            f"SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE {where} ORDER BY id", params
        )
    ]
    entries: list[HistoryEntry] = []
    for request in requests.values():
        id_, version, at_stage, requester, comment, created_at, status, closed_at, closed_by = (
            request[:9]
        )
        seq = int(request[9])
        entries.append(
            HistoryEntry(
                seq,
                created_at,
                requester,
                "requested",
                f"requested {id_}: v{version} -> {at_stage} ({comment})",
            )
        )
        if status == "withdrawn" and closed_at:
            entries.append(
                HistoryEntry(
                    seq, closed_at, closed_by or "", "withdrawn", f"withdrew request {id_}"
                )
            )
    for approval in read_model_approvals(rows, model):
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
