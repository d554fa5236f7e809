"""Names a read command was given, checked against the store: unknown is bad input, not "none"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from console.errors import BadInput, NotFound

if TYPE_CHECKING:
    from sqlmodel import Session

    from console.store.rows import Rows


def require_model(session: Session, name: str) -> None:
    """A model the registry holds; a typo must not read as "nothing happened to it"."""
    from console.store.models import RegisteredModel

    if session.get(RegisteredModel, name) is None:
        raise NotFound(f"no model {name!r} in this store; see `signoff models`")


def require_stage(session: Session, model: str, stage: str, policy_stages: Iterable[str]) -> None:
    """A stage of the policy, or one the model's history names (a policy may have changed)."""
    from console.store.rows import SessionRows

    check_stage(SessionRows(session.connection()), model, stage, policy_stages)


def check_stage(rows: Rows, model: str, stage: str, policy_stages: Iterable[str]) -> None:
    """`require_stage` on plain rows."""
    known = list(policy_stages)
    if stage in known:
        return
    for table in ("promotion_requests", "deployments"):
        if rows.all(
            f"SELECT stage FROM {table} WHERE model = :model AND stage = :stage LIMIT 1",
            {"model": model, "stage": stage},
        ):
            return
    raise BadInput(f"unknown stage {stage!r}; the policy's stages are {', '.join(known)}")


__all__ = ["check_stage", "require_model", "require_stage"]
