"""Verifying a package without extracting it, with or without the store that built it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import select

from audit.canonical import sha256_hex
from audit.dsse import (
    sslib_keyid,
)
from audit.keys import load_public_pem, public_from_raw
from console.errors import BadInput
from console.files import file_sha256
from console.identity.permissions import Permission, may
from console.packaging.attestation import ATTESTATION, MANIFEST
from console.packaging.attestation_check import TrustedKey, check_attestation
from console.packaging.governance import GOVERNANCE
from console.packaging.governance_check import (
    GovernanceCheck,
    check_governance,
    listed_but_not_carried,
    stage_problems,
)
from console.packaging.oms import check_oms_member
from console.packaging.recorded import checkpoint_mismatches, recorded_mismatches
from console.packaging.tarball import read_members
from console.store.db import Store
from console.store.models import PackageRecord, User, UserKey


@dataclass(frozen=True)
class PackageVerification:
    """What checking a package found; `ok` only when `problems` is empty."""

    path: str
    sha256: str
    size: int
    model: str | None = None
    version: int | None = None
    packager: str | None = None
    keyid: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    recorded: bool | None = None  # with a store: whether the store recorded this package
    governance: dict[str, object] | None = None  # what governance.json proves, when carried
    release_keyid: str | None = None  # the release key model.sig (OMS) verified with
    # Whose keys vouch: "store", "pubkey", "pinned" (--trust-key) or "package" (its own).
    trust: str = "store"

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["ok"] = self.ok
        return data


def verify_package(
    path: Path,
    *,
    store: Store | None = None,
    public_keys: list[Ed25519PublicKey] | None = None,
    trust_keys: list[Ed25519PublicKey] | None = None,
    require_stage: str | None = None,
) -> PackageVerification:
    """Check a package without extracting it: safe members, MANIFEST digests, attestation,
    and the governance it carries (its version's decisions and stages under a checkpoint).

    The attestation must be signed by a key the store registered to the packager (valid now,
    or when the store recorded the package), or by one of `public_keys` when given; with
    neither, by the packager's key as the package's own governance registers it. The
    checkpoint must be signed by one of `trust_keys` when given. `require_stage` fails unless
    the governance shows the version approved for and serving that stage.
    """
    try:
        size = path.stat().st_size
        digest = file_sha256(path)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    problems: list[str] = []
    read = read_members(path, problems)
    facts: dict[str, object] = {}
    recorded: bool | None = None
    files: dict[str, str] = {}
    carried: GovernanceCheck | None = None
    trust = "pubkey" if public_keys is not None else "store"
    if read is not None:
        top, members = read
        files = {name: sha256_hex(data) for name, data in sorted(members.items())}
        with_store = public_keys is None and store is not None
        governance = members.get(GOVERNANCE)
        if public_keys is not None:
            trusted = _given_keys(public_keys)
        elif store is not None:
            recorded, trusted = _store_keys(store, digest)
        elif governance is not None:
            trusted, trust = _carried_keys(governance, trust_keys), "package"
        else:
            raise BadInput(
                "verifying a package needs a store or a public key: pass --pubkey FILE "
                f"(this package carries no {GOVERNANCE} to take the packager's key from)"
            )
        _check_contents(top, members, trusted, trust, problems, facts)
        if isinstance(facts.get("predicate"), dict):  # model.sig, by the attested release key
            facts["release_keyid"] = check_oms_member(
                store if with_store else None, members, facts, problems
            )
        if store is not None and with_store:
            problems.extend(recorded_mismatches(store, facts, members))
        carried = _check_carried(governance, facts, trust_keys, store, problems)
        if require_stage is not None:
            problems.extend(stage_problems(carried or GovernanceCheck(), facts, require_stage))
    elif store is None and public_keys is None and trust_keys is None:
        raise BadInput("verifying a package needs a store or a public key: pass --pubkey FILE")
    return PackageVerification(
        path=str(path),
        sha256=digest,
        size=size,
        model=_str(facts.get("model")),
        version=_int(facts.get("version")),
        packager=_str(facts.get("packager")),
        keyid=_str(facts.get("keyid")),
        files=files,
        problems=problems,
        recorded=recorded,
        governance=None if carried is None else carried.as_dict(),
        release_keyid=_str(facts.get("release_keyid")),
        trust="pinned" if carried and carried.excerpt and carried.excerpt.pinned else trust,
    )


def _carried_keys(
    governance: bytes, trust_keys: list[Ed25519PublicKey] | None
) -> dict[str, TrustedKey]:
    """Packager keys as the package's own governance registers them (valid at its checkpoint)."""
    excerpt = check_governance(governance, {}, trust_keys).excerpt
    trusted: dict[str, TrustedKey] = {}
    for key in excerpt.history.keys.values() if excerpt is not None else []:
        if key.revoked_at is None:
            role = excerpt.history.role_of(key.user) if excerpt is not None else None
            public = public_from_raw(key.public_key)
            trusted[key.keyid] = TrustedKey(public, key.user, may(role, Permission.PACKAGE))
    return trusted


def _check_carried(
    governance: bytes | None,
    facts: dict[str, object],
    trust_keys: list[Ed25519PublicKey] | None,
    store: Store | None,
    problems: list[str],
) -> GovernanceCheck | None:
    """Check governance.json; a package whose attestation lists decisions must carry it."""
    predicate = facts.get("predicate")
    listed = isinstance(predicate, dict) and bool(
        predicate.get("approvals") or predicate.get("stage_history")
    )
    if governance is None:
        if listed:
            problems.append(
                f"the attestation lists approvals or stage changes, but {GOVERNANCE} is missing"
            )
        return None
    carried = check_governance(governance, facts, trust_keys)
    problems.extend(carried.problems)
    if isinstance(predicate, dict):
        problems.extend(listed_but_not_carried(predicate, carried))
    if store is not None and carried.excerpt is not None and not carried.excerpt.problems:
        problems.extend(checkpoint_mismatches(store, carried.excerpt))
    return carried


def _given_keys(public_keys: list[Ed25519PublicKey]) -> dict[str, TrustedKey]:
    return {sslib_keyid(key): TrustedKey(key, None) for key in public_keys}


def _store_keys(store: Store, digest: str) -> tuple[bool, dict[str, TrustedKey]]:
    """Whether the store recorded this package, and the keys it vouches for.

    A key counts while valid, or if the store recorded this very package while it was valid
    (so a rotation does not void earlier packages); its user must hold a packaging role now,
    unless the store recorded the package (then the service checked the role at the time).
    """
    with store.session() as session:
        record = session.get(PackageRecord, digest)
        rows = session.exec(select(UserKey)).all()
        roles = {user.name: user.role for user in session.exec(select(User)).all()}
    trusted: dict[str, TrustedKey] = {}
    for row in rows:
        valid_now = row.revoked_at_seq is None
        valid_then = (
            record is not None
            and row.valid_from_seq < record.event_seq
            and (row.revoked_at_seq is None or record.event_seq < row.revoked_at_seq)
        )
        if valid_now or valid_then:
            key = load_public_pem(row.public_key_pem.encode("ascii"), f"key {row.keyid[:16]}…")
            may_package = record is not None or may(roles.get(row.user), Permission.PACKAGE)
            trusted[row.keyid] = TrustedKey(key, row.user, may_package)
    return record is not None, trusted


def _check_contents(
    top: str,
    members: Mapping[str, bytes],
    trusted: Mapping[str, TrustedKey],
    keys_from: str,
    problems: list[str],
    facts: dict[str, object],
) -> None:
    if (
        _check_manifest(members, problems, facts)
        and top != f"{facts.get('model')}-v{facts.get('version')}"
    ):
        problems.append(
            f"top folder {top}/ does not match the manifest's "
            f"{facts.get('model')}-v{facts.get('version')}"
        )
    check_attestation(members, trusted, keys_from, problems, facts)


def _check_manifest(
    members: Mapping[str, bytes], problems: list[str], facts: dict[str, object]
) -> bool:
    raw = members.get(MANIFEST)
    if raw is None:
        problems.append(f"{MANIFEST} is missing")
        return False
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        problems.append(f"{MANIFEST} is not JSON")
        return False
    entries = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        problems.append(f"{MANIFEST} has no list of files")
        return False
    facts["model"] = manifest.get("model")
    facts["version"] = manifest.get("version")
    for name in sorted(entries):
        entry = entries[name]
        data = members.get(name)
        if data is None:
            problems.append(f"{name}: listed in {MANIFEST} but missing")
            continue
        if entry.get("size") != len(data):
            problems.append(
                f"{name}: size mismatch ({MANIFEST} says {entry.get('size')}, file has {len(data)})"
            )
        if entry.get("sha256") != sha256_hex(data):
            problems.append(f"{name}: sha256 mismatch")
    for name in sorted(members):
        if name not in entries and name not in (MANIFEST, ATTESTATION):
            problems.append(f"{name}: not listed in {MANIFEST}")
    return True


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def load_public_keys(paths: Iterable[Path], option: str = "--pubkey") -> list[Ed25519PublicKey]:
    """Public key files (PEM) for verifying packages on a machine without the store."""
    keys: list[Ed25519PublicKey] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInput(f"cannot read {option} {path}: {exc.strerror or exc}") from exc
        keys.append(load_public_pem(data, str(path)))
    return keys
