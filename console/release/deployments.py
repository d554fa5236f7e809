"""Stage changes: promotion when quorum and gates hold, and break-glass rollback."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.auditing.state_check import prove_model
from console.errors import BadInput, IntegrityError, NotFound, Refused
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.refs import check_model_name
from console.release.history import SERVING_KINDS
from console.release.policy import load_policy
from console.release.requests import CANARY, OPEN, load_request, request_view
from console.release.retire import refuse_retired
from console.release.stage_order import check_stage_order
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import (
    Deployment,
    ModelVersion,
    PromotionRequest,
    RegisteredModel,
    StageAssignment,
)


@dataclass(frozen=True)
class StageChange:
    model: str
    stage: str
    kind: str
    version: int
    replaced: int | None
    canary_share: int | None
    event_seq: int
    override: bool = False  # a canary step past an inconclusive comparison, flagged
    comparison: str = ""  # what `monitor compare` said, for a canary step


def verify_artifact(store: Store, session: Session, model: str, version: int) -> None:
    row = session.get(ModelVersion, (model, version))
    if row is None:
        raise NotFound(f"model {model!r} has no version {version}")
    if not ArtifactStore(store.artifacts_dir).verify(row.artifact_sha256):
        raise IntegrityError(
            f"the artifact of {model}:{version} fails verification "
            f"({ArtifactStore(store.artifacts_dir).path_for(row.artifact_sha256)}); refusing"
        )


def _assignment(session: Session, model: str, stage: str, now: str) -> StageAssignment:
    row = session.get(StageAssignment, (model, stage))
    return row if row is not None else StageAssignment(model=model, stage=stage, updated_at=now)


def record_stage_change(
    session: Session,
    signer: Signer,
    *,
    action: str,
    kind: str,
    model: str,
    stage: str,
    version: int,
    replaced: int | None,
    now: str,
    request_id: int | None = None,
    break_glass: bool = False,
    reason: str = "",
    extra: dict[str, object] | None = None,
) -> int:
    event = append_event(
        session,
        signer,
        action,
        f"{model}:{stage}",
        {
            "model": model,
            "stage": stage,
            "version": version,
            "replaced_version": replaced,
            "request": request_id,
            "break_glass": break_glass,
            "reason": reason,
            **(extra or {}),
        },
        ts=now,
        model=model,
    )
    session.add(
        Deployment(
            id=next_id(session, Deployment),
            model=model,
            stage=stage,
            kind=kind,
            version=version,
            replaced_version=replaced,
            request_id=request_id,
            actor=signer.name,
            occurred_at=now,
            break_glass=break_glass,
            reason=reason,
            event_seq=event.seq,
        )
    )
    return event.seq


def clear_canary(assignment: StageAssignment) -> None:
    """No canary runs in the stage any more."""
    assignment.canary_version = None
    assignment.canary_share = None
    assignment.canary_step = None


def promote(store: Store, signer: Signer, request_id: int) -> StageChange:
    """Execute a request whose quorum is reached and whose gates all pass, in one transaction."""
    policy = load_policy(store)
    with store.session() as session:
        require_actor(session, signer, Permission.PROMOTE)
        row = load_request(session, request_id)
        prove_model(session, row.model)  # request status, decisions, signatures, roles, stages
        view = request_view(store, session, policy, row)
        if view.status != OPEN:
            raise Refused(f"request {request_id} is {view.status}; only open requests can execute")
        if view.needed:
            raise Refused(f"request {request_id} cannot execute: " + "; ".join(view.needed))
        check_stage_order(session, policy, row.model, row.version, row.stage)
        verify_artifact(store, session, row.model, row.version)
        now = store.clock()
        assignment = _assignment(session, row.model, row.stage, now)
        if assignment.canary_version is not None:
            raise Refused(
                f"a canary of {row.model}:{assignment.canary_version} runs in {row.stage}; "
                "step it to the end or abort it first"
            )
        plan = view.canary_plan
        if plan and assignment.version is None:
            raise Refused(
                f"{row.stage} of {row.model} holds no version: a canary needs a champion to "
                "compare with; open a new request (the first deployment is direct)"
            )
        replaced = assignment.version
        if plan:
            assignment.canary_version = row.version
            assignment.canary_share = plan[0]
            assignment.canary_step = 0
            row.status = CANARY
            action, kind, share = actions.CANARY_STARTED, "canary.started", plan[0]
        else:
            assignment.version = row.version
            row.status = "promoted"
            row.closed_at = now
            row.closed_by = signer.name
            action, kind, share = actions.PROMOTION_EXECUTED, "promotion", None
        assignment.updated_at = now
        seq = record_stage_change(
            session,
            signer,
            action=action,
            kind=kind,
            model=row.model,
            stage=row.stage,
            version=row.version,
            replaced=replaced,
            now=now,
            request_id=request_id,
            extra={"canary_share": share, "approvers": view.counted},
        )
        session.add(assignment)
        session.add(row)
        return StageChange(row.model, row.stage, kind, row.version, replaced, share, seq)


def canary_request(session: Session, model: str, stage: str, version: int) -> PromotionRequest:
    row = session.exec(
        select(PromotionRequest)
        .where(
            PromotionRequest.model == model,
            PromotionRequest.stage == stage,
            PromotionRequest.version == version,
            PromotionRequest.status == CANARY,
        )
        .order_by(col(PromotionRequest.id).desc())
    ).first()
    if row is None:
        raise NotFound(f"no canary request found for {model}:{version} in {stage}")
    return row


def _previous_holders(session: Session, model: str, stage: str) -> list[Deployment]:
    return list(
        session.exec(
            select(Deployment)
            .where(
                Deployment.model == model,
                Deployment.stage == stage,
                col(Deployment.kind).in_(SERVING_KINDS),
            )
            .order_by(col(Deployment.id))
        ).all()
    )


def rollback(
    store: Store,
    signer: Signer,
    model: str,
    stage: str,
    reason: str,
    to_version: int | None = None,
) -> StageChange:
    """Break-glass: return a stage to a version that held it before, without approvals."""
    if not reason.strip():
        raise BadInput("a rollback needs --reason saying what went wrong")
    check_text("the reason", reason, multiline=True)
    policy = load_policy(store)
    policy.stage(stage)
    check_model_name(model)
    with store.session() as session:
        require_actor(session, signer, roles=policy.break_glass_roles)
        prove_model(session, model)  # the holder and the previous holders rolled back to
        if session.get(RegisteredModel, model) is None:
            raise NotFound(f"no model {model!r} in this store")
        assignment = session.get(StageAssignment, (model, stage))
        current = assignment.version if assignment else None
        if current is None:
            raise BadInput(f"{stage} of {model} holds no version; nothing to roll back")
        history = _previous_holders(session, model, stage)
        held_before = [d.version for d in history if d.version != current]
        if to_version is None:
            # The version the current one replaced most recently.
            replaced = [
                d.replaced_version for d in history if d.version == current and d.replaced_version
            ]
            if not replaced:
                raise Refused(
                    f"no earlier version held {stage} of {model}; nothing to roll back to"
                )
            target = replaced[-1]
        else:
            if to_version == current:
                raise BadInput(f"{model}:{to_version} already holds {stage}")
            if to_version not in held_before:
                raise Refused(
                    f"{model}:{to_version} never held {stage}; rollback may only return to a "
                    "version that held the stage before"
                )
            target = to_version
        assert target is not None
        refuse_retired(session, model, target)
        verify_artifact(store, session, model, target)
        now = store.clock()
        aborted = assignment.canary_version if assignment else None
        seq = record_stage_change(
            session,
            signer,
            action=actions.ROLLBACK_EXECUTED,
            kind="rollback",
            model=model,
            stage=stage,
            version=target,
            replaced=current,
            now=now,
            break_glass=True,
            reason=reason,
            extra={"aborted_canary": aborted},
        )
        assert assignment is not None
        assignment.version = target
        if aborted is not None:
            request = canary_request(session, model, stage, aborted)
            request.status = "aborted"
            request.closed_at = now
            request.closed_by = signer.name
            session.add(request)
            clear_canary(assignment)
        assignment.updated_at = now
        session.add(assignment)
        return StageChange(model, stage, "rollback", target, current, None, seq)
