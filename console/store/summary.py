"""What `signoff store info` tells: which backend holds the store, its versions, log and artifacts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import text

from console.store.db import Store
from console.store.migrations import stored_version


@dataclass(frozen=True)
class StoreSummary:
    backend: str  # duckdb | postgresql
    location: str  # the home directory, or the database (never a password)
    server_version: str
    schema_version: int
    store_id: str | None
    log_size: int
    log_head: str | None  # entry hash of the last event
    artifacts_dir: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def store_summary(store: Store) -> StoreSummary:
    """The store's identity and state as of one consistent read."""
    with store.snapshot(), store.session() as session:
        connection = session.connection()
        size, head = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM audit_events), (SELECT entry_hash FROM audit_events "
                "WHERE seq = (SELECT max(seq) FROM audit_events))"
            )
        ).one()
        store_id = connection.execute(
            text("SELECT value FROM store_info WHERE key = 'store_id'")
        ).scalar()
        return StoreSummary(
            backend=store.kind,
            location=store.backend.location(),
            server_version=store.backend.server_version(connection),
            schema_version=stored_version(connection),
            store_id=store_id,
            log_size=int(size),
            log_head=head,
            artifacts_dir=str(store.artifacts_dir),
        )
