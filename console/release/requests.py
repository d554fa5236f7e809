"""Promotion requests: opened bound to their evidence, read with their quorum and gates, withdrawn."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from audit.canonical import canonical_json
from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event, event_time
from console.errors import BadInput, NotFound, Refused
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.refs import check_model_name
from console.release.evidence import evidence_digest, evidence_for
from console.release.gates import evaluate_gates
from console.release.policy import Policy, StagePolicy, load_policy
from console.release.request_reads import CANARY as CANARY
from console.release.request_reads import OPEN as OPEN
from console.release.request_reads import (
    RequestRow,
    read_log_time,
    read_request_view,
    read_requests,
    status_at,
)
from console.release.request_reads import RequestView as RequestView
from console.release.request_reads import parse_request_id as parse_request_id
from console.release.stage_order import check_stage_order
from console.release.tiers import stage_rules
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import ModelVersion, PromotionRequest, StageAssignment
from console.store.rows import SessionRows, session_rows


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")


def _format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canary_plan(stage: StagePolicy, first: int | None) -> list[int]:
    """The shares a promotion goes through; [] promotes at once."""
    if first is None:
        return (
            list(stage.canary_steps) if stage.canary_steps and stage.canary_steps[0] < 100 else []
        )
    if not 0 < first <= 100:
        raise BadInput(f"--canary {first} is not a percentage between 1 and 100")
    if first == 100:
        return []
    later = [s for s in stage.canary_steps if s > first]
    return [first, *later] if later and later[-1] == 100 else [first, *later, 100]


def effective_status(row: PromotionRequest, now: str) -> str:
    return status_at(row.status, row.expires_at, now)


def request_view(
    store: Store, session: Session, policy: Policy, row: PromotionRequest
) -> RequestView:
    """`read_request_view` of a request this unit of work holds (perhaps just written)."""
    # The log's time, not the raw clock: a clock set back cannot revive an expired request.
    now = event_time(session, store.clock())
    stored = RequestRow(
        row.id,
        row.model,
        row.version,
        row.stage,
        row.requester,
        row.comment,
        row.created_at,
        row.expires_at,
        row.status,
        row.evidence_digest,
        row.evidence,
        row.canary_plan,
    )
    return read_request_view(session_rows(session), policy, now, stored)


def request_promotion(
    store: Store,
    signer: Signer,
    model: str,
    version: int,
    stage_name: str,
    comment: str,
    canary: int | None = None,
) -> RequestView:
    """Open a request bound to the evidence digest; gates are evaluated and shown at once."""
    check_model_name(model)
    if not comment.strip():
        raise BadInput("a request needs --comment saying why this version should move")
    check_text("the comment", comment, multiline=True)
    from console.auditing.state_check import prove_model  # it imports this module

    policy = load_policy(store)
    policy.stage(stage_name)  # BadInput naming the policy's stages
    with store.session() as session:
        require_actor(session, signer, Permission.REQUEST)
        if session.get(ModelVersion, (model, version)) is None:
            raise NotFound(f"model {model!r} has no version {version}; see `signoff show {model}`")
        prove_model(session, model)  # the tier whose rules bind the request is the log's
        stage = stage_rules(session, policy, model, stage_name)
        plan = canary_plan(stage, canary)
        check_stage_order(session, policy, model, version, stage.name)
        now = event_time(session, store.clock())
        for other in session.exec(
            select(PromotionRequest).where(
                PromotionRequest.model == model,
                PromotionRequest.version == version,
                PromotionRequest.stage == stage.name,
                col(PromotionRequest.status).in_([OPEN, CANARY]),
            )
        ).all():
            if effective_status(other, now) in (OPEN, CANARY):
                raise BadInput(
                    f"request {other.id} for {model}:{version} to {stage.name} is already "
                    f"{other.status}; withdraw it first or act on it"
                )
        plan = _first_deployment(session, model, stage.name, plan, asked=canary is not None)
        evidence = evidence_for(session, policy, model, version, stage.name, plan)
        digest = evidence_digest(evidence)
        gates = evaluate_gates(store, session, stage, model, version)
        request_id = next_id(session, PromotionRequest)
        expires = _format_time(_parse_time(now) + timedelta(hours=stage.approval_ttl_hours))
        event = append_event(
            session,
            signer,
            actions.PROMOTION_REQUESTED,
            f"request:{request_id}",
            {
                "request": request_id,
                "model": model,
                "version": version,
                "stage": stage.name,
                "comment": comment,
                "evidence": evidence,
                "evidence_digest": digest,
                "canary_plan": plan,
                "expires_at": expires,
                "gates": [g.as_dict() for g in gates],
            },
            ts=now,
            model=model,
        )
        row = PromotionRequest(
            id=request_id,
            model=model,
            version=version,
            stage=stage.name,
            requester=signer.name,
            comment=comment,
            created_at=now,
            expires_at=expires,
            status=OPEN,
            evidence_digest=digest,
            evidence=canonical_json(evidence).decode(),
            canary_plan=canonical_json(plan).decode(),
            policy_digest=policy.digest,
            validation_run_id=evidence["validation_run"],  # type: ignore[arg-type]
            event_seq=event.seq,
        )
        session.add(row)
        session.flush()
        return request_view(store, session, policy, row)


def _first_deployment(
    session: Session, model: str, stage: str, plan: list[int], *, asked: bool
) -> list[int]:
    """A stage holding no version has no champion to compare a canary with: it goes direct."""
    holder = session.get(StageAssignment, (model, stage))
    if not plan or (holder is not None and holder.version is not None):
        return plan
    if asked:
        raise Refused(
            f"{stage} of {model} holds no version: a canary needs a champion to compare with; "
            "the first deployment is direct (request it without --canary)"
        )
    return []


def load_request(session: Session, request_id: int) -> PromotionRequest:
    row = session.get(PromotionRequest, request_id)
    if row is None:
        raise NotFound(f"no request {request_id}; see `signoff requests`")
    return row


def withdraw(store: Store, signer: Signer, request_id: int, reason: str = "") -> RequestView:
    """The requester withdraws an open request (`withdrawal.withdraw_in`, in a unit of work)."""
    from console.auditing.log import forget_head
    from console.release.withdrawal import check_reason, withdraw_in

    check_reason(reason)
    policy = load_policy(store)
    with store.session() as session:
        try:
            rows = session_rows(session)
            return withdraw_in(rows, signer, policy, request_id, reason, store.clock)
        finally:
            forget_head(session)  # the event went in by plain SQL: the session's head is old


def get_request(store: Store, request_id: int) -> RequestView:
    from console.release.request_reads import read_request

    policy = load_policy(store)
    with store.session() as session:
        rows = SessionRows(session.connection())
        return read_request(rows, policy, read_log_time(rows, store.clock()), request_id)


def list_requests(
    store: Store,
    *,
    mine: str | None = None,
    pending: bool = False,
    awaiting: str | None = None,
    model: str | None = None,
) -> list[RequestView]:
    """Requests, newest first; `awaiting` = open requests this user may still decide."""
    policy = load_policy(store)
    with store.session() as session:
        rows = SessionRows(session.connection())
        now = read_log_time(rows, store.clock())
        return read_requests(
            rows, policy, now, mine=mine, pending=pending, awaiting=awaiting, model=model
        )
