"""A model's risk tier: which tier rules of the policy apply to it, changed only by a signed event."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event, event_time
from console.errors import BadInput
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.lookup import require_model
from console.registry.refs import check_model_name
from console.release.policy import Policy, StagePolicy, load_policy
from console.store.db import Store
from console.store.models import RegisteredModel


@dataclass(frozen=True)
class TierChange:
    model: str
    tier: str
    previous_tier: str
    event_seq: int


def model_tier(session: Session, model: str) -> str | None:
    row = session.get(RegisteredModel, model)
    return row.risk_tier if row is not None else None


def stage_rules(session: Session, policy: Policy, model: str, stage: str) -> StagePolicy:
    """The rules a promotion of this model to `stage` meets: its tier's rule, else the stage's."""
    return policy.stage_for(stage, model_tier(session, model))


def check_tier(policy: Policy, tier: str) -> None:
    if tier not in policy.tiers:
        raise BadInput(
            f"unknown risk tier {tier!r}; the policy's tiers are {', '.join(policy.tiers)}"
        )


def set_model_tier(store: Store, signer: Signer, model: str, tier: str, reason: str) -> TierChange:
    """Move a model to another risk tier (a holder of set-tier; signed, with the reason).

    Open requests are judged by the new tier's rules from now on."""
    from console.auditing.state_check import prove_model

    check_model_name(model)
    if not reason.strip():
        raise BadInput("a tier change needs --reason saying why the model's risk changed")
    check_text("the reason", reason, multiline=True)
    policy = load_policy(store)
    check_tier(policy, tier)
    with store.session() as session:
        require_actor(session, signer, Permission.SET_TIER)
        require_model(session, model)
        prove_model(session, model)  # the tier it changes is the log's
        row = session.get(RegisteredModel, model)
        assert row is not None
        if row.risk_tier == tier:
            raise BadInput(f"{model} is already of risk tier {tier}")
        previous = row.risk_tier
        event = append_event(
            session,
            signer,
            actions.MODEL_TIER_CHANGED,
            model,
            {"model": model, "tier": tier, "previous_tier": previous, "reason": reason},
            ts=event_time(session, store.clock()),
            model=model,
        )
        row.risk_tier = tier
        session.add(row)
        return TierChange(model, tier, previous, event.seq)
