"""The metadata store: SQLModel tables on DuckDB, the engine, and migrations.

Names resolve on first use, so `console.store.location` is importable without SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.lazy import lazy_exports

if TYPE_CHECKING:
    from console.store.db import Store, open_store

__getattr__ = lazy_exports(
    __name__, {"Store": "console.store.db", "open_store": "console.store.db"}
)

__all__ = ["Store", "open_store"]
