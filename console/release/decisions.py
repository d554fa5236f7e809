"""Decisions on promotion requests: a signed approval or rejection over the evidence digest.

The rule (`decide_in`) is written against `WriteRows`, so the ORM's unit of work (`decide`) and
the CLI's driver-level DuckDB write (`console.store.write_rows`) run the same checks and store
the same rows and event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from audit.canonical import canonical_json
from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.append import append_event_rows
from console.errors import BadInput, NotFound, Refused
from console.freetext import check_text
from console.identity.actor import require_actor_rows
from console.release.approvals import DECISION_DOMAIN, read_request_approvals
from console.release.policy_rules import Policy
from console.release.quorum import duty_conflict
from console.release.request_reads import (
    OPEN,
    REQUEST_COLUMNS,
    RequestRow,
    RequestView,
    evidence_digest,
    read_evidence,
    read_log_time,
    read_request_view,
    stage_rules_of,
    status_at,
)
from console.store.rows import WriteRows

if TYPE_CHECKING:
    from console.store.db import Store

__all__ = ["DECISION_DOMAIN", "check_decision", "decide", "decide_in"]


def check_decision(decision: str, comment: str) -> None:
    """What is refused before the store is opened: the decision's name and its comment."""
    if decision not in ("approve", "reject"):
        raise BadInput(f"unknown decision {decision!r}")
    if not comment.strip():
        raise BadInput(f"a decision needs --comment saying why you {decision}")
    check_text("the comment", comment, multiline=True)


def decide(
    store: Store, signer: Signer, request_id: int, decision: str, comment: str
) -> RequestView:
    """Record a signed approval or rejection over the request's evidence digest."""
    from console.auditing.log import forget_head
    from console.release.policy import load_policy
    from console.store.rows import SessionRows

    check_decision(decision, comment)
    policy = load_policy(store)
    with store.session() as session:
        session.flush()
        try:
            rows = SessionRows(session.connection())
            return decide_in(rows, signer, policy, request_id, decision, comment, store.clock)
        finally:
            forget_head(session)  # the event went in by plain SQL: the session's head is old


def decide_in(
    rows: WriteRows,
    signer: Signer,
    policy: Policy,
    request_id: int,
    decision: str,
    comment: str,
    clock: Callable[[], str],
) -> RequestView:
    """The rule, inside the caller's write transaction: every check, then the decision's row,
    the request's closing (a rejection) and the signed event, together."""
    check_decision(decision, comment)
    found = rows.all(
        f"SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE id = :id", {"id": request_id}
    )
    if not found:
        raise NotFound(f"no request {request_id}; see `signoff requests`")
    row = RequestRow.of(found[0])
    # The request's status, earlier decisions and the user's rows are the log's (one pass).
    actor = require_actor_rows(rows, signer, model=row.model)
    stage = stage_rules_of(rows, policy, row.model, row.stage)
    now = read_log_time(rows, clock())
    status = status_at(row.status, row.expires_at, now)
    if status == "expired":
        raise Refused(f"request {request_id} expired at {row.expires_at}; open a new request")
    if status != OPEN:
        raise Refused(f"request {request_id} is {status}; only open requests take decisions")
    if actor.role not in stage.approver_roles:
        raise Refused(
            f"{actor.name} is {actor.role}; {row.stage} approvals need the role "
            + " or ".join(stage.approver_roles)
        )
    author = rows.all(
        "SELECT author FROM model_versions WHERE model = :model AND number = :version",
        {"model": row.model, "version": row.version},
    )
    assert author
    conflict = duty_conflict(actor.name, row.requester, str(author[0][0]))
    if stage.separation_of_duties and conflict:
        raise Refused(f"separation of duties: {actor.name} is the {conflict} and cannot decide")
    earlier = [a for a in read_request_approvals(rows, request_id) if a.approver == actor.name]
    if earlier:
        raise Refused(f"{actor.name} already decided on request {request_id}")
    plan = json.loads(row.canary_plan)
    current = evidence_digest(read_evidence(rows, policy, row.model, row.version, row.stage, plan))
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
    event = append_event_rows(
        rows,
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
    # The next id, as `console.store.keys.next_id` assigns it: the writer holds the store.
    last = rows.all("SELECT max(id) FROM approvals")[0][0]
    rows.execute(
        "INSERT INTO approvals (id, request_id, approver, role, decision, comment, "
        "evidence_digest, decided_at, keyid, statement, signature, void, void_reason, event_seq) "
        "VALUES (:id, :request_id, :approver, "
        ":role, :decision, :comment, :evidence_digest, :decided_at, :keyid, :statement, "
        ":signature, :void, :void_reason, :event_seq)",
        {
            "id": int(last or 0) + 1,
            "request_id": request_id,
            "approver": actor.name,
            "role": actor.role,
            "decision": decision,
            "comment": comment,
            "evidence_digest": row.evidence_digest,
            "decided_at": now,
            "keyid": signer.keyid,
            "statement": statement,
            "signature": signature,
            "void": False,
            "void_reason": "",
            "event_seq": event.seq,
        },
    )
    if decision == "reject":
        rows.execute(
            "UPDATE promotion_requests SET status = :status, closed_at = :now, "
            "closed_by = :actor WHERE id = :id",
            {"status": "rejected", "now": now, "actor": actor.name, "id": request_id},
        )
        row = RequestRow.of(
            rows.all(
                f"SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE id = :id",
                {"id": request_id},
            )[0]
        )
    # The log's time after the event: as `request_view` reads it in the unit of work.
    return read_request_view(rows, policy, read_log_time(rows, clock()), row)
