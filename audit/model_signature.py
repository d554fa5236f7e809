"""OpenSSF Model Signing (OMS) signatures: a Sigstore bundle around a DSSE in-toto statement.

The layout is the one `model_signing sign key` writes and `model_signing verify key` checks: the
statement's one subject is the model's name with the sha256 over its files' digests (in name
order); the predicate lists each file (`resources`) and how they were serialized (`files`,
sha256, the paths left out). Key mode: no certificate, no transparency log, the public key named
by its hint (sha256 of its SubjectPublicKeyInfo PEM).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from audit.canonical import canonical_json
from audit.dsse import PAYLOAD_TYPE_INTOTO, STATEMENT_TYPE, pae
from audit.release_keys import ReleaseSigner, release_keyid

__all__ = [
    "BUNDLE_MEDIA_TYPE",
    "OMS_PREDICATE_TYPE",
    "ModelSignatureError",
    "SignedModel",
    "model_statement",
    "sign_model",
    "verify_model_signature",
]

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
OMS_PREDICATE_TYPE = "https://model_signing/signature/v1.0"


class ModelSignatureError(ValueError):
    """An OMS bundle is malformed, unsigned by the key, or does not match the model's files."""


def _root_digest(resources: Sequence[Mapping[str, str]]) -> str:
    """sha256 over the files' raw digests, in the order listed (name order)."""
    hasher = hashlib.sha256()
    for resource in resources:
        hasher.update(bytes.fromhex(resource["digest"]))
    return hasher.hexdigest()


def model_statement(
    model_name: str, files: Mapping[str, bytes], ignore_paths: Iterable[str]
) -> dict[str, object]:
    """The in-toto statement `model_signing` expects over `files` (name -> content)."""
    resources = [
        {"algorithm": "sha256", "digest": hashlib.sha256(files[name]).hexdigest(), "name": name}
        for name in sorted(files)
    ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": model_name, "digest": {"sha256": _root_digest(resources)}}],
        "predicateType": OMS_PREDICATE_TYPE,
        "predicate": {
            "serialization": {
                "method": "files",
                "hash_type": "sha256",
                "allow_symlinks": False,
                "ignore_paths": sorted(ignore_paths),
            },
            "resources": resources,
        },
    }


def sign_model(
    model_name: str, files: Mapping[str, bytes], ignore_paths: Iterable[str], signer: ReleaseSigner
) -> bytes:
    """The OMS signature file (Sigstore bundle JSON) over `files`, signed by the release key."""
    payload = canonical_json(model_statement(model_name, files, ignore_paths))
    signature = signer.sign(pae(PAYLOAD_TYPE_INTOTO, payload))
    return canonical_json(
        {
            "mediaType": BUNDLE_MEDIA_TYPE,
            "verificationMaterial": {"publicKey": {"hint": signer.keyid}, "tlogEntries": []},
            "dsseEnvelope": {
                "payload": base64.b64encode(payload).decode("ascii"),
                "payloadType": PAYLOAD_TYPE_INTOTO,
                "signatures": [
                    {"keyid": signer.keyid, "sig": base64.b64encode(signature).decode("ascii")}
                ],
            },
        }
    )


@dataclass(frozen=True)
class SignedModel:
    """What a verified OMS signature covers: the files by digest, and what it leaves out."""

    model_name: str
    keyid: str
    resources: dict[str, str]  # file name -> sha256 hex
    ignore_paths: tuple[str, ...]


def _object(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ModelSignatureError(f"{what} is not a JSON object")
    return value


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise ModelSignatureError(f"{what} is not base64")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ModelSignatureError(f"{what} is not base64") from exc


def verify_model_signature(
    bundle_bytes: bytes, public_keys: Iterable[ec.EllipticCurvePublicKey]
) -> SignedModel:
    """Check the bundle's signature with the key its hint names among `public_keys`."""
    try:
        bundle = _object(json.loads(bundle_bytes), "the signature")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelSignatureError("the signature is not JSON") from exc
    if bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise ModelSignatureError(f"the signature is not a {BUNDLE_MEDIA_TYPE} bundle")
    material = _object(bundle.get("verificationMaterial"), "verificationMaterial")
    hint = _object(material.get("publicKey"), "verificationMaterial.publicKey").get("hint")
    keys = {release_keyid(key): key for key in public_keys}
    key = keys.get(hint) if isinstance(hint, str) else None
    if key is None:
        raise ModelSignatureError(f"signed by release key {str(hint)[:16]}…, not a key trusted")
    envelope = _object(bundle.get("dsseEnvelope"), "dsseEnvelope")
    payload = _b64(envelope.get("payload"), "the DSSE payload")
    if envelope.get("payloadType") != PAYLOAD_TYPE_INTOTO:
        raise ModelSignatureError("the DSSE payload is not an in-toto statement")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or len(signatures) != 1:
        raise ModelSignatureError("the DSSE envelope must hold exactly one signature")
    sig = _b64(_object(signatures[0], "the DSSE signature").get("sig"), "the DSSE signature")
    try:
        key.verify(sig, pae(PAYLOAD_TYPE_INTOTO, payload), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ModelSignatureError("the DSSE signature does not verify") from exc
    return _signed_model(payload, str(hint))


def _signed_model(payload: bytes, keyid: str) -> SignedModel:
    try:
        statement = _object(json.loads(payload), "the statement")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelSignatureError("the statement is not JSON") from exc
    if statement.get("_type") != STATEMENT_TYPE:
        raise ModelSignatureError("the statement is not an in-toto Statement v1")
    if statement.get("predicateType") != OMS_PREDICATE_TYPE:
        raise ModelSignatureError(f"the predicate is not {OMS_PREDICATE_TYPE}")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise ModelSignatureError("the statement must have exactly one subject")
    subject = _object(subjects[0], "the subject")
    predicate = _object(statement.get("predicate"), "the predicate")
    serialization = _object(predicate.get("serialization"), "the serialization")
    if serialization.get("method") != "files" or serialization.get("hash_type") != "sha256":
        raise ModelSignatureError("the serialization is not per file with sha256")
    listed = predicate.get("resources")
    if not isinstance(listed, list):
        raise ModelSignatureError("the predicate lists no resources")
    resources: list[Mapping[str, str]] = []
    for item in listed:
        entry = _object(item, "a resource")
        name, digest = entry.get("name"), entry.get("digest")
        if entry.get("algorithm") != "sha256" or not isinstance(name, str):
            raise ModelSignatureError("a resource is not a named sha256 digest")
        if not isinstance(digest, str) or len(digest) != 64:
            raise ModelSignatureError(f"resource {name} has no sha256 digest")
        try:
            bytes.fromhex(digest)
        except ValueError as exc:
            raise ModelSignatureError(f"resource {name} has no sha256 digest") from exc
        resources.append({"name": name, "digest": digest})
    root = _object(subject.get("digest"), "the subject digest").get("sha256")
    if root != _root_digest(resources):
        raise ModelSignatureError("the subject digest is not the digest of the resources")
    ignored = serialization.get("ignore_paths", [])
    return SignedModel(
        model_name=str(subject.get("name")),
        keyid=keyid,
        resources={r["name"]: r["digest"] for r in resources},
        ignore_paths=tuple(str(p) for p in ignored) if isinstance(ignored, list) else (),
    )
