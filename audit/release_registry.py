"""Release keys as the log registered them, and a package's model.sig checked against them offline.

An auditor holding only an export replays the `release_key.registered` events (by an admin,
keyid the digest of the key, each replacing its user's previous one), lists the keys in
keys.json beside the users' Ed25519 keys, and checks an OMS `model.sig` against them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audit.chain import Finding
from audit.entry import EventRecord
from audit.errors import BadInput
from audit.export_format import keys_document
from audit.key_history import ADMIN_ROLE, KeyHistory
from audit.model_signature import ModelSignatureError, verify_model_signature
from audit.release_keys import load_release_public_pem, release_keyid

RELEASE_KEY_REGISTERED = "release_key.registered"
RELEASE_KIND = "release"  # keys.json entries of release keys carry "kind": "release"
MODEL_SIGNATURE = "model.sig"
# The actions the replay reads: who is an admin when, and the registrations.
REPLAYED = frozenset(("store.created", "user.added", "user.role_changed", RELEASE_KEY_REGISTERED))


@dataclass
class RegisteredReleaseKey:
    name: str
    keyid: str
    public_key_pem: str
    registered_seq: int
    registered_by: str
    retired_seq: int | None = None


def _payload(record: EventRecord) -> dict[str, object]:
    try:
        value = json.loads(record.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def registered_release_keys(
    records: Iterable[EventRecord],
) -> tuple[list[RegisteredReleaseKey], list[Finding]]:
    """Replay the registrations in log order; a registration that breaks a rule is a finding."""
    roles: dict[str, str] = {}
    keys: dict[str, RegisteredReleaseKey] = {}
    current: dict[str, RegisteredReleaseKey] = {}
    findings: list[Finding] = []
    for record in records:
        if record.action not in REPLAYED:
            continue
        payload = _payload(record)
        if record.action == "store.created":
            admin = payload.get("admin")
            if isinstance(admin, dict):
                roles[str(admin.get("name"))] = ADMIN_ROLE
            continue
        if record.action != RELEASE_KEY_REGISTERED:
            roles[str(payload.get("name"))] = str(payload.get("role"))
            continue
        why = _refusal(record, payload, roles, keys, current)
        if why is not None:
            findings.append(Finding(record.seq, why))
            continue
        name = str(payload["name"])
        previous = current.get(name)
        if previous is not None:
            previous.retired_seq = record.seq
        key = RegisteredReleaseKey(
            name, str(payload["keyid"]), str(payload["public_key"]), record.seq, record.actor
        )
        keys[key.keyid] = current[name] = key
    return sorted(keys.values(), key=lambda k: k.registered_seq), findings


def _refusal(
    record: EventRecord,
    payload: dict[str, object],
    roles: dict[str, str],
    keys: dict[str, RegisteredReleaseKey],
    current: dict[str, RegisteredReleaseKey],
) -> str | None:
    if roles.get(record.actor) != ADMIN_ROLE:
        return f"release key registered by {record.actor}, who is not an admin"
    name, keyid, pem = payload.get("name"), payload.get("keyid"), payload.get("public_key")
    if not isinstance(name, str) or not isinstance(keyid, str) or not isinstance(pem, str):
        return "release_key.registered lacks the name, keyid or public key"
    if name not in roles:
        return f"release key registered for {name}, who is not a user"
    try:
        actual = release_keyid(load_release_public_pem(pem.encode("ascii"), "the release key"))
    except (BadInput, UnicodeEncodeError):
        return "release_key.registered holds no ECDSA P-256 public key"
    if actual != keyid:
        return "release_key.registered names a keyid that is not its key's"
    if keyid in keys:
        return f"release key {keyid[:16]} is already registered"
    previous = current.get(name)
    if payload.get("retired_keyid") != (previous.keyid if previous is not None else None):
        return f"release_key.registered for {name} does not retire their current release key"
    return None


def release_keys_document(keys: Sequence[RegisteredReleaseKey]) -> list[dict[str, object]]:
    """keys.json's release-key entries, after the users' keys."""
    return [
        {
            "kind": RELEASE_KIND,
            "name": key.name,
            "keyid": key.keyid,
            "public_key_pem": key.public_key_pem,
            "registered_by": key.registered_by,
            "valid_from_seq": key.registered_seq,
            "retired_at_seq": key.retired_seq,
        }
        for key in keys
    ]


def export_keys_document(
    history: KeyHistory, release: Sequence[RegisteredReleaseKey]
) -> list[dict[str, object]]:
    """keys.json: the users' Ed25519 keys (as before), then the release keys (kind: release)."""
    return [*keys_document(history), *release_keys_document(release)]


def check_package_signature(
    path: Path, keys: Sequence[RegisteredReleaseKey]
) -> tuple[RegisteredReleaseKey | None, str]:
    """`path`: a model.sig, or an unpacked package holding one (its files are then checked too).

    Returns the registered key it verified with and a one-line verdict (key None: it failed).
    """
    folder = path if path.is_dir() else None
    signature_path = path / MODEL_SIGNATURE if folder is not None else path
    try:
        bundle = signature_path.read_bytes()
    except OSError as exc:
        return None, f"cannot read {signature_path}: {exc.strerror or exc}"
    by_id = {k.keyid: k for k in keys}
    trusted = [load_release_public_pem(k.public_key_pem.encode("ascii"), k.name) for k in keys]
    try:
        signed = verify_model_signature(bundle, trusted)
    except ModelSignatureError as exc:
        return None, f"{MODEL_SIGNATURE}: {exc}"
    key = by_id[signed.keyid]
    if folder is not None:
        problem = _files_differ(folder, signed.resources, signed.ignore_paths)
        if problem is not None:
            return None, f"{MODEL_SIGNATURE} does not match the files of {folder}: {problem}"
    retired = f", retired at {key.retired_seq}" if key.retired_seq is not None else ""
    return key, (
        f"{MODEL_SIGNATURE} verified: {key.name}'s release key {key.keyid[:16]}… "
        f"(registered at {key.registered_seq} by {key.registered_by}{retired})"
    )


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _files_differ(folder: Path, resources: dict[str, str], ignored: Sequence[str]) -> str | None:
    present = {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).as_posix() not in ignored
    }
    unsigned = sorted(set(present) - set(resources))
    absent = sorted(set(resources) - set(present))
    changed = sorted(n for n in resources if n in present and _sha256(present[n]) != resources[n])
    parts = [
        f"{label} {', '.join(names)}"
        for label, names in (("unsigned", unsigned), ("absent", absent), ("changed", changed))
        if names
    ]
    return "; ".join(parts) or None
