"""Release keys (ECDSA P-256) that sign packages for OpenSSF Model Signing, registered by an admin."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, col, select

from audit.keys import Signer, check_name
from audit.release_keys import (
    ReleaseKeyStore,
    ReleaseSigner,
    load_release_public_pem,
    release_keyid,
    release_public_pem,
)
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.errors import BadInput, NotFound, Refused
from console.identity.actor import require_actor
from console.identity.permissions import Permission, may, roles_with
from console.store.db import Store
from console.store.models import ReleaseKey, User

__all__ = [
    "ReleaseKeyView",
    "current_release_key",
    "list_release_keys",
    "register_release_key",
    "release_public_keys",
    "unlock_release_key",
]


@dataclass(frozen=True)
class ReleaseKeyView:
    user: str
    keyid: str
    public_key_pem: str
    registered_seq: int
    registered_by: str
    retired_seq: int | None

    @property
    def current(self) -> bool:
        return self.retired_seq is None


def _view(row: ReleaseKey) -> ReleaseKeyView:
    return ReleaseKeyView(
        row.user,
        row.keyid,
        row.public_key_pem,
        row.registered_seq,
        row.registered_by,
        row.retired_seq,
    )


def current_release_key(session: Session, name: str) -> ReleaseKey | None:
    return session.exec(
        select(ReleaseKey).where(ReleaseKey.user == name, col(ReleaseKey.retired_seq).is_(None))
    ).first()


def register_release_key(
    store: Store, admin: Signer, name: str, public_key: ec.EllipticCurvePublicKey
) -> ReleaseKeyView:
    """Register NAME's release key (admin only); it replaces NAME's previous one."""
    check_name(name, "user name")
    with store.session() as session:
        require_actor(session, admin, Permission.MANAGE_USERS)
        user = session.get(User, name)
        if user is None:
            raise NotFound(f"no user {name!r} in this store; see `signoff users list`")
        if not user.active:
            raise Refused(f"user {name!r} has been revoked; a release key would never sign")
        if not may(user.role, Permission.PACKAGE):
            raise Refused(
                f"{name} is {user.role}; release keys are for the roles that package: "
                + ", ".join(roles_with(Permission.PACKAGE))
            )
        kid = release_keyid(public_key)
        if session.get(ReleaseKey, kid) is not None:
            raise BadInput(f"that release key is already registered (keyid {kid[:16]}…)")
        previous = current_release_key(session, name)
        pem = release_public_pem(public_key)
        event = append_event(
            session,
            admin,
            actions.RELEASE_KEY_REGISTERED,
            f"user:{name}",
            {
                "name": name,
                "keyid": kid,
                "public_key": pem,
                "retired_keyid": previous.keyid if previous is not None else None,
            },
            ts=store.clock(),
        )
        if previous is not None:
            previous.retired_seq = event.seq
            session.add(previous)
        row = ReleaseKey(
            keyid=kid,
            user=name,
            public_key_pem=pem,
            registered_seq=event.seq,
            registered_by=admin.name,
        )
        session.add(row)
        session.flush()
        return _view(row)


def list_release_keys(store: Store) -> list[ReleaseKeyView]:
    with store.session() as session:
        rows = session.exec(
            select(ReleaseKey).order_by(col(ReleaseKey.user), col(ReleaseKey.registered_seq))
        ).all()
        return [_view(row) for row in rows]


def release_public_keys(store: Store, name: str) -> dict[str, ec.EllipticCurvePublicKey]:
    """Every release key the store ever registered to NAME, by keyid (current or retired)."""
    with store.session() as session:
        rows = session.exec(select(ReleaseKey).where(ReleaseKey.user == name)).all()
        return {
            row.keyid: load_release_public_pem(row.public_key_pem.encode(), "stored release key")
            for row in rows
        }


def unlock_release_key(
    store: Store, name: str, dirs: Iterable[Path], passphrase: Callable[[str], bytes]
) -> ReleaseSigner | None:
    """NAME's current release key, unlocked; None when NAME has none registered."""
    from console.auditing.state_check import prove_release_keys

    with store.session() as session:
        prove_release_keys(session, name)  # the key read below is the one the log registered
        row = current_release_key(session, name)
        if row is None:
            return None
        wanted = row.keyid
    searched = []
    for directory in dirs:
        keystore = ReleaseKeyStore(directory)
        found = keystore.find(wanted)
        if found is not None:
            signer = keystore.load(found, passphrase(found))
            if signer.keyid != wanted:
                raise Refused(f"the release key {found!r} does not match {name!r}'s registered one")
            return signer
        searched.append(str(keystore.directory))
    raise Refused(
        f"{name}'s registered release key (keyid {wanted[:16]}…) is not in "
        f"{', '.join(searched)}; set SIGNOFF_KEYS to the directory holding it"
    )
