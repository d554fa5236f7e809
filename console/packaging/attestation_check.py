"""The attestation a package carries: its DSSE signature, its packager and the digests it names.

Split from `console/packaging/verify.py`, which checks the rest of a package around it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.canonical import sha256_hex
from audit.dsse import PAYLOAD_TYPE_INTOTO, STATEMENT_TYPE, EnvelopeError, verify_envelope
from console.identity.permissions import Permission, roles_with
from console.packaging.attestation import ATTESTATION, MANIFEST, PREDICATE_TYPE
from console.packaging.governance import GOVERNANCE


@dataclass(frozen=True)
class TrustedKey:
    """A key that may sign a package's attestation, and whose it is."""

    key: Ed25519PublicKey
    user: str | None  # the store's user the key belongs to; None for a key file
    may_package: bool = True


def check_attestation(
    members: Mapping[str, bytes],
    trusted: Mapping[str, TrustedKey],
    keys_from: str,
    problems: list[str],
    facts: dict[str, object],
) -> None:
    """Check attestation.json: signed by a trusted packager key, and naming what is inside."""
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
    trusted: Mapping[str, TrustedKey],
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
