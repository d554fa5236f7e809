"""A package's OpenSSF Model Signing signature, so serving stacks that check OMS accept it as is.

The OMS manifest covers the model's own files (artifact, card, input schema, environment lock);
signoff's attestations (validation report, governance, MANIFEST, the DSSE attestation) stay
beside them, named in the signature's `ignore_paths` so `model_signing verify key` skips them.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric import ec

from audit.canonical import sha256_hex
from audit.model_signature import ModelSignatureError, sign_model, verify_model_signature
from audit.release_keys import (
    ReleaseSigner,
    load_release_public_pem,
    release_keyid,
    release_public_pem,
)
from console.store.db import Store

__all__ = [
    "MODEL_SIGNATURE",
    "SIGNOFF_ATTESTATIONS",
    "check_oms",
    "check_oms_member",
    "model_files",
    "oms_predicate",
    "oms_signature",
]

MODEL_SIGNATURE = "model.sig"  # the name `model_signing` looks for by default
SIGNOFF_ATTESTATIONS = (
    "MANIFEST.json",
    "attestation.dsse.json",
    "governance.json",
    "validation_report.json",
    MODEL_SIGNATURE,
)


def model_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The members the OMS signature covers: everything but signoff's own attestations."""
    return {name: data for name, data in files.items() if name not in SIGNOFF_ATTESTATIONS}


def oms_signature(top: str, files: Mapping[str, bytes], release: ReleaseSigner) -> bytes:
    """The `model.sig` bundle over the package's model files, signed by the release key."""
    return sign_model(top, model_files(files), SIGNOFF_ATTESTATIONS, release)


def oms_predicate(release: ReleaseSigner) -> dict[str, object]:
    """What the signed attestation says of the OMS signature: its file and release key."""
    return {
        "signature": MODEL_SIGNATURE,
        "release_keyid": release.keyid,
        "release_public_key": release_public_pem(release.public_key),
    }


def check_oms(
    members: Mapping[str, bytes],
    predicate: Mapping[str, object] | None,
    registered: Mapping[str, ec.EllipticCurvePublicKey] | None,
    problems: list[str],
) -> str | None:
    """Check `model.sig` against the package's files; the release keyid it verified with.

    The key is the one the (already verified) attestation names; with a store, it must also be
    a release key the store registered to the packager (`registered`, by keyid).
    """
    signature = members.get(MODEL_SIGNATURE)
    claimed = predicate.get("model_signing") if predicate is not None else None
    if signature is None:
        if claimed is not None:
            problems.append(
                f"the attestation names an OMS signature but {MODEL_SIGNATURE} is missing"
            )
        return None
    if not isinstance(claimed, Mapping):
        problems.append(f"{MODEL_SIGNATURE} is not named by the signed attestation")
        return None
    try:
        key = load_release_public_pem(
            str(claimed.get("release_public_key")).encode(), "the attestation's release key"
        )
    except ValueError as exc:  # BadInput is a ValueError of the audit core
        problems.append(str(exc))
        return None
    keyid = release_keyid(key)
    if claimed.get("release_keyid") != keyid:
        problems.append("the attestation's release keyid is not its release key's")
        return None
    if registered is not None and keyid not in registered:
        problems.append(
            f"{MODEL_SIGNATURE}: release key {keyid[:16]}… is not one this store "
            "registered to the packager"
        )
        return None
    try:
        signed = verify_model_signature(signature, [key])
    except ModelSignatureError as exc:
        problems.append(f"{MODEL_SIGNATURE}: {exc}")
        return None
    expected = model_files(members)
    actual = {name: sha256_hex(data) for name, data in expected.items()}
    if signed.resources != actual:
        missing = sorted(set(actual) - set(signed.resources))
        extra = sorted(set(signed.resources) - set(actual))
        changed = sorted(
            n for n in actual if n in signed.resources and signed.resources[n] != actual[n]
        )
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (("unsigned", missing), ("absent", extra), ("changed", changed))
            if names
        ]
        problems.append(f"{MODEL_SIGNATURE} does not match the model files: {'; '.join(parts)}")
        return None
    if set(signed.ignore_paths) != set(SIGNOFF_ATTESTATIONS):
        problems.append(f"{MODEL_SIGNATURE} leaves out other files than signoff's attestations")
        return None
    return signed.keyid


def check_oms_member(
    store: Store | None,
    members: Mapping[str, bytes],
    facts: Mapping[str, object],
    problems: list[str],
) -> str | None:
    """`check_oms` for a package whose attestation verified; with a store, against its keys."""
    predicate = facts.get("predicate")
    registered = None
    if store is not None:
        from console.identity.release_keys import release_public_keys

        registered = release_public_keys(store, str(facts.get("packager")))
    return check_oms(
        members, predicate if isinstance(predicate, Mapping) else None, registered, problems
    )
