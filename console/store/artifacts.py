"""Content-addressed artifact storage: atomic writes, and a digest check on every read."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from console.errors import BadInput, IntegrityError
from console.files import file_sha256, publish, sync_file, write_atomically


class ArtifactStore:
    """Blobs under `artifacts/sha256/<2 hex>/<digest>`; a blob's name is its content's hash."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        return self.root / "sha256" / digest[:2] / digest

    def has(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    def put_bytes(self, data: bytes) -> tuple[str, bool]:
        """Store `data`; returns its digest and whether this call created the blob."""
        digest = hashlib.sha256(data).hexdigest()
        if self.has(digest):
            return digest, False
        target = self.path_for(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data, mode=0o444)
        return digest, True

    def put_file(self, source: Path) -> tuple[str, bool]:
        try:
            with source.open("rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise BadInput(f"cannot read {source}: {exc.strerror or exc}") from exc
        return self.put_bytes(data)

    def adopt_file(self, source: Path) -> tuple[str, bool]:
        """Move a file just written on the same file system (see `staging`) into the store.

        For large files: hashed in chunks, never held in memory. `source` is consumed; returns its
        digest and whether this call created the blob.
        """
        digest = file_sha256(source)
        if self.has(digest):
            source.unlink()
            return digest, False
        target = self.path_for(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        sync_file(source)
        os.chmod(source, 0o444)
        publish(source, target)
        return digest, True

    def staging(self) -> tempfile.TemporaryDirectory[str]:
        """A scratch directory beside the blobs (same file system, so `adopt_file` renames)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(dir=self.root, prefix=".staging-")

    def verified_path(self, digest: str) -> Path:
        """The blob's path, after checking its content in chunks (for files read in place)."""
        path = self.path_for(digest)
        try:
            actual = file_sha256(path)
        except OSError as exc:
            raise IntegrityError(f"artifact {path} is missing or unreadable") from exc
        if actual != digest:
            raise IntegrityError(
                f"artifact {path} does not match its digest (sha256 {actual[:16]}…); "
                "it was modified or swapped, restore it from a backup"
            )
        return path

    def remove(self, digest: str) -> None:
        """Undo a blob this unit of work created, when its transaction failed."""
        path = self.path_for(digest)
        path.unlink(missing_ok=True)
        for parent in (path.parent, path.parent.parent):
            try:
                parent.rmdir()
            except OSError:
                break

    def read_verified(self, digest: str) -> bytes:
        path = self.path_for(digest)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IntegrityError(f"artifact {path} is missing or unreadable") from exc
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise IntegrityError(
                f"artifact {path} does not match its digest (sha256 {actual[:16]}…); "
                "it was modified or swapped, restore it from a backup"
            )
        return data

    def verify(self, digest: str) -> bool:
        try:
            self.read_verified(digest)
        except IntegrityError:
            return False
        return True
