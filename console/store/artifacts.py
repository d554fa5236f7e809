"""Content-addressed artifact storage: atomic writes, and a digest check on every read."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlmodel import Session

from console.errors import BadInput, IntegrityError
from console.files import file_sha256, publish, sync_file, write_atomically
from console.store.db import undo_on_failure


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

    def put_bytes_in(self, session: Session, data: bytes) -> str:
        """Store `data` inside a unit of work: a blob this call created goes if the unit fails.

        Call it inside `store.session()`, which holds the store's write lock: the blob is
        written and, on failure, removed under that lock, so no committed row can refer to it.
        """
        digest, created = self.put_bytes(data)
        if created:
            undo_on_failure(session, lambda: self.remove(digest))
        return digest

    def adopt_file_in(self, session: Session, source: Path, digest: str) -> None:
        """`adopt_file` inside a unit of work (see `put_bytes_in`); `digest` is the file's hash."""
        created = self.adopt_file(source, digest)[1]
        if created:
            undo_on_failure(session, lambda: self.remove(digest))

    def put_file(self, source: Path) -> tuple[str, bool]:
        try:
            with source.open("rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise BadInput(f"cannot read {source}: {exc.strerror or exc}") from exc
        return self.put_bytes(data)

    def adopt_file(self, source: Path, digest: str | None = None) -> tuple[str, bool]:
        """Move a file just written on the same file system (see `staging`) into the store.

        For large files: hashed in chunks, never held in memory. `source` is consumed; returns its
        digest and whether this call created the blob.
        """
        digest = digest or file_sha256(source)
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
        """Remove a blob: only under the store's lock, when no committed row refers to it."""
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
