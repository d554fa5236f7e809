"""A requester withdraws their open request: the rule written once, for the ORM's unit of work and
the CLI's driver-level DuckDB write alike (`console.store.rows.WriteRows`)."""

from __future__ import annotations

from collections.abc import Callable

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.append import append_event_rows
from console.errors import BadInput, NotFound, Refused
from console.freetext import check_text
from console.identity.actor import require_actor_rows
from console.release.policy_rules import Policy
from console.release.request_reads import (
    OPEN,
    REQUEST_COLUMNS,
    RequestRow,
    RequestView,
    read_log_time,
    read_request_view,
    status_at,
)
from console.store.rows import WriteRows


def check_reason(reason: str) -> None:
    """What is refused before the store is opened: a reason with control characters."""
    check_text("the reason", reason, multiline=True)


def _request(rows: WriteRows, request_id: int) -> RequestRow:
    found = rows.all(
        f"SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE id = :id", {"id": request_id}
    )
    if not found:
        raise NotFound(f"no request {request_id}; see `signoff requests`")
    return RequestRow.of(found[0])


def withdraw_in(
    rows: WriteRows,
    signer: Signer,
    policy: Policy,
    request_id: int,
    reason: str,
    clock: Callable[[], str],
) -> RequestView:
    """Inside the caller's write transaction: only the requester, only an open request; the
    request's closing and its signed event together."""
    check_reason(reason)
    row = _request(rows, request_id)
    actor = require_actor_rows(rows, signer)
    if actor.name != row.requester:
        raise Refused(f"only {row.requester}, who opened request {request_id}, may withdraw it")
    now = read_log_time(rows, clock())
    status = status_at(row.status, row.expires_at, now)
    if status != OPEN:
        raise BadInput(f"request {request_id} is {status}; nothing to withdraw")
    append_event_rows(
        rows,
        signer,
        actions.PROMOTION_WITHDRAWN,
        f"request:{request_id}",
        {"request": request_id, "reason": reason},
        ts=now,
        model=row.model,
    )
    rows.execute(
        "UPDATE promotion_requests SET status = :status, closed_at = :now, "
        "closed_by = :actor WHERE id = :id",
        {"status": "withdrawn", "now": now, "actor": actor.name, "id": request_id},
    )
    # The log's time after the event: as `request_view` reads it in the unit of work.
    return read_request_view(rows, policy, read_log_time(rows, clock()), _request(rows, request_id))
