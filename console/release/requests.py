"""Promotion requests: opened bound to their evidence, read with their quorum and gates, withdrawn."""

from __future__ import annotations

import json
from dataclasses import dataclass
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
from console.registry.lookup import require_model
from console.registry.refs import check_model_name
from console.release.approvals import ApprovalView
from console.release.evidence import approvals_for, evidence_digest, evidence_for
from console.release.gates import GateResult, evaluate_gates
from console.release.policy import Policy, StagePolicy, load_policy
from console.release.quorum import count_quorum, may_decide, voided
from console.release.retire import retired_in
from console.release.stage_order import check_stage_order
from console.release.tiers import model_tier, stage_rules
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import ModelVersion, PromotionRequest, StageAssignment, User

OPEN, CANARY = "open", "canary"


def parse_request_id(value: str) -> int:
    cleaned = value.strip().lstrip("#").removeprefix("R-").removeprefix("r-")
    if not cleaned.isdigit():
        raise BadInput(f"{value!r} is not a request number; see `signoff requests`")
    return int(cleaned)


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


@dataclass(frozen=True)
class RequestView:
    id: int
    model: str
    version: int
    stage: str
    requester: str
    comment: str
    created_at: str
    expires_at: str
    status: str
    evidence_digest: str
    evidence: dict[str, object]
    canary_plan: list[int]
    current_digest: str
    gates: list[GateResult]
    approvals: list[ApprovalView]
    counted: list[str]
    required: int
    approver_roles: list[str]
    needed: list[str]
    tier: str = ""
    quorum: str = ""
    # What the quorum still lacks, per role ("1 more approval(s) from risk-officer").
    missing_approvals: tuple[str, ...] = ()

    @property
    def evidence_changed(self) -> bool:
        return self.current_digest != self.evidence_digest

    @property
    def ready(self) -> bool:
        return self.status == OPEN and not self.needed

    def as_dict(self) -> dict[str, object]:
        data = {
            k: getattr(self, k)
            for k in self.__dataclass_fields__
            if k not in ("gates", "approvals")
        }
        data["gates"] = [g.as_dict() for g in self.gates]
        data["approvals"] = [a.as_dict() for a in self.approvals]
        data["evidence_changed"] = self.evidence_changed
        return data


def effective_status(row: PromotionRequest, now: str) -> str:
    if row.status == OPEN and now > row.expires_at:
        return "expired"
    return row.status


def _unless_revoked(session: Session, approval: ApprovalView) -> ApprovalView:
    """A pending request's approval stops counting once the identity that gave it is revoked."""
    user = session.get(User, approval.approver)
    if approval.void or (user is not None and user.active and user.added_seq < approval.event_seq):
        return approval
    return voided(approval, "approver revoked")


def request_view(
    store: Store, session: Session, policy: Policy, row: PromotionRequest
) -> RequestView:
    # The log's time, not the raw clock: a clock set back cannot revive an expired request.
    now = event_time(session, store.clock())
    stage = stage_rules(session, policy, row.model, row.stage)
    plan = json.loads(row.canary_plan)
    current = evidence_digest(
        evidence_for(session, policy, row.model, row.version, row.stage, plan)
    )
    version = session.get(ModelVersion, (row.model, row.version))
    approvals = approvals_for(session, row.id)
    status = effective_status(row, now)
    if status == OPEN:  # once executed, a decision stays what it was when made
        approvals = [_unless_revoked(session, a) for a in approvals]
    quorum = count_quorum(approvals, row, stage, version.author if version else "")
    gates = evaluate_gates(store, session, stage, row.model, row.version)
    needed: list[str] = []
    if status == OPEN:
        if current != row.evidence_digest:
            needed.append(
                "the evidence changed since the request (approvals void): open a new request"
            )
        if retired_in(session, row.model).covers(row.version):
            needed.append(f"{row.model}:{row.version} is retired: withdraw this request")
        needed.extend(quorum.missing_text)
        needed.extend(f"gate {g.name}: {g.detail}" for g in gates if not g.passed)
    return RequestView(
        id=row.id,
        model=row.model,
        version=row.version,
        stage=row.stage,
        requester=row.requester,
        comment=row.comment,
        created_at=row.created_at,
        expires_at=row.expires_at,
        status=status,
        evidence_digest=row.evidence_digest,
        evidence=json.loads(row.evidence),
        canary_plan=plan,
        current_digest=current,
        gates=gates,
        approvals=approvals,
        counted=quorum.counted,
        required=stage.approvals,
        approver_roles=list(stage.approver_roles),
        needed=needed,
        tier=model_tier(session, row.model) or "",
        quorum=stage.quorum_text,
        missing_approvals=tuple(quorum.missing_text),
    )


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
    check_text("the reason", reason, multiline=True)
    policy = load_policy(store)
    with store.session() as session:
        row = load_request(session, request_id)
        actor = require_actor(session, signer)
        if actor.name != row.requester:
            raise Refused(f"only {row.requester}, who opened request {request_id}, may withdraw it")
        now = event_time(session, store.clock())
        if effective_status(row, now) not in (OPEN,):
            raise BadInput(
                f"request {request_id} is {effective_status(row, now)}; nothing to withdraw"
            )
        append_event(
            session,
            signer,
            actions.PROMOTION_WITHDRAWN,
            f"request:{request_id}",
            {"request": request_id, "reason": reason},
            ts=now,
            model=row.model,
        )
        row.status = "withdrawn"
        row.closed_at = now
        row.closed_by = actor.name
        session.add(row)
        session.flush()
        return request_view(store, session, policy, row)


def get_request(store: Store, request_id: int) -> RequestView:
    policy = load_policy(store)
    with store.session() as session:
        return request_view(store, session, policy, load_request(session, request_id))


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
        query = select(PromotionRequest)
        if model is not None:
            require_model(session, model)
            query = query.where(PromotionRequest.model == model)
        if mine:
            query = query.where(PromotionRequest.requester == mine)
        if pending or awaiting:
            query = query.where(PromotionRequest.status == OPEN)
        rows = session.exec(query.order_by(col(PromotionRequest.id).desc())).all()
        views = [request_view(store, session, policy, r) for r in rows]
        if pending or awaiting:
            views = [v for v in views if v.status == OPEN]
        if awaiting:
            user = session.get(User, awaiting)
            if user is None:
                return []
            views = [v for v in views if may_decide(session, v, user)]
        return views
