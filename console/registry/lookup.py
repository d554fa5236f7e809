"""Names a read command was given, checked against the store: unknown is bad input, not "none"."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from console.errors import BadInput, NotFound
from console.store.models import Deployment, PromotionRequest, RegisteredModel


def require_model(session: Session, name: str) -> None:
    """A model the registry holds; a typo must not read as "nothing happened to it"."""
    if session.get(RegisteredModel, name) is None:
        raise NotFound(f"no model {name!r} in this store; see `signoff models`")


def require_stage(session: Session, model: str, stage: str, policy_stages: Iterable[str]) -> None:
    """A stage of the policy, or one the model's history names (a policy may have changed)."""
    known = list(policy_stages)
    if stage in known:
        return
    for table in (PromotionRequest, Deployment):
        found = session.exec(
            select(table.stage).where(table.model == model, table.stage == stage).limit(1)
        ).first()
        if found is not None:
            return
    raise BadInput(f"unknown stage {stage!r}; the policy's stages are {', '.join(known)}")


__all__ = ["require_model", "require_stage"]
