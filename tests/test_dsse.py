"""DSSE envelopes: the PAE vector, forgeries refused, securesystemslib as independent verifier."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey  # type: ignore[attr-defined]

from audit.canonical import canonical_json
from audit.dsse import (
    PAYLOAD_TYPE_INTOTO,
    STATEMENT_TYPE,
    EnvelopeError,
    pae,
    sign_envelope,
    sslib_keyid,
    statement,
    verify_envelope,
)


def _vector_file(name: str) -> Path:
    """The public vectors: a copy in tests/vectors/, else the shared ../shared/vectors/."""
    repo = Path(__file__).resolve().parents[1]
    local = repo / "tests" / "vectors" / name
    return local if local.exists() else repo.parent / "shared" / "vectors" / name


VECTOR: dict[str, Any] = json.loads(_vector_file("dsse.json").read_text(encoding="utf-8"))
DIGEST = "a" * 64


def pubhex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def payload() -> bytes:
    return canonical_json(
        statement({"model.skops": DIGEST}, "https://signoff.local/approval/v1", {"ok": True})
    )


def test_pae_vector() -> None:
    encoded = pae(VECTOR["payload_type"], VECTOR["body"].encode())
    assert encoded == VECTOR["pae"].encode()


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t/é", "ü".encode()) == "DSSEv1 4 t/é 2 ü".encode()


def test_statement_shape() -> None:
    got = statement({"b": "1" * 64, "a": "2" * 64}, "https://example/p", {"k": [1]})
    assert got == {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": "a", "digest": {"sha256": "2" * 64}},
            {"name": "b", "digest": {"sha256": "1" * 64}},
        ],
        "predicateType": "https://example/p",
        "predicate": {"k": [1]},
    }


@pytest.mark.parametrize(
    ("subjects", "predicate_type"),
    [
        ({}, "p"),
        ({"a": "A" * 64}, "p"),
        ({"a": "a" * 63}, "p"),
        ({"": DIGEST}, "p"),
        ({"a": DIGEST}, ""),
    ],
)
def test_statement_rejects_bad_input(subjects: dict[str, str], predicate_type: str) -> None:
    with pytest.raises(ValueError):
        statement(subjects, predicate_type, {})


def test_keyid_matches_securesystemslib(key: Ed25519PrivateKey) -> None:
    assert sslib_keyid(key.public_key()) == SSlibKey.from_crypto(key.public_key()).keyid


def test_roundtrip(key: Ed25519PrivateKey, payload: bytes) -> None:
    env = sign_envelope(payload, key)
    assert env["payloadType"] == PAYLOAD_TYPE_INTOTO
    assert env["payload"] == b64(payload)
    assert verify_envelope(env, [key.public_key()]) == (payload, [sslib_keyid(key.public_key())])
    # The envelope survives JSON serialization.
    assert verify_envelope(json.loads(json.dumps(env)), [key.public_key()])[0] == payload


def test_tampered_payload_fails(key: Ed25519PrivateKey, payload: bytes) -> None:
    env = sign_envelope(payload, key)
    env["payload"] = b64(payload.replace(b"true", b"false"))
    with pytest.raises(EnvelopeError):
        verify_envelope(env, [key.public_key()])


def test_tampered_payload_type_fails(key: Ed25519PrivateKey, payload: bytes) -> None:
    env = sign_envelope(payload, key)
    env["payloadType"] = "application/json"
    with pytest.raises(EnvelopeError):
        verify_envelope(env, [key.public_key()])


def test_tampered_signature_fails(key: Ed25519PrivateKey, payload: bytes) -> None:
    env = sign_envelope(payload, key)
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))  # type: ignore[index]
    sig[0] ^= 1
    env["signatures"][0]["sig"] = b64(bytes(sig))  # type: ignore[index]
    with pytest.raises(EnvelopeError):
        verify_envelope(env, [key.public_key()])


def test_unknown_key_fails(key: Ed25519PrivateKey, payload: bytes) -> None:
    env = sign_envelope(payload, key)
    with pytest.raises(EnvelopeError):
        verify_envelope(env, [Ed25519PrivateKey.generate().public_key()])
    with pytest.raises(EnvelopeError):
        verify_envelope(env, [])


def test_signature_without_keyid_is_ignored(key: Ed25519PrivateKey, payload: bytes) -> None:
    env = sign_envelope(payload, key)
    del env["signatures"][0]["keyid"]  # type: ignore[index]
    with pytest.raises(EnvelopeError):
        verify_envelope(env, [key.public_key()])


def test_threshold_counts_distinct_keys(payload: bytes) -> None:
    k1, k2, k3 = (Ed25519PrivateKey.generate() for _ in range(3))
    sigs: list[object] = []
    for k in (k1, k1, k2):
        sigs.extend(sign_envelope(payload, k)["signatures"])  # type: ignore[arg-type]
    env = {"payload": b64(payload), "payloadType": PAYLOAD_TYPE_INTOTO, "signatures": sigs}
    keys = [k1.public_key(), k2.public_key(), k3.public_key()]
    _, verified = verify_envelope(env, keys, threshold=2)
    assert verified == [sslib_keyid(k1.public_key()), sslib_keyid(k2.public_key())]
    with pytest.raises(EnvelopeError):
        verify_envelope(env, keys, threshold=3)
    # A known keyid with a wrong signature is not counted, and is not an error by itself.
    forged = {"keyid": sslib_keyid(k3.public_key()), "sig": b64(bytes(64))}
    env["signatures"] = [*sigs, forged]
    assert len(verify_envelope(env, keys, threshold=2)[1]) == 2
    with pytest.raises(EnvelopeError):
        verify_envelope(env, keys, threshold=3)
    with pytest.raises(ValueError):
        verify_envelope(env, keys, threshold=0)


def test_url_safe_unpadded_base64_accepted(key: Ed25519PrivateKey) -> None:
    payload = b"\xfb\xff\xfe?>"  # encodes to characters that differ between the alphabets
    env = sign_envelope(payload, key, payload_type="application/octet-stream")
    env["payload"] = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    assert verify_envelope(env, [key.public_key()])[0] == payload


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("payload"),
        lambda e: e.update(payload=5),
        lambda e: e.update(payload="not base64!"),
        lambda e: e.update(payload="AAAAA"),
        lambda e: e.pop("payloadType"),
        lambda e: e.update(payloadType=None),
        lambda e: e.update(signatures={}),
        lambda e: e.pop("signatures"),
        lambda e: e.update(signatures=["sig"]),
        lambda e: e["signatures"][0].update(keyid=7),
        lambda e: e["signatures"][0].pop("sig"),
        lambda e: e["signatures"][0].update(sig="%%%"),
    ],
)
def test_malformed_envelopes(mutate: Any, key: Ed25519PrivateKey, payload: bytes) -> None:
    env = sign_envelope(payload, key)
    mutate(env)
    with pytest.raises(EnvelopeError):
        verify_envelope(env, [key.public_key()])


def test_not_a_mapping(key: Ed25519PrivateKey) -> None:
    with pytest.raises(EnvelopeError):
        verify_envelope([], [key.public_key()])  # type: ignore[arg-type]


# securesystemslib, the reference DSSE client, as an independent verifier and signer.


def sslib_key(key: Ed25519PrivateKey) -> SSlibKey:
    keyid = sslib_keyid(key.public_key())
    return SSlibKey(keyid, "ed25519", "ed25519", {"public": pubhex(key)})


def test_securesystemslib_verifies_our_envelope(key: Ed25519PrivateKey, payload: bytes) -> None:
    env = sign_envelope(payload, key)
    # from_dict rewrites the signature dicts in place; hand it a copy.
    parsed = Envelope.from_dict(copy.deepcopy(env))
    accepted = parsed.verify([sslib_key(key)], 1)
    assert list(accepted) == [sslib_keyid(key.public_key())]
    assert parsed.payload == payload
    assert parsed.payload_type == PAYLOAD_TYPE_INTOTO


def test_securesystemslib_rejects_our_tampered_envelope(
    key: Ed25519PrivateKey, payload: bytes
) -> None:
    env = sign_envelope(payload, key)
    env["payload"] = b64(payload + b" ")
    with pytest.raises(VerificationError):
        Envelope.from_dict(copy.deepcopy(env)).verify([sslib_key(key)], 1)
    env = sign_envelope(payload, key)
    env["payloadType"] = "text/plain"
    with pytest.raises(VerificationError):
        Envelope.from_dict(copy.deepcopy(env)).verify([sslib_key(key)], 1)


def test_we_verify_securesystemslib_envelope(key: Ed25519PrivateKey, payload: bytes) -> None:
    theirs = Envelope(payload, PAYLOAD_TYPE_INTOTO, {})
    theirs.sign(CryptoSigner(key))
    assert verify_envelope(theirs.to_dict(), [key.public_key()]) == (
        payload,
        [sslib_keyid(key.public_key())],
    )
