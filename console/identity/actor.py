"""Who is acting: resolves `--as USER` to an unlocked key and checks it inside each transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from audit.keys import KeyStore, Signer
from console.errors import BadInput, NotFound, Refused
from console.identity.permissions import ROLES, Permission, roles_with
from console.store.db import Store
from console.store.models import StoreInfo, User, UserKey

__all__ = ["DEMO_KEYS_DIR", "ROLES", "Actor", "active_key", "key_dirs", "require_actor", "unlock"]

DEMO_KEYS_DIR = "demo-keys"

PassphraseSource = Callable[[str], bytes]


@dataclass(frozen=True)
class Actor:
    """A user as the store knows them at this moment."""

    name: str
    role: str
    keyid: str


def active_key(session: Session, name: str) -> UserKey | None:
    return session.exec(
        select(UserKey)
        .where(UserKey.user == name, col(UserKey.revoked_at_seq).is_(None))
        .order_by(col(UserKey.valid_from_seq).desc())
    ).first()


def key_dirs(store: Store, explicit: Path) -> list[Path]:
    """The user's key directory, plus the demo keys when the store is a demo store."""
    dirs = [explicit]
    demo = store.home / DEMO_KEYS_DIR
    if demo.is_dir() and _is_demo(store):
        dirs.append(demo)
    return dirs


def _is_demo(store: Store) -> bool:
    with store.session() as session:
        info = session.get(StoreInfo, "demo")
        return info is not None and info.value == "true"


def unlock(
    store: Store, name: str | None, dirs: Iterable[Path], passphrase: PassphraseSource
) -> Signer:
    """Load the private key matching USER's registered key; nobody acts as someone else."""
    if not name:
        raise BadInput("say who is acting: pass --as USER or set SIGNOFF_USER")
    with store.session() as session:
        user = session.get(User, name)
        if user is None:
            raise NotFound(f"no user {name!r} in this store; see `signoff users list`")
        if not user.active:
            raise Refused(f"user {name!r} has been revoked and can no longer act")
        key = active_key(session, name)
        if key is None:
            raise Refused(f"user {name!r} has no valid key")
        wanted = key.keyid
    for directory in dirs:
        keystore = KeyStore(directory)
        found = keystore.find(wanted)
        if found is not None:
            signer = Signer(name, keystore.load_private(found, passphrase(found)))
            if signer.keyid != wanted:
                raise Refused(f"the private key {found!r} does not match {name!r}'s public key")
            return signer
    searched = ", ".join(str(d) for d in dirs)
    raise Refused(
        f"you do not hold {name!r}'s private key (keyid {wanted[:16]}…) in {searched}; "
        "act as yourself, or set SIGNOFF_KEYS to the directory holding your key"
    )


def require_actor(
    session: Session,
    signer: Signer,
    permission: Permission | None = None,
    *,
    roles: Iterable[str] | None = None,
    prove: bool = True,
) -> Actor:
    """Inside the transaction: the signer is an active user, with this key, holding `permission`.

    `roles` instead names the roles the policy grants a right to (break-glass rollback).
    `prove=False` only where the caller proved this user's rows against the log at the head
    this transaction still reads (a registration session holding the store's file).
    """
    from console.auditing.state_check import prove_user

    if prove:
        # The user's users and user_keys rows, as read under the lock and proved to be the
        # log's (not read a second time: each read is a round trip while other writers wait).
        user, keys = prove_user(session, signer.name)
    else:
        user, keys = _rows(session, signer.name, signer.keyid)
    if user is None:
        raise NotFound(f"no user {signer.name!r} in this store")
    if not user["active"]:
        raise Refused(f"user {signer.name!r} has been revoked and can no longer act")
    key = keys.get(signer.keyid)
    if key is None or key["revoked_at_seq"] is not None:
        raise Refused(f"the key used is not {signer.name!r}'s current key")
    role = str(user["role"])
    allowed = roles_with(permission) if permission is not None else roles
    if allowed is not None:
        allowed = tuple(allowed)
    if allowed is not None and role not in allowed:
        raise Refused(
            f"{signer.name} is {role}; this action needs the role " + " or ".join(allowed)
        )
    return Actor(signer.name, role, signer.keyid)


def _rows(
    session: Session, name: str, keyid: str
) -> tuple[dict[str, object] | None, dict[str, dict[str, object]]]:
    """NAME's users row and (if it is theirs) the user_keys row of KEYID, shaped as
    `prove_user` returns them, read without the proof (the identity map may hold them)."""
    user = session.get(User, name)
    key = session.get(UserKey, keyid)
    row = None if user is None else {"active": user.active, "role": user.role}
    keys: dict[str, dict[str, object]] = {}
    if key is not None and key.user == name:
        keys[keyid] = {"revoked_at_seq": key.revoked_at_seq}
    return row, keys
