"""Manages users and their keys, each change signed by an admin (or, for a rotation, the user)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlmodel import Session, select

from audit.keys import Signer, check_name, keyid, public_pem, public_raw
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.errors import BadInput, NotFound, Refused
from console.identity.actor import ROLES, active_key, require_actor
from console.identity.permissions import Permission, may
from console.store.db import Store
from console.store.models import User, UserKey


@dataclass(frozen=True)
class UserView:
    name: str
    role: str
    active: bool
    keyid: str | None
    added_seq: int
    revoked_seq: int | None


def add_user(
    store: Store, actor: Signer, name: str, role: str, public_key: Ed25519PublicKey
) -> UserView:
    check_name(name, "user name")
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    with store.session() as session:
        require_actor(session, actor, Permission.MANAGE_USERS)
        existing = session.get(User, name)
        if existing is not None:
            raise BadInput(f"user {name!r} already exists (role {existing.role})")
        kid = keyid(public_key)
        if session.get(UserKey, kid) is not None:
            raise BadInput(f"that public key is already registered (keyid {kid[:16]}…)")
        event = append_event(
            session,
            actor,
            actions.USER_ADDED,
            f"user:{name}",
            {"name": name, "role": role, "public_key": public_raw(public_key).hex(), "keyid": kid},
            ts=store.clock(),
        )
        session.add(User(name=name, role=role, added_seq=event.seq))
        session.add(
            UserKey(
                keyid=kid,
                user=name,
                public_key_pem=public_pem(public_key),
                valid_from_seq=event.seq + 1,
            )
        )
        return UserView(name, role, True, kid, event.seq, None)


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


def _active_admins(session: Session) -> int:
    value = (
        session.connection()
        .execute(text("SELECT count(*) FROM users WHERE role = 'admin' AND active"))
        .scalar()
    )
    return int(value or 0)


def _user_view(session: Session, user: User) -> UserView:
    key = active_key(session, user.name)
    return UserView(
        user.name,
        user.role,
        user.active,
        key.keyid if key else None,
        user.added_seq,
        user.revoked_seq,
    )


def list_users(store: Store) -> list[UserView]:
    with store.session() as session:
        return [
            _user_view(session, user)
            for user in session.exec(select(User).order_by(User.name)).all()
        ]


def find_user(store: Store, name: str) -> UserView | None:
    """One user's record, or None when the store has no user of that name."""
    with store.session() as session:
        user = session.get(User, name)
        return _user_view(session, user) if user is not None else None


def keys_dir_for_demo(store: Store) -> Path:
    return store.home / "demo-keys"
