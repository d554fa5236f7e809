"""Canary steps and aborts: moving a running canary's traffic share, or stopping it."""

from __future__ import annotations

import json

from sqlmodel import Session

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.state_check import prove_model
from console.errors import BadInput, NotFound
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.refs import check_model_name
from console.release.deployments import (
    StageChange,
    canary_request,
    clear_canary,
    record_stage_change,
    verify_artifact,
)
from console.release.policy import load_policy
from console.store.db import Store
from console.store.models import PromotionRequest, RegisteredModel, StageAssignment


def _running_canary(session: Session, model: str, stage: str) -> StageAssignment:
    check_model_name(model)
    if session.get(RegisteredModel, model) is None:
        raise NotFound(f"no model {model!r} in this store")
    row = session.get(StageAssignment, (model, stage))
    if row is None or row.canary_version is None:
        raise BadInput(f"no canary runs for {model} in {stage}")
    return row


def _acting_on_canary(
    session: Session, signer: Signer, model: str, stage: str
) -> tuple[StageAssignment, int, PromotionRequest]:
    """Who may move a canary, its rows proven by the log, and the canary with its request."""
    require_actor(session, signer, Permission.PROMOTE)
    prove_model(session, model)  # the canary's share and step, its request, the holder
    assignment = _running_canary(session, model, stage)
    version = assignment.canary_version
    assert version is not None
    return assignment, version, canary_request(session, model, stage, version)


def canary_step(store: Store, signer: Signer, model: str, stage: str) -> StageChange:
    """Move the canary to its next share; the last step makes it the stage's version."""
    load_policy(store).stage(stage)
    with store.session() as session:
        assignment, version, request = _acting_on_canary(session, signer, model, stage)
        plan: list[int] = json.loads(request.canary_plan)
        step = (assignment.canary_step or 0) + 1
        now = store.clock()
        if step >= len(plan) - 1 or plan[step] >= 100:
            verify_artifact(store, session, model, version)
            replaced = assignment.version
            assignment.version = version
            clear_canary(assignment)
            request.status = "promoted"
            request.closed_at = now
            request.closed_by = signer.name
            action, kind, share = actions.CANARY_COMPLETED, "canary.completed", 100
        else:
            replaced = None
            assignment.canary_share = plan[step]
            assignment.canary_step = step
            action, kind, share = actions.CANARY_STEP, "canary.step", plan[step]
        assignment.updated_at = now
        seq = record_stage_change(
            session,
            signer,
            action=action,
            kind=kind,
            model=model,
            stage=stage,
            version=version,
            replaced=replaced,
            now=now,
            request_id=request.id,
            extra={"canary_share": share},
        )
        session.add(assignment)
        session.add(request)
        return StageChange(model, stage, kind, version, replaced, share, seq)


def canary_abort(store: Store, signer: Signer, model: str, stage: str, reason: str) -> StageChange:
    """Stop a canary: all traffic returns to the stage's champion."""
    if not reason.strip():
        raise BadInput("an abort needs --reason")
    check_text("the reason", reason, multiline=True)
    load_policy(store).stage(stage)
    with store.session() as session:
        assignment, version, request = _acting_on_canary(session, signer, model, stage)
        now = store.clock()
        seq = record_stage_change(
            session,
            signer,
            action=actions.CANARY_ABORTED,
            kind="canary.aborted",
            model=model,
            stage=stage,
            version=version,
            replaced=None,
            now=now,
            request_id=request.id,
            reason=reason,
            extra={"champion": assignment.version},
        )
        clear_canary(assignment)
        assignment.updated_at = now
        request.status = "aborted"
        request.closed_at = now
        request.closed_by = signer.name
        session.add(assignment)
        session.add(request)
        return StageChange(model, stage, "canary.aborted", version, None, None, seq)
