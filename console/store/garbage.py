"""`signoff gc`: unreferenced blobs and staging folders removed explicitly, under the store's lock."""

from __future__ import annotations

import shutil
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from console.store.db import Store
from console.store.references import references

DEFAULT_GRACE_SECONDS = 3600.0
STAGING_PREFIX = ".staging-"


@dataclass(frozen=True)
class Collected:
    """What gc removed (paths relative to the store), and what it kept for being too recent."""

    blobs: list[str] = field(default_factory=list)
    staging: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    kept_recent: int = 0

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def collect_garbage(store: Store, *, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> Collected:
    """Remove blobs no row refers to, and leftovers of killed commands, older than the grace.

    Runs inside a unit of work: its connection holds the store's lock, and blobs are only
    written under that lock (see `ArtifactStore.put_bytes_in`), so no other process can come to
    rely on a blob while it is judged and removed. The grace spares the staging folders of
    commands still preparing their files outside the lock.
    """
    cutoff = time.time() - grace_seconds
    blobs: list[str] = []
    staging: list[str] = []
    freed = kept = 0
    with store.session() as session:
        referenced = {ref.digest for ref in references(session)}
        for path in sorted((store.artifacts_dir / "sha256").glob("*/*")):
            if path.name in referenced or not path.is_file():
                continue
            if path.stat().st_mtime > cutoff:
                kept += 1
                continue
            freed += path.stat().st_size
            blobs.append(str(path.relative_to(store.home)))
            path.unlink(missing_ok=True)
            with suppress(OSError):  # the shard folder goes once empty
                path.parent.rmdir()
        for folder in sorted(store.artifacts_dir.glob(f"{STAGING_PREFIX}*")):
            if _newest_mtime(folder) > cutoff:
                kept += 1
                continue
            freed += _size(folder)
            staging.append(str(folder.relative_to(store.home)))
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
            else:  # a staged file waiting for its transaction when the process died
                folder.unlink(missing_ok=True)
    return Collected(blobs, staging, freed, kept)


def _newest_mtime(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    times += [p.stat().st_mtime for p in folder.rglob("*")]
    return max(times)


def _size(folder: Path) -> int:
    if folder.is_file():
        return folder.stat().st_size
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
