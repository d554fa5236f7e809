"""ECDSA P-256 release keys: the key OpenSSF Model Signing verifiers accept, kept like our own."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from audit.errors import BadInput
from audit.keys import check_name, read_private_pem, write_private

__all__ = [
    "RELEASE_DIR",
    "ReleaseKeyStore",
    "ReleaseSigner",
    "load_release_public_pem",
    "release_keyid",
    "release_public_pem",
]

# Release keys sit in their own folder of the key directory, apart from the Ed25519 identities.
RELEASE_DIR = "release"


def release_public_pem(public_key: ec.EllipticCurvePublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def release_keyid(public_key: ec.EllipticCurvePublicKey) -> str:
    """sha256 of the SubjectPublicKeyInfo PEM: the hint an OMS bundle names its key by."""
    return hashlib.sha256(release_public_pem(public_key).encode("ascii")).hexdigest()


def _check_p256(key: object, source: str) -> ec.EllipticCurvePublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BadInput(
            f"{source} is not an ECDSA P-256 public key; "
            "make a release key with `signoff keys release-key create`"
        )
    return key


def load_release_public_pem(data: bytes, source: str) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise BadInput(
            f"{source} is not a PEM public key; export one with `signoff keys release-key export`"
        ) from exc
    return _check_p256(key, source)


@dataclass(frozen=True)
class ReleaseSigner:
    """An unlocked release key: signs packages' OMS bundles, never audit events."""

    name: str
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    @cached_property
    def keyid(self) -> str:
        return release_keyid(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """DER ECDSA-SHA256, deterministic (RFC 6979): the same package gives the same bytes."""
        return self.private_key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


class ReleaseKeyStore:
    """`<key directory>/release/NAME.key` (encrypted PKCS#8 PEM, mode 0600) and `NAME.pub`."""

    def __init__(self, keys_directory: Path) -> None:
        self.directory = keys_directory / RELEASE_DIR

    def key_path(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    def pub_path(self, name: str) -> Path:
        return self.directory / f"{name}.pub"

    def create(
        self,
        name: str,
        passphrase: bytes,
        private_key: ec.EllipticCurvePrivateKey | None = None,
    ) -> tuple[Path, Path, str]:
        """A new key pair (`private_key`: a given one, as the reproducible demo's)."""
        check_name(name, "key name")
        if not passphrase:
            raise BadInput("the passphrase is empty; a private key must be encrypted")
        if self.key_path(name).exists() or self.pub_path(name).exists():
            raise BadInput(
                f"a release key named {name!r} already exists in {self.directory}; "
                "choose another name"
            )
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if private_key is None:
            private_key = ec.generate_private_key(ec.SECP256R1())
        _check_p256(private_key.public_key(), name)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        write_private(self.key_path(name), pem)
        public = release_public_pem(private_key.public_key())
        self.pub_path(name).write_text(public, encoding="ascii")
        return self.key_path(name), self.pub_path(name), release_keyid(private_key.public_key())

    def public_key(self, name: str) -> ec.EllipticCurvePublicKey:
        check_name(name, "key name")
        path = self.pub_path(name)
        if not path.is_file():
            raise BadInput(
                f"no release key named {name!r} in {self.directory}; "
                "see `signoff keys release-key list`"
            )
        return load_release_public_pem(path.read_bytes(), str(path))

    def listing(self) -> list[tuple[str, str, bool]]:
        """(name, keyid, has private key) for every release key in the directory."""
        if not self.directory.is_dir():
            return []
        rows = []
        for path in sorted(self.directory.glob("*.pub")):
            try:
                key = self.public_key(path.stem)
            except BadInput:
                continue
            rows.append((path.stem, release_keyid(key), self.key_path(path.stem).is_file()))
        return rows

    def find(self, wanted_keyid: str) -> str | None:
        for name, found, has_private in self.listing():
            if found == wanted_keyid and has_private:
                return name
        return None

    def load(self, name: str, passphrase: bytes) -> ReleaseSigner:
        path = self.key_path(name)
        if not path.is_file():
            raise BadInput(f"no private release key {path}")
        key = read_private_pem(path, passphrase, f"release key {name!r}")
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise BadInput(f"{path} is not an ECDSA key")
        _check_p256(key.public_key(), str(path))
        return ReleaseSigner(name, key)
