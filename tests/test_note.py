"""C2SP signed notes and checkpoints: the sumdb vector byte for byte, and forgeries refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from audit.note import (
    NoteError,
    format_checkpoint,
    note_key_id,
    parse_checkpoint,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    verify_note,
)


def _vector_file(name: str) -> Path:
    """The public vectors: a copy in tests/vectors/, else the shared ../shared/vectors/."""
    repo = Path(__file__).resolve().parents[1]
    local = repo / "tests" / "vectors" / name
    return local if local.exists() else repo.parent / "shared" / "vectors" / name


VECTOR: dict[str, Any] = json.loads(_vector_file("signed_note.json").read_text(encoding="utf-8"))
TEXT: str = VECTOR["text"]
SIGNED: str = VECTOR["signed_note"]
DASH = "\u2014"


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_vector_signed_byte_for_byte() -> None:
    name, private_key = parse_signer_key(VECTOR["signer_key"])
    assert name == "PeterNeumann"
    assert sign_note(TEXT, name, private_key) == SIGNED


def test_vector_verifies() -> None:
    name, public_key = parse_verifier_key(VECTOR["verifier_key"])
    assert name == "PeterNeumann"
    assert verify_note(SIGNED, {name: public_key}) == (TEXT, ["PeterNeumann"])


def test_vector_keys_match_and_key_id() -> None:
    _, private_key = parse_signer_key(VECTOR["signer_key"])
    _, public_key = parse_verifier_key(VECTOR["verifier_key"])
    assert raw_public(private_key) == public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert note_key_id("PeterNeumann", raw_public(private_key)).hex() == "c74f20a3"


@pytest.fixture
def verifiers() -> dict[str, Any]:
    name, public_key = parse_verifier_key(VECTOR["verifier_key"])
    return {name: public_key}


def test_tampered_text_rejected(verifiers: dict[str, Any]) -> None:
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(SIGNED.replace("don't", "do"), verifiers)


def test_tampered_signature_rejected(verifiers: dict[str, Any]) -> None:
    line = SIGNED.split("\n\n")[1]
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[10] ^= 1
    forged = TEXT + "\n" + f"{DASH} PeterNeumann {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(forged, verifiers)


def test_truncated_signature_from_known_key_rejected(verifiers: dict[str, Any]) -> None:
    raw = base64.b64decode(SIGNED.split("\n\n")[1].split(" ")[2])[:-1]
    forged = TEXT + "\n" + f"{DASH} PeterNeumann {base64.b64encode(raw).decode()}\n"
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(forged, verifiers)


def test_unknown_key_rejected() -> None:
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(NoteError, match="not signed by any known key"):
        verify_note(SIGNED, {"PeterNeumann": stranger.public_key()})
    with pytest.raises(NoteError, match="not signed by any known key"):
        verify_note(SIGNED, {})


def test_same_name_other_key_is_ignored(verifiers: dict[str, Any]) -> None:
    impostor = Ed25519PrivateKey.generate()
    extra = sign_note(TEXT, "PeterNeumann", impostor).split("\n\n")[1]
    # Another key under the same name has another key ID: ignored, not an error.
    assert verify_note(SIGNED + extra, verifiers) == (TEXT, ["PeterNeumann"])


def test_several_signers_and_unknown_signatures() -> None:
    alice, bob, carol = (Ed25519PrivateKey.generate() for _ in range(3))
    text = "log.example/a\n3\n" + base64.b64encode(bytes(32)).decode() + "\n"
    note = sign_note(text, "alice", alice)
    for name, key in (("bob", bob), ("carol", carol)):
        note += sign_note(text, name, key).split("\n\n")[1]
    keys = {"alice": alice.public_key(), "carol": carol.public_key()}
    assert verify_note(note, keys) == (text, ["alice", "carol"])


def test_text_with_empty_lines_roundtrips() -> None:
    key = Ed25519PrivateKey.generate()
    text = "first\n\nafter a blank line\n\n"
    assert verify_note(sign_note(text, "k", key), {"k": key.public_key()}) == (text, ["k"])


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=80))
def test_sign_verify_roundtrip(body: str) -> None:
    key = Ed25519PrivateKey.generate()
    text = body + "\n"
    assert (
        verify_note(sign_note(text, "log.example/k", key), {"log.example/k": key.public_key()})[0]
        == text
    )


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("no final newline", "k"),
        ("", "k"),
        ("tab\there\n", "k"),
        ("bad \ud800 surrogate\n", "k"),
        ("ok\n", ""),
        ("ok\n", "has space"),
        ("ok\n", "has+plus"),
        ("ok\n", "nbsp\u00a0name"),
    ],
)
def test_sign_rejects_bad_input(text: str, name: str) -> None:
    with pytest.raises(ValueError):
        sign_note(text, name, Ed25519PrivateKey.generate())


@pytest.mark.parametrize(
    "note",
    [
        "",
        TEXT,
        TEXT + "\n",
        SIGNED.rstrip("\n"),
        SIGNED.replace(DASH + " ", "- "),
        SIGNED.replace("PeterNeumann ", "PeterNeumann"),
        SIGNED.replace("PeterNeumann", ""),
        SIGNED.replace("=\n", "\n"),
        SIGNED.replace("x08go", "x08g*"),
        SIGNED + "\n",
        SIGNED + "not a signature line\n",
        SIGNED.replace("If you", "If\x07you"),
        TEXT + "\n" + f"{DASH} PeterNeumann AAAA\n",
        TEXT + "\n" + (f"{DASH} other " + base64.b64encode(bytes(68)).decode() + "\n") * 101,
    ],
)
def test_malformed_notes_rejected(note: str, verifiers: dict[str, Any]) -> None:
    with pytest.raises(NoteError):
        verify_note(note, verifiers)


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+_74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_bad_verifier_keys(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_verifier_key(vkey)


@pytest.mark.parametrize(
    "skey",
    [
        VECTOR["signer_key"].replace("c74f20a3", "c74f20a4"),
        VECTOR["signer_key"].replace("PRIVATE+", "PRIVATE-"),
        VECTOR["signer_key"].replace("+KEY+", "+KEYS+"),
        VECTOR["signer_key"].replace("AYEK", "AoEK"),
        VECTOR["verifier_key"],
    ],
)
def test_bad_signer_keys(skey: str) -> None:
    with pytest.raises(NoteError):
        parse_signer_key(skey)


def test_checkpoint_format() -> None:
    root = bytes(range(32))
    text = format_checkpoint("signoff.local/audit", 42, root)
    assert text == f"signoff.local/audit\n42\n{base64.b64encode(root).decode()}\n"
    assert parse_checkpoint(text) == ("signoff.local/audit", 42, root)


def test_checkpoint_spec_example_and_extensions() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    origin, size, root = parse_checkpoint(text)
    assert (origin, size, len(root)) == ("example.com/behind-the-sofa", 20852163, 32)
    assert parse_checkpoint(text + "ext one\next two\n") == (origin, size, root)


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1),
    st.integers(min_value=0, max_value=2**64 - 1),
    st.binary(min_size=32, max_size=32),
)
def test_checkpoint_roundtrip(origin: str, size: int, root: bytes) -> None:
    assert parse_checkpoint(format_checkpoint(origin, size, root)) == (origin, size, root)


def test_signed_checkpoint_roundtrip() -> None:
    key = Ed25519PrivateKey.generate()
    note = sign_note(format_checkpoint("o", 7, bytes(32)), "o", key)
    text, names = verify_note(note, {"o": key.public_key()})
    assert names == ["o"]
    assert parse_checkpoint(text) == ("o", 7, bytes(32))


ROOT64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"o\n1\n{ROOT64}",
        "o\n1\n",
        f"\n1\n{ROOT64}\n",
        f"o\n01\n{ROOT64}\n",
        f"o\n-1\n{ROOT64}\n",
        f"o\n+1\n{ROOT64}\n",
        f"o\n1 \n{ROOT64}\n",
        f"o\n\u0661\n{ROOT64}\n",
        f"o\n{2**64}\n{ROOT64}\n",
        f"o\n{'9' * 5000}\n{ROOT64}\n",
        f"o\n1\n{base64.b64encode(bytes(31)).decode()}\n",
        f"o\n1\n{ROOT64.rstrip('=')}\n",
        "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",
        f"o\n1\n{ROOT64}\n\n",
        f"o\n1\n{ROOT64}\next\n\n",
        f"o\x00\n1\n{ROOT64}\n",
    ],
)
def test_bad_checkpoints(text: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(text)


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, bytes(32)), ("a\nb", 1, bytes(32)), ("o", -1, bytes(32)), ("o", 1, bytes(31))],
)
def test_format_checkpoint_rejects_bad_input(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(ValueError):
        format_checkpoint(origin, size, root)
