"""The policy the store keeps: the text in force, its digest checked on load, its audited replacement."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from console.errors import BadInput
from console.release.policy_monitoring import (
    DEFAULT_RETRAIN_TRIGGERS,
    RETRAIN_TRIGGERS,
    WINDOW_PATTERN,
)
from console.release.policy_parsing import KNOWN_GATES, _require_stated_stages, parse_policy
from console.release.policy_rules import Policy, StagePolicy

if TYPE_CHECKING:
    from sqlmodel import Session

    from audit.keys import Signer
    from console.store.db import Store
    from console.store.models import PolicyText
    from console.store.rows import Rows

# Re-exported: the services and tests read the policy's names from here.
__all__ = [
    "DEFAULT_RETRAIN_TRIGGERS",
    "KNOWN_GATES",
    "RETRAIN_TRIGGERS",
    "WINDOW_PATTERN",
    "Policy",
    "StagePolicy",
    "default_policy_row",
    "default_policy_text",
    "load_policy",
    "parse_policy",
    "policy_text",
    "read_policy",
    "set_policy",
]


def default_policy_text() -> str:
    return (Path(__file__).parent / "default_policy.toml").read_text(encoding="utf-8")


def default_policy_row(recorded_at: str) -> PolicyText:
    """The default policy as the store keeps it (written by `init`)."""
    from console.store.models import PolicyText

    text = default_policy_text()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return PolicyText(sha256=digest, text=text, recorded_at=recorded_at)


def policy_text(store: Store) -> str | None:
    """The text of the policy in force as stored, unchecked (None when it is missing)."""
    from console.store.models import PolicyText, StoreInfo

    with store.session() as session:
        recorded = session.get(StoreInfo, "policy_sha256")
        row = session.get(PolicyText, recorded.value) if recorded is not None else None
        return row.text if row is not None else None


def load_policy(store: Store) -> Policy:
    """The policy in force; one changed in the store outside `signoff policy set` is refused."""
    from console.store.rows import SessionRows

    with store.session() as session:
        return read_policy(SessionRows(session.connection()))


def read_policy(rows: Rows) -> Policy:
    """`load_policy` on plain rows (a read command's connection): the same digest check."""
    from console.errors import IntegrityError

    found = rows.all(
        "SELECT i.value, p.text FROM store_info i LEFT JOIN policies p ON p.sha256 = i.value "
        "WHERE i.key = 'policy_sha256'"
    )
    expected = found[0][0] if found else None
    text = found[0][1] if found else None
    if expected is None or text is None:
        raise IntegrityError(
            "the store's policy is missing; restore the store from a backup (the policy's "
            "text is in the log's policy events)"
        )
    # The digest first: an edited text is a forgery even when it would not parse.
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if digest != expected:
        raise IntegrityError(
            f"the store's policy was changed outside `signoff policy set` (sha256 "
            f"{digest[:16]}…, the log says {expected[:16]}…); restore it, or apply the "
            "change with `signoff policy set FILE`"
        )
    return parse_policy(text, "the store's policy")


def _refuse_dropping_held_stages(session: Session, policy: Policy) -> None:
    """A stage a model still holds (or canaries in) cannot leave the policy: roll it back first."""
    from sqlmodel import col, or_, select

    from console.errors import Refused
    from console.store.models import StageAssignment

    held = session.exec(
        select(StageAssignment)
        .where(col(StageAssignment.stage).not_in(policy.stage_names))
        .where(
            or_(
                col(StageAssignment.version).is_not(None),
                col(StageAssignment.canary_version).is_not(None),
            )
        )
        .order_by(col(StageAssignment.stage), col(StageAssignment.model))
    ).all()
    if held:
        first = held[0]
        more = f" and {len(held) - 1} more" if len(held) > 1 else ""
        raise Refused(
            f"the new policy drops stage {first.stage!r}, which {first.model} still holds"
            f"{more}; roll those models back out of it first"
        )


def set_policy(store: Store, signer: Signer, text: str, source: str) -> Policy:
    """Replace the policy (admins only); the change and the new digest are audited."""
    from console.auditing import catalogue as actions
    from console.auditing.log import append_event
    from console.identity.actor import require_actor
    from console.identity.permissions import Permission
    from console.release.policy_checks import refuse_dropping_held_tiers, refuse_weak_rules
    from console.store.models import PolicyText, StoreInfo

    policy = parse_policy(text, source)
    _require_stated_stages(text, source)
    refuse_weak_rules(policy, source)
    old = load_policy(store)
    with store.session() as session:
        require_actor(session, signer, Permission.SET_POLICY)
        _refuse_dropping_held_stages(session, policy)
        refuse_dropping_held_tiers(session, policy)
        in_force = session.get(StoreInfo, "policy_sha256")
        if in_force is None or in_force.value != old.digest:
            raise BadInput("the policy changed while this command ran; run it again")
        if policy.digest == old.digest:
            raise BadInput(
                f"{source} is the policy already in force (sha256 {policy.digest[:16]}…)"
            )
        now = store.clock()
        append_event(
            session,
            signer,
            actions.POLICY_CHANGED,
            "policy",
            {
                "sha256": policy.digest,
                "previous_sha256": old.digest,
                "stages": policy.stage_names,
                "text": text,
            },
            ts=now,
        )
        session.merge(StoreInfo(key="policy_sha256", value=policy.digest))
        if session.get(PolicyText, policy.digest) is None:
            session.add(PolicyText(sha256=policy.digest, text=text, recorded_at=now))
    return policy
