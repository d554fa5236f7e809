"""Where a store lives on disk, checked without opening it (the console starts before SQL loads)."""

from __future__ import annotations

from pathlib import Path

from console.errors import StoreError

DB_FILE = "signoff.duckdb"
ARTIFACTS_DIR = "artifacts"
POLICY_FILE = "policy.toml"


def require_store(home: Path) -> None:
    """Fail with the one line a user needs when `home` holds no store."""
    if not (home / DB_FILE).is_file():
        raise StoreError(
            f"no signoff store at {home}; run `signoff init --admin NAME` or `signoff demo`"
        )
