"""`store copy`: a whole store moved between a DuckDB file and PostgreSQL, proved by its log."""

from __future__ import annotations

from dataclasses import dataclass

from console.auditing.trail import verify_store
from console.errors import CheckFailed, IntegrityError
from console.store.bootstrap import prepare_home
from console.store.db import Store
from console.store.transfer import copy_rows, copying_artifacts


@dataclass(frozen=True)
class CopyReport:
    target: str
    tables: dict[str, int]
    artifacts: int
    log_size: int
    root_hex: str

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "tables": self.tables,
            "artifacts": self.artifacts,
            "log_size": self.log_size,
            "root": self.root_hex,
        }


def copy_store(source: Store, target: Store) -> CopyReport:
    """Copy every table, artifact and the policy into an empty target, then verify the log
    there: the same size and Merkle root as the source's, or the copy is undone."""
    before = verify_store(source)
    if not before.ok:
        first = before.first
        raise IntegrityError(
            f"the source log does not verify (sequence {first.seq if first else '?'}: "
            f"{first.reason if first else 'unknown'}); copy refused"
        )
    prepare_home(target)
    committed = False
    try:
        with copying_artifacts(source, target) as created:
            tables = copy_rows(source, target)
            committed = True
            after = verify_store(target)
            if not after.ok or (after.size, after.root_hex) != (before.size, before.root_hex):
                raise CheckFailed(
                    f"the copy's log is not the source's (size {after.size}, root "
                    f"{after.root_hex[:16]}… against {before.size}, {before.root_hex[:16]}…)"
                )
    except BaseException:
        _undo(target, committed)
        raise
    return CopyReport(target.backend.location(), tables, len(created), after.size, after.root_hex)


def _undo(target: Store, committed: bool) -> None:
    """Leave the target as empty as it was (an uncommitted database copy rolled back already)."""
    target.dispose()
    if target.kind == "duckdb":
        for leftover in (target.db_path, target.db_path.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)
    elif committed:
        from sqlalchemy import text
        from sqlmodel import SQLModel

        from console.store import models  # noqa: F401

        # The tables the copy created and committed before its check failed.
        with target.session() as session:
            for table in SQLModel.metadata.sorted_tables:
                session.connection().execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))
