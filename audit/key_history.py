"""Who held which key when, replayed from the log's own signed key-management events.

The key generations over time that `audit/chain.py` checks each signer against; stdlib only, so
an auditor can run it anywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

ADMIN_ROLE = "admin"
# The only actions `KeyHistory.apply` acts on after the genesis event; the rest it passes.
KEY_ACTIONS = frozenset(
    ("store.created", "user.added", "user.revoked", "user.role_changed", "key.rotated")
)


@dataclass
class KeyState:
    """What the log itself says about one key: whose it is and when it was valid."""

    keyid: str
    user: str
    public_key: bytes
    valid_from: int
    revoked_at: int | None = None


@dataclass
class UserState:
    name: str
    role: str
    added_at: int
    revoked_at: int | None = None


@dataclass
class KeyHistory:
    """Users and keys as established by the log's own signed events, replayed in order."""

    keys: dict[str, KeyState] = field(default_factory=dict)
    users: dict[str, UserState] = field(default_factory=dict)
    store_id: str | None = None
    origin: str | None = None

    def check_signer(self, seq: int, actor: str, keyid: str) -> str | None:
        """Why `keyid` may not sign for `actor` at `seq`, or None when it may."""
        key = self.keys.get(keyid)
        if key is None:
            return f"signed by key {keyid[:16]} that was never registered"
        if key.user != actor:
            return f"signed with {key.user}'s key but claims actor {actor}"
        if seq < key.valid_from:
            return f"signed by key {keyid[:16]} before it was registered"
        if key.revoked_at is not None and seq > key.revoked_at:
            return f"signed by key {keyid[:16]} after its revocation at {key.revoked_at}"
        user = self.users.get(actor)
        if user is None or (user.revoked_at is not None and seq > user.revoked_at):
            return f"actor {actor} was revoked before this event"
        return None

    def role_of(self, name: str) -> str | None:
        user = self.users.get(name)
        return user.role if user else None

    def apply(self, seq: int, actor: str, action: str, payload: dict[str, object]) -> str | None:
        """Replay a key-management event; returns why it is invalid, or None."""
        if action == "store.created":
            if seq != 0:
                return "store.created may only be the first event"
            admin = _as_dict(payload.get("admin"))
            name, raw = str(admin.get("name")), _hex(admin.get("public_key"))
            if name != actor or raw is None:
                return "genesis event must register its own signer as admin"
            self.store_id = str(payload.get("store_id"))
            self.origin = str(payload.get("origin"))
            self.users[name] = UserState(name, ADMIN_ROLE, 0)
            kid = _keyid(raw)
            self.keys[kid] = KeyState(kid, name, raw, 0)
            return None
        if seq == 0:
            return "the first event must be store.created"
        if (
            action in ("user.added", "user.revoked", "user.role_changed")
            and self.role_of(actor) != ADMIN_ROLE
        ):
            return f"{action} by {actor}, who is not an admin"
        if action == "user.added":
            name, raw = str(payload.get("name")), _hex(payload.get("public_key"))
            if raw is None or (name in self.users and self.users[name].revoked_at is None):
                return f"user.added for {name} is malformed or the user already exists"
            self.users[name] = UserState(name, str(payload.get("role")), seq)
            kid = _keyid(raw)
            if kid in self.keys:
                return f"key {kid[:16]} is already registered"
            self.keys[kid] = KeyState(kid, name, raw, seq + 1)
        elif action == "user.revoked":
            user = self.users.get(str(payload.get("name")))
            if user is None:
                return "user.revoked for an unknown user"
            user.revoked_at = seq
            for key in self.keys.values():
                if key.user == user.name and key.revoked_at is None:
                    key.revoked_at = seq
        elif action == "user.role_changed":
            user = self.users.get(str(payload.get("name")))
            if user is None:
                return "user.role_changed for an unknown user"
            user.role = str(payload.get("role"))
        elif action == "key.rotated":
            name = str(payload.get("name"))
            old = self.keys.get(str(payload.get("old_keyid")))
            raw = _hex(payload.get("public_key"))
            if old is None or old.user != name or raw is None:
                return "key.rotated names a key the user does not hold"
            if actor != name and self.role_of(actor) != ADMIN_ROLE:
                return f"key.rotated for {name} by {actor}, who is neither the user nor an admin"
            old.revoked_at = seq
            kid = _keyid(raw)
            if kid in self.keys:
                return f"key {kid[:16]} is already registered"
            self.keys[kid] = KeyState(kid, name, raw, seq + 1)
        return None


def _as_dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _hex(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


def _keyid(raw: bytes) -> str:
    # securesystemslib keyid convention, spelled out so this module needs only hashlib.
    body = f'{{"keytype":"ed25519","keyval":{{"public":"{raw.hex()}"}},"scheme":"ed25519"}}'
    return hashlib.sha256(body.encode()).hexdigest()
