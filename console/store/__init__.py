"""The metadata store: SQLModel tables on DuckDB, the engine, and migrations."""

from console.store.db import Store, open_store

__all__ = ["Store", "open_store"]
