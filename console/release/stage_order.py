"""Stage order: a version climbs the policy's stages in order, skipping only those marked may_skip."""

from __future__ import annotations

from sqlmodel import Session, select

from console.errors import BadInput, Refused
from console.release.policy import Policy
from console.release.retire import refuse_retired
from console.release.tiers import model_tier
from console.store.models import StageAssignment


def stages_held(session: Session, model: str, version: int) -> list[str]:
    rows = session.exec(select(StageAssignment).where(StageAssignment.model == model)).all()
    return [r.stage for r in rows if r.version == version]


def check_stage_order(
    session: Session, policy: Policy, model: str, version: int, stage: str
) -> None:
    """Refuse skipping a stage the policy does not allow to skip, and a retired version."""
    refuse_retired(session, model, version)
    names = policy.stage_names
    index = names.index(policy.stage(stage).name)
    held = set(stages_held(session, model, version))
    tier = model_tier(session, model)
    if stage in held:
        raise BadInput(f"{model}:{version} already holds {stage}")
    for earlier in reversed(names[:index]):
        if earlier in held:
            return
        if not policy.stage_for(earlier, tier).may_skip:
            raise Refused(
                f"{model}:{version} must hold {earlier} before {stage}; the policy does not "
                f"allow skipping {earlier}"
            )
