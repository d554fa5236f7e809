"""Manages users and their keys, each change signed by an admin (or, for a rotation, the user)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlmodel import Session, select

from audit.keys import Signer, check_name, keyid, public_pem, public_raw
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.errors import BadInput, NotFound, Refused
from console.freetext import check_text
from console.identity.actor import ROLES, active_key, require_actor
from console.identity.permissions import Permission, may
from console.store.db import Store
from console.store.models import User, UserKey

ADMIN = "admin"


@dataclass(frozen=True)
class UserView:
    name: str
    role: str
    active: bool
    keyid: str | None
    added_seq: int
    revoked_seq: int | None
    # Which identity of this name: a revoked name registered again is generation 2, 3, ….
    generation: int = 1


def add_user(
    store: Store, actor: Signer, name: str, role: str, public_key: Ed25519PublicKey
) -> UserView:
    """Register NAME; a revoked NAME comes back as a new identity (next generation, new key)."""
    check_name(name, "user name")
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    with store.session() as session:
        require_actor(session, actor, Permission.MANAGE_USERS)
        existing = session.get(User, name)
        if existing is not None and existing.active:
            raise BadInput(f"user {name!r} already exists (role {existing.role})")
        kid = keyid(public_key)
        if session.get(UserKey, kid) is not None:
            raise BadInput(
                f"that public key is already registered (keyid {kid[:16]}…); "
                + ("a returning user needs a new key" if existing else "use a new key")
            )
        # Every key of an earlier identity of this name stays revoked.
        generation = _generations(session).get(name, 0) + 1 if existing is not None else 1
        payload = {
            "name": name,
            "role": role,
            "public_key": public_raw(public_key).hex(),
            "keyid": kid,
            "generation": generation,
        }
        event = append_event(
            session, actor, actions.USER_ADDED, f"user:{name}", payload, ts=store.clock()
        )
        user = existing or User(name=name, role=role, added_seq=event.seq)
        user.role, user.active, user.added_seq, user.revoked_seq = role, True, event.seq, None
        session.add(user)
        session.add(
            UserKey(
                keyid=kid,
                user=name,
                public_key_pem=public_pem(public_key),
                valid_from_seq=event.seq + 1,
            )
        )
        return UserView(name, role, True, kid, event.seq, None, generation)


def set_role(store: Store, actor: Signer, name: str, role: str, reason: str) -> UserView:
    """Change NAME's role (admin, signed); the last active admin is never demoted."""
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if not reason.strip():
        raise BadInput("a role change needs --reason saying why")
    check_text("the reason", reason, multiline=True)
    from console.auditing.state_check import prove_user  # it imports the identity modules

    with store.session() as session:
        require_actor(session, actor, Permission.MANAGE_USERS)
        prove_user(session, name)  # the role we replace is the log's
        user = session.get(User, name)
        if user is None:
            raise NotFound(f"no user {name!r} in this store; see `signoff users list`")
        if not user.active:
            raise BadInput(
                f"user {name!r} is revoked; register them again with `signoff users add`"
            )
        if user.role == role:
            raise BadInput(f"user {name!r} is already {role}")
        if user.role == ADMIN and _active_admins(session, prove_user) <= 1:
            raise Refused(f"{name} is the last active admin; make another user admin first")
        append_event(
            session,
            actor,
            actions.USER_ROLE_CHANGED,
            f"user:{name}",
            {"name": name, "role": role, "previous_role": user.role, "reason": reason},
            ts=store.clock(),
        )
        user.role = role
        session.add(user)
        session.flush()
        return _user_view(session, user, _generations(session))


