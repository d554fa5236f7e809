"""Who is acting: resolves `--as USER` to an unlocked key and checks it inside each transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit.keys import KeyStore, Signer
from console.errors import BadInput, NotFound, Refused
from console.identity.permissions import ROLES, Permission, roles_with
from console.store.rows import Rows, WriteRows

if TYPE_CHECKING:
    from sqlmodel import Session

    from console.store.db import Store
    from console.store.models import UserKey

__all__ = [
    "DEMO_KEYS_DIR",
    "ROLES",
    "Actor",
    "active_key",
    "check_actor",
    "key_dirs",
    "key_dirs_in",
    "require_actor",
    "require_actor_rows",
    "unlock",
    "unlock_key",
    "wanted_key",
]

DEMO_KEYS_DIR = "demo-keys"

PassphraseSource = Callable[[str], bytes]


@dataclass(frozen=True)
class Actor:
    """A user as the store knows them at this moment."""

    name: str
    role: str
    keyid: str


def active_key(session: Session, name: str) -> UserKey | None:
    from sqlmodel import col, select

    from console.store.models import UserKey

    return session.exec(
        select(UserKey)
        .where(UserKey.user == name, col(UserKey.revoked_at_seq).is_(None))
        .order_by(col(UserKey.valid_from_seq).desc())
    ).first()


def key_dirs(store: Store, explicit: Path) -> list[Path]:
    """The user's key directory, plus the demo keys when the store is a demo store."""
    from console.store.rows import SessionRows

    demo = store.home / DEMO_KEYS_DIR
    if not demo.is_dir():
        return [explicit]
    with store.session() as session:
        return key_dirs_in(SessionRows(session.connection()), store.home, explicit)


def key_dirs_in(rows: Rows, home: Path, explicit: Path) -> list[Path]:
    """`key_dirs` for a store read through `rows` (in `home`)."""
    dirs = [explicit]
    demo = home / DEMO_KEYS_DIR
    if demo.is_dir():
        found = rows.all("SELECT value FROM store_info WHERE key = :key", {"key": "demo"})
        if found and found[0][0] == "true":
            dirs.append(demo)
    return dirs


def wanted_key(rows: Rows, name: str | None) -> str:
    """The keyid USER acts with: their newest key not revoked (refused if they cannot act)."""
    if not name:
        raise BadInput("say who is acting: pass --as USER or set SIGNOFF_USER")
    user = rows.all("SELECT active FROM users WHERE name = :name", {"name": name})
    if not user:
        raise NotFound(f"no user {name!r} in this store; see `signoff users list`")
    if not user[0][0]:
        raise Refused(f"user {name!r} has been revoked and can no longer act")
    key = rows.all(
        'SELECT keyid FROM user_keys WHERE "user" = :name AND revoked_at_seq IS NULL '
        "ORDER BY valid_from_seq DESC LIMIT 1",
        {"name": name},
    )
    if not key:
        raise Refused(f"user {name!r} has no valid key")
    return str(key[0][0])


def unlock(
    store: Store, name: str | None, dirs: Iterable[Path], passphrase: PassphraseSource
) -> Signer:
    """Load the private key matching USER's registered key; nobody acts as someone else."""
    from console.store.rows import SessionRows

    if not name:
        raise BadInput("say who is acting: pass --as USER or set SIGNOFF_USER")
    with store.session() as session:
        wanted = wanted_key(SessionRows(session.connection()), name)
    return unlock_key(name, wanted, dirs, passphrase)


def unlock_key(
    name: str, wanted: str, dirs: Iterable[Path], passphrase: PassphraseSource
) -> Signer:
    """The private key `wanted` (USER's current key) from the first directory that holds it."""
    dirs = list(dirs)
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
    return check_actor(user, keys, signer, permission, roles)


def require_actor_rows(
    rows: WriteRows,
    signer: Signer,
    permission: Permission | None = None,
    *,
    roles: Iterable[str] | None = None,
    model: str | None = None,
) -> Actor:
    """`require_actor` on any write transaction: the user's rows proved against the log first,
    and with `model` that model's rows too (`prove_model_rows`), the events read once for both."""
    from console.auditing.state_check import prove_user_rows

    user, keys = prove_user_rows(rows, signer.name, model=model)
    return check_actor(user, keys, signer, permission, roles)


def check_actor(
    user: Mapping[str, object] | None,
    keys: Mapping[str, Mapping[str, object]],
    signer: Signer,
    permission: Permission | None,
    roles: Iterable[str] | None,
) -> Actor:
    """The rule, on the user's row and key rows: active, this key current, the right held."""
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
    from console.store.models import User, UserKey

    user = session.get(User, name)
    key = session.get(UserKey, keyid)
    row = None if user is None else {"active": user.active, "role": user.role}
    keys: dict[str, dict[str, object]] = {}
    if key is not None and key.user == name:
        keys[keyid] = {"revoked_at_seq": key.revoked_at_seq}
    return row, keys
