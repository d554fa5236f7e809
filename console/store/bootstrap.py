"""Creating a store's home on disk: refused where a store exists or the path cannot be written."""

from __future__ import annotations

from console.errors import StoreError
from console.store.db import Store


def prepare_home(store: Store) -> None:
    """Refuse an existing store or a path we cannot write, before anything is created."""
    store.backend.refuse_existing()
    where = store.home if store.kind == "duckdb" else store.artifacts_dir
    try:
        store.home.mkdir(parents=True, exist_ok=True)
        store.artifacts_dir.mkdir(parents=True, exist_ok=True)
        probe = store.artifacts_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StoreError(f"cannot create a store at {where}: {exc.strerror or exc}") from exc
