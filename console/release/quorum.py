"""Whose decision counts: separation of duties, quorum counting, and who may still decide a request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from console.release.approvals import ApprovalView
from console.release.policy_rules import StagePolicy

if TYPE_CHECKING:
    from console.release.request_reads import RequestView


class Requested(Protocol):
    """What quorum counting reads of a request: who opened it, over which evidence."""

    @property
    def requester(self) -> str: ...

    @property
    def evidence_digest(self) -> str: ...


def duty_conflict(person: str, requester: str, author: str) -> str | None:
    """Separation of duties: why `person` may not decide a request, or None if they may."""
    if person == author:
        return "author of the version"
    if person == requester:
        return "requester"
    return None


def counted_approvers(
    approvals: list[ApprovalView], row: Requested, stage: StagePolicy, author: str
) -> list[str]:
    """Distinct approvers whose approval counts toward the quorum right now."""
    people: list[str] = []
    for approval in approvals:
        if approval.decision != "approve" or approval.void:
            continue
        if approval.evidence_digest != row.evidence_digest:
            continue
        if approval.role not in stage.approver_roles:
            continue
        if stage.separation_of_duties and duty_conflict(approval.approver, row.requester, author):
            continue
        if approval.approver not in people:
            people.append(approval.approver)
    return people


@dataclass(frozen=True)
class QuorumCount:
    """Who counts toward a stage's quorum now, and which approvals are still missing."""

    counted: list[str]
    missing: list[tuple[str, int]]  # (role, or "reviewer or risk-officer", how many more)

    @property
    def missing_text(self) -> list[str]:
        return [f"{count} more approval(s) from {role}" for role, count in self.missing]


def count_quorum(
    approvals: list[ApprovalView], row: Requested, stage: StagePolicy, author: str
) -> QuorumCount:
    """Per-role quorums count each approver for the role they held when they decided; a plain
    quorum counts any approver role."""
    counted = counted_approvers(approvals, row, stage, author)
    if not stage.role_quorum:
        short = stage.approvals - len(counted)
        either = " or ".join(stage.approver_roles)
        return QuorumCount(counted, [(either, short)] if short > 0 else [])
    role_of = {a.approver: a.role for a in approvals if a.approver in counted}
    missing = []
    for role, count in stage.role_quorum:
        short = count - sum(1 for person in counted if role_of[person] == role)
        if short > 0:
            missing.append((role, short))
    return QuorumCount(counted, missing)


def voided(approval: ApprovalView, reason: str) -> ApprovalView:
    from dataclasses import replace

    return replace(approval, void=True, void_reason=reason)


def may_decide_now(view: RequestView, name: str, role: str, active: bool, author: str) -> bool:
    """Whether this user (an active one of an approver role, no party to it) may still decide."""
    if not active or role not in view.approver_roles:
        return False
    if any(a.approver == name for a in view.approvals):
        return False
    return duty_conflict(name, view.requester, author) is None
