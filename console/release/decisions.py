"""Decisions on promotion requests: a signed approval or rejection over the evidence digest."""

from __future__ import annotations

import hashlib
import json

from audit.canonical import canonical_json
from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event, event_time
from console.errors import BadInput, Refused
from console.freetext import check_text
from console.identity.actor import require_actor
from console.release.evidence import approvals_for, evidence_digest, evidence_for
from console.release.policy import load_policy
from console.release.quorum import duty_conflict
from console.release.requests import (
    OPEN,
    RequestView,
    effective_status,
    load_request,
    request_view,
)
from console.release.tiers import stage_rules
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import ModelVersion

DECISION_DOMAIN = b"signoff/decision/v1\n"


def decide(
    store: Store, signer: Signer, request_id: int, decision: str, comment: str
) -> RequestView:
    """Record a signed approval or rejection over the request's evidence digest."""
    if decision not in ("approve", "reject"):
        raise BadInput(f"unknown decision {decision!r}")
    if not comment.strip():
        raise BadInput(f"a decision needs --comment saying why you {decision}")
    check_text("the comment", comment, multiline=True)
    policy = load_policy(store)
    from console.auditing.state_check import prove_model  # it imports this module

    with store.session() as session:
        row = load_request(session, request_id)
        prove_model(session, row.model)  # the request's status and earlier decisions
        stage = stage_rules(session, policy, row.model, row.stage)
        actor = require_actor(session, signer)
        now = event_time(session, store.clock())
        status = effective_status(row, now)
        if status == "expired":
            raise Refused(f"request {request_id} expired at {row.expires_at}; open a new request")
        if status != OPEN:
            raise Refused(f"request {request_id} is {status}; only open requests take decisions")
        if actor.role not in stage.approver_roles:
            raise Refused(
                f"{actor.name} is {actor.role}; {row.stage} approvals need the role "
                + " or ".join(stage.approver_roles)
            )
        version = session.get(ModelVersion, (row.model, row.version))
        assert version is not None
        conflict = duty_conflict(actor.name, row.requester, version.author)
        if stage.separation_of_duties and conflict:
            raise Refused(f"separation of duties: {actor.name} is the {conflict} and cannot decide")
        earlier = [a for a in approvals_for(session, request_id) if a.approver == actor.name]
        if earlier:
            raise Refused(f"{actor.name} already decided on request {request_id}")
        plan = json.loads(row.canary_plan)
        current = evidence_digest(
            evidence_for(session, policy, row.model, row.version, row.stage, plan)
        )
        if current != row.evidence_digest:
            raise Refused(
                f"the evidence of request {request_id} changed since it was opened (new "
                "validation run or policy); its approvals are void: open a new request"
            )
        statement = canonical_json(
            {
                "request": request_id,
                "model": row.model,
                "version": row.version,
                "stage": row.stage,
                "evidence_digest": row.evidence_digest,
                "decision": decision,
                "comment": comment,
                "approver": actor.name,
                "role": actor.role,
                "decided_at": now,
            }
        )
        signature = signer.sign(DECISION_DOMAIN + statement)
        action = actions.PROMOTION_APPROVED if decision == "approve" else actions.PROMOTION_REJECTED
        event = append_event(
            session,
            signer,
            action,
            f"request:{request_id}",
            {
                "request": request_id,
                "decision": decision,
                "evidence_digest": row.evidence_digest,
                "comment": comment,
                "role": actor.role,
                "statement_sha256": hashlib.sha256(statement).hexdigest(),
                "signature": signature.hex(),
            },
            ts=now,
            model=row.model,
        )
        from console.store.models import Approval

        session.add(
            Approval(
                id=next_id(session, Approval),
                request_id=request_id,
                approver=actor.name,
                role=actor.role,
                decision=decision,
                comment=comment,
                evidence_digest=row.evidence_digest,
                decided_at=now,
                keyid=signer.keyid,
                statement=statement,
                signature=signature,
                event_seq=event.seq,
            )
        )
        if decision == "reject":
            row.status = "rejected"
            row.closed_at = now
            row.closed_by = actor.name
            session.add(row)
        session.flush()
        return request_view(store, session, policy, row)
