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
    PAYLOAD_TYPE_INTOTO,
    STATEMENT_TYPE,
    EnvelopeError,
    sslib_keyid,
    verify_envelope,
)
from audit.keys import load_public_pem, public_from_raw
from console.errors import BadInput
from console.files import file_sha256
from console.identity.permissions import Permission, may, roles_with
from console.packaging.attestation import ATTESTATION, MANIFEST, PREDICATE_TYPE
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


@dataclass(frozen=True)
class _TrustedKey:
    key: Ed25519PublicKey
    user: str | None  # the store's user the key belongs to; None for a key file
    may_package: bool = True


def _carried_keys(
    governance: bytes, trust_keys: list[Ed25519PublicKey] | None
) -> dict[str, _TrustedKey]:
    """Packager keys as the package's own governance registers them (valid at its checkpoint)."""
    excerpt = check_governance(governance, {}, trust_keys).excerpt
    trusted: dict[str, _TrustedKey] = {}
    for key in excerpt.history.keys.values() if excerpt is not None else []:
        if key.revoked_at is None:
            role = excerpt.history.role_of(key.user) if excerpt is not None else None
            public = public_from_raw(key.public_key)
            trusted[key.keyid] = _TrustedKey(public, key.user, may(role, Permission.PACKAGE))
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


def _given_keys(public_keys: list[Ed25519PublicKey]) -> dict[str, _TrustedKey]:
    return {sslib_keyid(key): _TrustedKey(key, None) for key in public_keys}


def _store_keys(store: Store, digest: str) -> tuple[bool, dict[str, _TrustedKey]]:
    """Whether the store recorded this package, and the keys it vouches for.

    A key counts while valid, or if the store recorded this very package while it was valid
    (so a rotation does not void earlier packages); its user must hold a packaging role now,
    unless the store recorded the package (then the service checked the role at the time).
    """
    with store.session() as session:
        record = session.get(PackageRecord, digest)
        rows = session.exec(select(UserKey)).all()
        roles = {user.name: user.role for user in session.exec(select(User)).all()}
    trusted: dict[str, _TrustedKey] = {}
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
            trusted[row.keyid] = _TrustedKey(key, row.user, may_package)
    return record is not None, trusted


def _check_contents(
    top: str,
    members: Mapping[str, bytes],
    trusted: Mapping[str, _TrustedKey],
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
    _check_attestation(members, trusted, keys_from, problems, facts)


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


def _check_attestation(
    members: Mapping[str, bytes],
    trusted: Mapping[str, _TrustedKey],
    keys_from: str,
    problems: list[str],
    facts: dict[str, object],
) -> None:
    raw = members.get(ATTESTATION)
    if raw is None:
        problems.append(f"{ATTESTATION} is missing")
        return
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        problems.append(f"{ATTESTATION} is not JSON")
        return
    if not isinstance(envelope, dict):
        problems.append(f"{ATTESTATION} is not a DSSE envelope")
        return
    if envelope.get("payloadType") != PAYLOAD_TYPE_INTOTO:
        problems.append(f"attestation payloadType is not {PAYLOAD_TYPE_INTOTO}")
        return
    try:
        payload, verified = verify_envelope(envelope, [t.key for t in trusted.values()])
    except EnvelopeError as exc:
        problems.append(_signature_problem(envelope, trusted, keys_from, exc))
        return
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        problems.append("attestation payload is not JSON")
        return
    predicate = body.get("predicate") if isinstance(body, dict) else None
    facts["predicate"] = predicate
    if (
        not isinstance(body, dict)
        or body.get("_type") != STATEMENT_TYPE
        or body.get("predicateType") != PREDICATE_TYPE
        or not isinstance(predicate, dict)
    ):
        problems.append(f"attestation is not an in-toto statement of type {PREDICATE_TYPE}")
        return
    packager = predicate.get("packager")
    name = packager.get("name") if isinstance(packager, dict) else None
    keyid = packager.get("keyid") if isinstance(packager, dict) else None
    facts["packager"], facts["keyid"] = name, keyid
    if keyid not in verified:
        problems.append("attestation names a packager key that did not sign it")
    elif trusted[str(keyid)].user is not None and trusted[str(keyid)].user != name:
        problems.append(
            f"attestation names packager {name!r} but is signed by "
            f"{trusted[str(keyid)].user!r}'s key"
        )
    elif not trusted[str(keyid)].may_package:
        problems.append(
            f"attestation is signed by {name!r}, whose role may not build packages "
            f"(needs {' or '.join(roles_with(Permission.PACKAGE))})"
        )
    for fact in ("model", "version"):
        if fact in facts and predicate.get(fact) != facts[fact]:
            problems.append(f"attestation {fact} differs from {MANIFEST}")
    artifact = predicate.get("artifact")
    dataset = predicate.get("training_dataset")
    if isinstance(dataset, dict):
        facts["training_dataset_sha256"] = dataset.get("sha256")
    if isinstance(artifact, dict):
        facts["artifact_sha256"] = artifact.get("sha256")
        artifact_name = artifact.get("name")
        data = members.get(str(artifact_name))
        if data is None:
            problems.append(f"the attested artifact {artifact_name} is missing")
        elif artifact.get("sha256") != sha256_hex(data):
            problems.append(f"{artifact_name}: sha256 differs from the attested artifact digest")
    else:
        problems.append("attestation names no artifact")
    _check_subjects(body.get("subject"), members, problems)


def _check_subjects(subject: object, members: Mapping[str, bytes], problems: list[str]) -> None:
    attested: dict[str, object] = {}
    if isinstance(subject, list):
        for item in subject:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                digest = item.get("digest")
                attested[item["name"]] = digest.get("sha256") if isinstance(digest, dict) else None
    files = {name for name in members if name != ATTESTATION}
    for name in sorted(files | set(attested)):
        if name not in attested:
            problems.append(f"{name}: not covered by the attestation")
        elif name not in files:
            problems.append(f"{name}: attested but missing from the package")
        elif attested[name] != sha256_hex(members[name]):
            problems.append(f"{name}: sha256 differs from the attestation")


def _signature_problem(
    envelope: Mapping[str, object],
    trusted: Mapping[str, _TrustedKey],
    keys_from: str,
    exc: EnvelopeError,
) -> str:
    signatures = envelope.get("signatures")
    keyids = [
        str(s.get("keyid"))
        for s in (signatures if isinstance(signatures, list) else [])
        if isinstance(s, dict) and s.get("keyid")
    ]
    if "valid signature" not in str(exc):
        return f"attestation is malformed: {exc}"
    if any(k in trusted for k in keyids):
        return "attestation signature does not verify"
    shown = ", ".join(k[:16] + "…" for k in keyids) or "none"
    if keys_from == "store":
        return f"attestation is signed by a key this store does not hold as valid (keyid {shown})"
    if keys_from == "package":
        return f"attestation is not signed by a packager key its {GOVERNANCE} registers ({shown})"
    return f"attestation is not signed by the given public key(s) (keyid {shown})"


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