def revoke_user(store: Store, actor: Signer, name: str) -> int:
    with store.session() as session:
        require_actor(session, actor, Permission.MANAGE_USERS)
        user = session.get(User, name)
        if user is None:
            raise NotFound(f"no user {name!r} in this store; see `signoff users list`")
        if not user.active:
            raise BadInput(f"user {name!r} is already revoked")
        if name == actor.name and _active_admins(session) <= 1:
            raise Refused(
                "you are the last active admin; add another admin before revoking yourself"
            )
        event = append_event(
            session, actor, actions.USER_REVOKED, f"user:{name}", {"name": name}, ts=store.clock()
        )
        user.active = False
        user.revoked_seq = event.seq
        session.add(user)
        for key in session.exec(select(UserKey).where(UserKey.user == name)).all():
            if key.revoked_at_seq is None:
                key.revoked_at_seq = event.seq
                session.add(key)
        return event.seq


def rotate_key(store: Store, actor: Signer, name: str, new_key: Ed25519PublicKey) -> str:
    """Replace NAME's key: endorsed by NAME's current key, or by an admin."""
    with store.session() as session:
        acting = require_actor(session, actor)
        if acting.name != name and not may(acting.role, Permission.MANAGE_USERS):
            raise Refused(f"only {name} (with the current key) or an admin may rotate {name}'s key")
        user = session.get(User, name)
        if user is None or not user.active:
            raise NotFound(f"no active user {name!r} in this store")
        old = active_key(session, name)
        if old is None:
            raise Refused(f"user {name!r} has no valid key to rotate")
        kid = keyid(new_key)
        if session.get(UserKey, kid) is not None:
            raise BadInput("that public key is already registered; rotate to a new key")
        event = append_event(
            session,
            actor,
            actions.KEY_ROTATED,
            f"user:{name}",
            {
                "name": name,
                "old_keyid": old.keyid,
                "keyid": kid,
                "public_key": public_raw(new_key).hex(),
                "endorsed_by": "self" if acting.name == name else "admin",
            },
            ts=store.clock(),
        )
        old.revoked_at_seq = event.seq
        session.add(old)
        session.add(
            UserKey(
                keyid=kid,
                user=name,
                public_key_pem=public_pem(new_key),
                valid_from_seq=event.seq + 1,
            )
        )
        return kid


def _active_admins(session: Session, prove: Callable[[Session, str], object] | None = None) -> int:
    """Active admins; with `prove`, each one's row is first held against the log."""
    names = [
        str(name)
        for (name,) in session.connection().execute(
            text("SELECT name FROM users WHERE role = 'admin' AND active")
        )
    ]
    if prove is not None:
        for name in names:
            prove(session, name)  # a forged admin row must not let the last real one go
    return len(names)


def _generations(session: Session) -> dict[str, int]:
    """How many identities the log registered under each name (the genesis admin counts one)."""
    rows = session.connection().execute(
        text("SELECT subject, count(*) FROM audit_events WHERE action = :added GROUP BY subject"),
        {"added": actions.USER_ADDED},
    )
    counts = {str(subject).removeprefix("user:"): int(n) for subject, n in rows}
    first = session.connection().execute(text("SELECT actor FROM audit_events WHERE seq = 0"))
    for (admin,) in first:
        counts[str(admin)] = counts.get(str(admin), 0) + 1
    return counts


def _user_view(session: Session, user: User, generations: dict[str, int]) -> UserView:
    key = active_key(session, user.name)
    return UserView(
        user.name,
        user.role,
        user.active,
        key.keyid if key else None,
        user.added_seq,
        user.revoked_seq,
        generations.get(user.name, 1),
    )


def list_users(store: Store) -> list[UserView]:
    with store.session() as session:
        generations = _generations(session)
        return [
            _user_view(session, user, generations)
            for user in session.exec(select(User).order_by(User.name)).all()
        ]


def find_user(store: Store, name: str) -> UserView | None:
    """One user's record, or None when the store has no user of that name."""
    with store.session() as session:
        user = session.get(User, name)
        return _user_view(session, user, _generations(session)) if user is not None else None


def keys_dir_for_demo(store: Store) -> Path:
    return store.home / "demo-keys"
