"""What `policy set` holds a new policy to beyond its syntax: a bank's minimum, and people."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from console.errors import BadInput, Refused
from console.release.policy_rules import Policy, StagePolicy

if TYPE_CHECKING:
    from sqlmodel import Session

    from console.store.db import Store


def rules_of(policy: Policy) -> list[StagePolicy]:
    """Every stage rule a model may meet: each stage's own, then each tier's."""
    return [*policy.stages, *policy.tier_stages]


def where(rule: StagePolicy) -> str:
    """The policy section a rule comes from, as messages name it."""
    return f"[tier.{rule.tier}.stage.{rule.name}]" if rule.tier else f"[stage.{rule.name}]"


def refuse_weak_rules(policy: Policy, source: str) -> None:
    """A version reaches the serving stage only with someone's approval, whatever its tier.

    Checked when a policy is set, not when one is read: a log may hold older policies."""
    for rule in rules_of(policy):
        if rule.name == policy.last_stage and rule.approvals < 1:
            raise BadInput(
                f"{source}: {where(rule)} allows promotion to {rule.name}, the serving stage, "
                "with no approval; give it approvals >= 1"
            )


def refuse_dropping_held_tiers(session: Session, policy: Policy) -> None:
    """A tier some model has cannot leave the policy: change those models' tier first."""
    from sqlmodel import col, select

    from console.store.models import RegisteredModel

    held = session.exec(
        select(RegisteredModel)
        .where(col(RegisteredModel.risk_tier).not_in(policy.tiers))
        .order_by(col(RegisteredModel.name))
    ).all()
    if held:
        first = held[0]
        more = f" and {len(held) - 1} more" if len(held) > 1 else ""
        raise Refused(
            f"the new policy's tiers {list(policy.tiers)} drop {first.risk_tier!r}, the tier of "
            f"{first.name}{more}; change their tier first (`signoff model set-tier`)"
        )


def unmet_quorums(store: Store, policy: Policy) -> list[str]:
    """Quorums the active registered users cannot meet, one line each (a warning, not a refusal:
    the admin may add the people next)."""
    from sqlmodel import col, select

    from console.store.models import User

    with store.session() as session:
        roles = Counter(session.exec(select(User.role).where(col(User.active).is_(True))).all())
    lines: list[str] = []
    for rule in rules_of(policy):
        if rule.role_quorum:
            for role, count in rule.role_quorum:
                if roles[role] < count:
                    lines.append(
                        f"{where(rule)} needs {count} {role} approval(s); the store has "
                        f"{roles[role]} active {role}"
                    )
        else:
            eligible = sum(roles[role] for role in rule.approver_roles)
            if eligible < rule.approvals:
                lines.append(
                    f"{where(rule)} needs {rule.approvals} approval(s) from "
                    f"{' or '.join(rule.approver_roles)}; the store has {eligible} active"
                )
    return lines
