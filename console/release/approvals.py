"""Reviewers' signed decisions as the faces read them, in plain SQL (console and CLI alike)."""

from __future__ import annotations

from dataclasses import dataclass

from console.store.rows import Row, Rows

DECISION_DOMAIN = b"signoff/decision/v1\n"  # what a decision's signature is made over, first

APPROVAL_COLUMNS = (
    "a.id, a.request_id, a.approver, a.role, a.decision, a.comment, a.evidence_digest, "
    "a.decided_at, a.keyid, a.statement, a.signature, a.void, a.void_reason, a.event_seq"
)


@dataclass(frozen=True)
class ApprovalView:
    id: int
    request_id: int
    approver: str
    role: str
    decision: str
    comment: str
    evidence_digest: str
    decided_at: str
    keyid: str
    statement: bytes
    signature: bytes
    void: bool
    void_reason: str
    event_seq: int

    def as_dict(self) -> dict[str, object]:
        data = {
            k: getattr(self, k)
            for k in self.__dataclass_fields__
            if k not in ("statement", "signature")
        }
        data["signature"] = self.signature.hex()
        return data


def approval_view(row: Row) -> ApprovalView:
    """A view of one row of APPROVAL_COLUMNS."""
    (id_, request_id, approver, role, decision, comment, digest, decided_at, keyid) = row[:9]
    statement, signature, void, void_reason, event_seq = row[9:]
    return ApprovalView(
        int(id_),
        int(request_id),
        approver,
        role,
        decision,
        comment,
        digest,
        decided_at,
        keyid,
        bytes(statement),
        bytes(signature),
        bool(void),
        void_reason,
        int(event_seq),
    )


def read_model_approvals(rows: Rows, model: str, version: int | None = None) -> list[ApprovalView]:
    """Every decision on requests of a model (or one version), oldest first, in one query."""
    where = "r.model = :model"
    params: dict[str, object] = {"model": model}
    if version is not None:
        where += " AND r.version = :version"
        params["version"] = version
    found = rows.all(
        f"SELECT {APPROVAL_COLUMNS} FROM approvals a JOIN promotion_requests r "
        f"ON r.id = a.request_id WHERE {where} ORDER BY a.request_id, a.id",
        params,
    )
    return [approval_view(row) for row in found]


def read_request_approvals(rows: Rows, request_id: int) -> list[ApprovalView]:
    """The decisions on one request, oldest first."""
    found = rows.all(
        f"SELECT {APPROVAL_COLUMNS} FROM approvals a WHERE a.request_id = :request ORDER BY a.id",
        {"request": request_id},
    )
    return [approval_view(row) for row in found]
