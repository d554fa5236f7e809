"""Copying a whole store's rows and blobs into an empty one, whichever backends the two are on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import SQLModel

from console.errors import IntegrityError
from console.files import file_sha256
from console.store.artifacts import ArtifactStore
from console.store.db import ARTIFACTS_KEY, Store
from console.store.migrations import migrate, stored_version

BATCH = 5000
# The target writes its own: its schema steps and, for a team store, where its artifacts are.
_NOT_COPIED = {"schema_version"}


@dataclass(frozen=True)
class Copied:
    tables: dict[str, int]  # rows per table
    artifacts: int


def copy_rows(source: Store, target: Store) -> dict[str, int]:
    """Every row of every table, read from one snapshot of `source`, written into the empty
    `target` in one transaction (its schema created first)."""
    from console.store import models  # noqa: F401  (registers every table)

    counts: dict[str, int] = {}
    with source.snapshot(), source.session() as reading, target.session() as writing:
        read, write = reading.connection(), writing.connection()
        if stored_version(write) != 0:
            from console.errors import BadInput

            raise BadInput(f"the {target.backend.location()} already holds a store")
        migrate(write, 0)
        for table in SQLModel.metadata.sorted_tables:
            if table.name in _NOT_COPIED:
                continue
            counts[table.name] = 0
            result = read.execute(table.select())
            for rows in result.partitions(BATCH):
                batch = [dict(row._mapping) for row in rows]
                if table.name == "store_info":
                    batch = [r for r in batch if r["key"] != ARTIFACTS_KEY]
                if batch:
                    write.execute(table.insert(), batch)
                counts[table.name] += len(batch)
        if target.kind != "duckdb":
            write.execute(
                SQLModel.metadata.tables["store_info"].insert(),
                [{"key": ARTIFACTS_KEY, "value": str(target.artifacts_dir)}],
            )
    return counts


@contextmanager
def copying_artifacts(source: Store, target: Store) -> Iterator[list[Path]]:
    """Copy every blob (checked against its name) into the target's artifacts directory; the
    blobs this created are removed again if the block fails."""
    created: list[Path] = []
    blobs = ArtifactStore(target.artifacts_dir)
    try:
        root = source.artifacts_dir / "sha256"
        for path in sorted(root.glob("*/*")) if root.is_dir() else []:
            if path.name.startswith("."):
                continue
            with blobs.staging() as scratch:
                copy = Path(scratch) / path.name
                shutil.copyfile(path, copy)
                if file_sha256(copy) != path.name:
                    raise IntegrityError(
                        f"artifact {path} does not match its digest; restore it before copying"
                    )
                _digest, new = blobs.adopt_file(copy)
            if new:
                created.append(blobs.path_for(path.name))
        yield created
    except BaseException:
        for path in created:
            blobs.remove(path.name)
        raise
