"""Ed25519 identities: key files encrypted at rest, fingerprints, and the signer that uses them."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from audit.dsse import sslib_keyid
from audit.errors import BadInput, Refused

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def check_name(name: str, what: str = "name") -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise BadInput(
            f"invalid {what} {name!r}: use 1-64 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def public_raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def keyid(public_key: Ed25519PublicKey) -> str:
    """The key's id and fingerprint: the securesystemslib keyid, so DSSE verifiers agree."""
    return sslib_keyid(public_key)


def load_public_pem(data: bytes, source: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise BadInput(
            f"{source} is not a PEM public key; export one with `signoff keys export`"
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise BadInput(
            f"{source} is not an Ed25519 public key; make one with `signoff keys create`"
        )
    return key


def public_from_raw(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class Signer:
    """An unlocked identity: the name it acts as and the private key that proves it."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @cached_property
    def keyid(self) -> str:
        return keyid(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


class KeyStore:
    """A directory of `NAME.key` (encrypted PKCS#8 PEM, mode 0600) and `NAME.pub` files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def key_path(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    def pub_path(self, name: str) -> Path:
        return self.directory / f"{name}.pub"

    def create(
        self, name: str, passphrase: bytes, *, private_key: Ed25519PrivateKey | None = None
    ) -> tuple[Path, Path, str]:
        check_name(name, "key name")
        if not passphrase:
            raise BadInput("the passphrase is empty; a private key must be encrypted")
        if self.key_path(name).exists() or self.pub_path(name).exists():
            raise BadInput(
                f"a key named {name!r} already exists in {self.directory}; choose another name"
            )
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        private_key = private_key or Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        write_private(self.key_path(name), pem)
        self.pub_path(name).write_text(public_pem(private_key.public_key()), encoding="ascii")
        return self.key_path(name), self.pub_path(name), keyid(private_key.public_key())

    def public_key(self, name: str) -> Ed25519PublicKey:
        path = self.pub_path(name)
        if not path.is_file():
            raise BadInput(f"no key named {name!r} in {self.directory}; see `signoff keys list`")
        return load_public_pem(path.read_bytes(), str(path))

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(
            p.stem for p in self.directory.glob("*.pub") if NAME_PATTERN.fullmatch(p.stem)
        )

    def listing(self) -> list[tuple[str, str, bool]]:
        """(name, keyid, has private key) for every key in the directory."""
        rows = []
        for name in self.names():
            try:
                rows.append((name, keyid(self.public_key(name)), self.key_path(name).is_file()))
            except BadInput:
                continue
        return rows

    def find(self, wanted_keyid: str) -> str | None:
        for name, found, has_private in self.listing():
            if found == wanted_keyid and has_private:
                return name
        return None

    def load_private(self, name: str, passphrase: bytes) -> Ed25519PrivateKey:
        path = self.key_path(name)
        if not path.is_file():
            raise BadInput(f"no private key {path}; create one with `signoff keys create {name}`")
        key = read_private_pem(path, passphrase, f"key {name!r}")
        if not isinstance(key, Ed25519PrivateKey):
            raise BadInput(f"{path} is not an Ed25519 key")
        return key


def read_private_pem(path: Path, passphrase: bytes, what: str) -> PrivateKeyTypes:
    """A passphrase-protected private key file, refused when other users may read it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise Refused(f"{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`")
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    except (ValueError, TypeError) as exc:
        raise BadInput(f"wrong passphrase for {what} (or {path} is damaged)") from exc


def write_private(path: Path, pem: bytes) -> None:
    """Write a new private key file readable by its owner only (never over an existing one)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)
