"""Promotion requests as reviewers read them, in plain SQL: evidence, gates, quorum, what is needed.

The services build a `RequestView` here inside their unit of work (`SessionRows`), and the
read commands (`requests`, `show-request`) on the DuckDB driver alone (`Invocation.rows()`):
one read model, whichever connection it runs on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from audit.canonical import canonical_json
from audit.times import next_event_time
from console.errors import BadInput, NotFound
from console.release.approvals import ApprovalView, read_request_approvals
from console.release.gates import GateResult, read_gates
from console.release.policy_rules import Policy, StagePolicy
from console.release.quorum import count_quorum, may_decide_now, voided
from console.release.retired import retirements_in
from console.release.validation_reads import read_latest_validation
from console.store.rows import Row, Rows

OPEN, CANARY = "open", "canary"
REQUEST_COLUMNS = (
    "id, model, version, stage, requester, comment, created_at, expires_at, status, "
    "evidence_digest, evidence, canary_plan"
)


def parse_request_id(value: str) -> int:
    cleaned = value.strip().lstrip("#").removeprefix("R-").removeprefix("r-")
    if not cleaned.isdigit():
        raise BadInput(f"{value!r} is not a request number; see `signoff requests`")
    return int(cleaned)


@dataclass(frozen=True)
class RequestRow:
    """The stored columns of a request a view is built from (REQUEST_COLUMNS, in order)."""

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
    evidence: str
    canary_plan: str

    @classmethod
    def of(cls, row: Row) -> RequestRow:
        id_, model, version, *rest = row
        return cls(int(id_), model, int(version), *rest)


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


def status_at(status: str, expires_at: str, now: str) -> str:
    """A request's status at `now`: an open one past its expiry is expired."""
    if status == OPEN and now > expires_at:
        return "expired"
    return status


def evidence_digest(evidence: dict[str, object]) -> str:
    return hashlib.sha256(canonical_json(evidence)).hexdigest()


def read_evidence(
    rows: Rows, policy: Policy, model: str, version: int, stage: str, plan: list[int]
) -> dict[str, object]:
    """What reviewers approve: artifact, latest validation report, policy, stage, canary plan."""
    found = rows.all(
        "SELECT artifact_sha256 FROM model_versions WHERE model = :model AND number = :version",
        {"model": model, "version": version},
    )
    if not found:
        raise NotFound(f"model {model!r} has no version {version}")
    run = read_latest_validation(rows, model, version)
    return {
        "model": model,
        "version": version,
        "artifact_sha256": found[0][0],
        "validation_report_sha256": run.report_sha256 if run else None,
        "validation_run": run.id if run else None,
        "policy_sha256": policy.digest,
        "stage": stage,
        "canary_plan": plan,
    }


def read_log_time(rows: Rows, proposed: str) -> str:
    """The time the next event would carry (`event_time`): the log's clock never runs back."""
    last = rows.all("SELECT ts FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)")
    return next_event_time(proposed, str(last[0][0]) if last else None)


def model_tier_of(rows: Rows, model: str) -> str | None:
    found = rows.all("SELECT risk_tier FROM models WHERE name = :model", {"model": model})
    return found[0][0] if found else None


def stage_rules_of(rows: Rows, policy: Policy, model: str, stage: str) -> StagePolicy:
    """The rules a promotion of this model to `stage` meets: its tier's rule, else the stage's."""
    return policy.stage_for(stage, model_tier_of(rows, model))


def _author(rows: Rows, model: str, version: int) -> str:
    found = rows.all(
        "SELECT author FROM model_versions WHERE model = :model AND number = :version",
        {"model": model, "version": version},
    )
    return found[0][0] if found else ""


def _unless_revoked(rows: Rows, approval: ApprovalView) -> ApprovalView:
    """A pending request's approval stops counting once the identity that gave it is revoked."""
    found = rows.all(
        "SELECT active, added_seq FROM users WHERE name = :name", {"name": approval.approver}
    )
    if approval.void or (found and found[0][0] and int(found[0][1]) < approval.event_seq):
        return approval
    return voided(approval, "approver revoked")


def read_request_view(rows: Rows, policy: Policy, now: str, row: RequestRow) -> RequestView:
    """One request as reviewers see it at `now` (the log's time, from `read_log_time`)."""
    stage = stage_rules_of(rows, policy, row.model, row.stage)
    plan = json.loads(row.canary_plan)
    current = evidence_digest(read_evidence(rows, policy, row.model, row.version, row.stage, plan))
    approvals = read_request_approvals(rows, row.id)
    status = status_at(row.status, row.expires_at, now)
    if status == OPEN:  # once executed, a decision stays what it was when made
        approvals = [_unless_revoked(rows, a) for a in approvals]
    quorum = count_quorum(approvals, row, stage, _author(rows, row.model, row.version))
    gates = read_gates(rows, stage, row.model, row.version)
    needed: list[str] = []
    if status == OPEN:
        if current != row.evidence_digest:
            needed.append(
                "the evidence changed since the request (approvals void): open a new request"
            )
        retired = retirements_in(rows, [row.model]).get(row.model)
        if retired is not None and retired.covers(row.version):
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
        tier=model_tier_of(rows, row.model) or "",
        quorum=stage.quorum_text,
        missing_approvals=tuple(quorum.missing_text),
    )


def read_request(rows: Rows, policy: Policy, now: str, request_id: int) -> RequestView:
    found = rows.all(
        f"SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE id = :id", {"id": request_id}
    )
    if not found:
        raise NotFound(f"no request {request_id}; see `signoff requests`")
    return read_request_view(rows, policy, now, RequestRow.of(found[0]))


def read_requests(
    rows: Rows,
    policy: Policy,
    now: str,
    *,
    mine: str | None = None,
    pending: bool = False,
    awaiting: str | None = None,
    model: str | None = None,
) -> list[RequestView]:
    """Requests, newest first; `awaiting` = open requests this user may still decide."""
    where: list[str] = []
    if model is not None:
        if not rows.all("SELECT 1 FROM models WHERE name = :model", {"model": model}):
            raise NotFound(f"no model {model!r} in this store; see `signoff models`")
        where.append("model = :model")
    if mine:
        where.append("requester = :mine")
    if pending or awaiting:
        where.append("status = :open")
    found = rows.all(
        f"SELECT {REQUEST_COLUMNS} FROM promotion_requests"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY id DESC",
        {"model": model, "mine": mine, "open": OPEN},
    )
    views = [read_request_view(rows, policy, now, RequestRow.of(r)) for r in found]
    if pending or awaiting:
        views = [v for v in views if v.status == OPEN]
    if awaiting:
        user = rows.all("SELECT role, active FROM users WHERE name = :name", {"name": awaiting})
        if not user:
            return []
        role, active = user[0]
        views = [
            v
            for v in views
            if may_decide_now(v, awaiting, role, bool(active), _author(rows, v.model, v.version))
        ]
    return views
