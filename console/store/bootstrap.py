"""Creating a store's home on disk: refused where a store exists or the path cannot be written."""

from __future__ import annotations

from console.errors import BadInput, StoreError
from console.store.db import Store


def prepare_home(store: Store) -> None:
    """Refuse an existing store or a path we cannot write, before anything is created."""
    if store.exists():
        raise BadInput(f"a signoff store already exists at {store.home}")
    try:
        store.home.mkdir(parents=True, exist_ok=True)
        store.artifacts_dir.mkdir(exist_ok=True)
        probe = store.home / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StoreError(f"cannot create a store at {store.home}: {exc.strerror or exc}") from exc
