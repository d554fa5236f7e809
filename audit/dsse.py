"""DSSE envelopes of in-toto statements, so attestations verify with standard supply-chain tools."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.canonical import canonical_json, sha256_hex

__all__ = [
    "PAYLOAD_TYPE_INTOTO",
    "STATEMENT_TYPE",
    "EnvelopeError",
    "pae",
    "sign_envelope",
    "sslib_keyid",
    "statement",
    "verify_envelope",
]

PAYLOAD_TYPE_INTOTO = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"

_SHA256_HEX = re.compile("[0-9a-f]{64}")
_BASE64 = re.compile("[A-Za-z0-9+/_-]*={0,2}")


class EnvelopeError(ValueError):
    """A DSSE envelope is malformed or lacks enough valid signatures from known keys."""


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: 'DSSEv1 <len> <type> <len> <body>'."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(body), body)


def sslib_keyid(public_key: Ed25519PublicKey) -> str:
    """securesystemslib key ID: sha256 hex of the canonical JSON of the key's metadata."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return sha256_hex(
        canonical_json({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": raw.hex()}})
    )


def statement(
    subjects: Mapping[str, str], predicate_type: str, predicate: Mapping[str, object]
) -> dict[str, object]:
    """An in-toto Statement v1 about subjects (name -> sha256 hex), sorted by name."""
    if not subjects:
        raise ValueError("an in-toto statement needs at least one subject")
    for name, digest in subjects.items():
        if not isinstance(name, str) or not name:
            raise ValueError("subject names must be non-empty strings")
        if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
            raise ValueError(f"subject {name!r} digest must be 64 lowercase hex characters")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise ValueError("predicate type must be a non-empty string")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": name, "digest": {"sha256": subjects[name]}} for name in sorted(subjects)
        ],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }


def sign_envelope(
    payload: bytes, private_key: Ed25519PrivateKey, payload_type: str = PAYLOAD_TYPE_INTOTO
) -> dict[str, object]:
    """Sign payload in a DSSE envelope with one signature that carries its keyid."""
    signature = private_key.sign(pae(payload_type, payload))
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [
            {
                "keyid": sslib_keyid(private_key.public_key()),
                "sig": base64.b64encode(signature).decode("ascii"),
            }
        ],
    }


def _b64decode(value: object, field: str) -> bytes:
    """DSSE allows standard or URL-safe base64, padded or not."""
    if not isinstance(value, str) or not _BASE64.fullmatch(value):
        raise EnvelopeError(f"envelope {field} is not base64")
    text = value.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise EnvelopeError(f"envelope {field} is not base64") from exc


def verify_envelope(
    envelope: Mapping[str, object], public_keys: Iterable[Ed25519PublicKey], threshold: int = 1
) -> tuple[bytes, list[str]]:
    """Verify a DSSE envelope; return its payload and the keyids whose signatures verified.

    Only signatures whose keyid names one of public_keys are checked; a signature that
    fails is not counted. Raises EnvelopeError if the envelope is malformed or fewer than
    threshold distinct keys verify.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError("threshold must be a positive integer")
    if not isinstance(envelope, Mapping):
        raise EnvelopeError("envelope must be a JSON object")
    payload = _b64decode(envelope.get("payload"), "payload")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str):
        raise EnvelopeError("envelope payloadType must be a string")
    entries = envelope.get("signatures")
    if not isinstance(entries, list):
        raise EnvelopeError("envelope signatures must be a list")
    signatures: list[tuple[str, bytes]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise EnvelopeError("each envelope signature must be a JSON object")
        keyid = entry.get("keyid")
        if keyid is not None and not isinstance(keyid, str):
            raise EnvelopeError("envelope signature keyid must be a string")
        sig = _b64decode(entry.get("sig"), "sig")
        if keyid:
            signatures.append((keyid, sig))

    known = {sslib_keyid(key): key for key in public_keys}
    message = pae(payload_type, payload)
    verified: list[str] = []
    for keyid, sig in signatures:
        key = known.get(keyid)
        if key is None or keyid in verified:
            continue
        try:
            key.verify(sig, message)
        except InvalidSignature:
            continue
        verified.append(keyid)
    if len(verified) < threshold:
        raise EnvelopeError(
            f"envelope has {len(verified)} valid signature(s) from known keys, needs {threshold}"
        )
    return payload, verified
