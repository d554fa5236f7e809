"""C2SP signed notes and tlog checkpoints, so a log head can be kept and checked off the store."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "NoteError",
    "format_checkpoint",
    "note_key_id",
    "parse_checkpoint",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_note",
    "verify_note",
]

_ALG_ED25519 = b"\x01"
_SIG_PREFIX = "\u2014 "  # em dash, space
_MAX_SIGNATURES = 100  # the spec asks for a limit of at least 16
_MAX_TREE_SIZE = 2**64 - 1
# ASCII control characters other than newline, and lone surrogates (not encodable as UTF-8).
_FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\ud800-\udfff]")
_HEX8 = re.compile("[0-9a-fA-F]{8}")
_TREE_SIZE = re.compile("0|[1-9][0-9]*")


class NoteError(ValueError):
    """A signed note, key or checkpoint is malformed or does not verify."""


def _is_valid_name(name: str) -> bool:
    """Key names are non-empty, with no Unicode space, no '+' and no control character."""
    return (
        bool(name)
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and _FORBIDDEN.search(name) is None
    )


def _b64decode(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4, padded), NoteError otherwise."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError(f"invalid base64: {text!r}") from exc


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def note_key_id(name: str, public_key: bytes) -> bytes:
    """Ed25519 key ID: SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _ALG_ED25519 + public_key).digest()[:4]


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign text as name; return the signed note (text, blank line, one signature line)."""
    if not text.endswith("\n"):
        raise ValueError("note text must end with a newline")
    if _FORBIDDEN.search(text):
        raise ValueError("note text must be valid UTF-8 without control characters but newline")
    if not _is_valid_name(name):
        raise ValueError(f"invalid key name {name!r}: non-empty, no spaces, no '+'")
    key_id = note_key_id(name, _raw_public(private_key.public_key()))
    signature = private_key.sign(text.encode("utf-8"))
    encoded = base64.b64encode(key_id + signature).decode("ascii")
    return f"{text}\n{_SIG_PREFIX}{name} {encoded}\n"


def verify_note(note: str, verifiers: Mapping[str, Ed25519PublicKey]) -> tuple[str, list[str]]:
    """Verify a signed note against known keys (name -> public key).

    Returns the note text and the names whose signatures verified. Signatures from
    unknown keys (another name or key ID) are ignored. Raises NoteError if the note is
    malformed, if a signature from a known key fails, or if no known key signed it.
    """
    if not isinstance(note, str):
        raise NoteError("a note is text")
    if _FORBIDDEN.search(note):
        raise NoteError("note contains a control character or invalid Unicode")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("note has no signature lines, or they do not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError(f"note has more than {_MAX_SIGNATURES} signatures")

    known = {(name, note_key_id(name, _raw_public(key))): key for name, key in verifiers.items()}
    message = text.encode("utf-8")
    verified: list[str] = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise NoteError(f"malformed signature line: {line!r}")
        name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
        if not _is_valid_name(name) or not encoded:
            raise NoteError(f"malformed signature line: {line!r}")
        raw = _b64decode(encoded)
        if len(raw) < 5:
            raise NoteError(f"signature too short in line: {line!r}")
        key = known.get((name, raw[:4]))
        if key is None:
            continue
        try:
            key.verify(raw[4:], message)
        except InvalidSignature as exc:
            raise NoteError(f"signature by {name} does not verify") from exc
        if name not in verified:
            verified.append(name)
    if not verified:
        raise NoteError("note is not signed by any known key")
    return text, verified


def parse_verifier_key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """Parse a verifier key 'name+hexkeyid+base64(0x01 || public key)'."""
    name, _, rest = vkey.partition("+")
    key_hash, _, encoded = rest.partition("+")
    if not _is_valid_name(name) or not _HEX8.fullmatch(key_hash) or not encoded:
        raise NoteError("malformed verifier key")
    raw = _b64decode(encoded)
    if len(raw) != 33 or raw[:1] != _ALG_ED25519:
        raise NoteError("verifier key is not an Ed25519 key")
    public = raw[1:]
    if note_key_id(name, public) != bytes.fromhex(key_hash):
        raise NoteError("verifier key ID does not match its name and key")
    return name, Ed25519PublicKey.from_public_bytes(public)


def parse_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse a signer key 'PRIVATE+KEY+name+hexkeyid+base64(0x01 || seed)'."""
    private, _, rest = skey.partition("+")
    key_word, _, rest = rest.partition("+")
    name, _, rest = rest.partition("+")
    key_hash, _, encoded = rest.partition("+")
    if (
        private != "PRIVATE"
        or key_word != "KEY"
        or not _is_valid_name(name)
        or not _HEX8.fullmatch(key_hash)
        or not encoded
    ):
        raise NoteError("malformed signer key")
    raw = _b64decode(encoded)
    if len(raw) != 33 or raw[:1] != _ALG_ED25519:
        raise NoteError("signer key is not an Ed25519 key")
    private_key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    if note_key_id(name, _raw_public(private_key.public_key())) != bytes.fromhex(key_hash):
        raise NoteError("signer key ID does not match its name and key")
    return name, private_key


def format_checkpoint(origin: str, size: int, root: bytes) -> str:
    """Checkpoint note text: '<origin>\\n<size>\\n<base64 root>\\n'."""
    if not origin or "\n" in origin or _FORBIDDEN.search(origin):
        raise ValueError("checkpoint origin must be one non-empty line")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_TREE_SIZE:
        raise ValueError(f"checkpoint size must be an integer in 0..2**64-1, not {size!r}")
    if not isinstance(root, bytes) or len(root) != 32:
        raise ValueError("checkpoint root must be 32 bytes")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    """Parse checkpoint note text into (origin, size, root); extension lines are ignored."""
    if not isinstance(text, str) or not text.endswith("\n") or _FORBIDDEN.search(text):
        raise NoteError("checkpoint must be text ending in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, size and root lines")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise NoteError("checkpoint origin is empty")
    if not _TREE_SIZE.fullmatch(size_line):
        raise NoteError(f"checkpoint size is not a decimal without leading zeros: {size_line!r}")
    size = int(size_line) if len(size_line) <= 20 else _MAX_TREE_SIZE + 1
    if size > _MAX_TREE_SIZE:
        raise NoteError("checkpoint size is larger than 2**64-1")
    root = _b64decode(root_line)
    if len(root) != 32 or base64.b64encode(root).decode("ascii") != root_line:
        raise NoteError("checkpoint root is not the base64 of 32 bytes")
    if any(not line for line in extensions):
        raise NoteError("checkpoint extension lines must be non-empty")
    return origin, size, root
