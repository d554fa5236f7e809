"""Where a store lives on disk, checked without opening it (the console starts before SQL loads)."""

from __future__ import annotations

from pathlib import Path

from console.errors import StoreError

DB_FILE = "signoff.duckdb"
ARTIFACTS_DIR = "artifacts"
POLICY_FILE = "policy.toml"
# Every DuckDB database file carries this magic in bytes 8..12 of its first block.
DUCKDB_MAGIC = b"DUCK"
DUCKDB_MAGIC_AT = slice(8, 12)


def require_store(home: Path) -> None:
    """Fail with the one line a user needs when `home` holds no store."""
    if not (home / DB_FILE).is_file():
        raise StoreError(
            f"no signoff store at {home}; run `signoff init --admin NAME` or `signoff demo`"
        )
    refuse_foreign_file(home / DB_FILE)


def refuse_foreign_file(db_path: Path) -> None:
    """Refuse a file that is not a DuckDB database before DuckDB opens it.

    DuckDB hands files it does not recognise (SQLite, Parquet, ...) to extensions it would
    download from the network; the header is checked first so that never starts.
    """
    try:
        with db_path.open("rb") as file:
            head = file.read(DUCKDB_MAGIC_AT.stop)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read the store at {db_path}: {exc.strerror or exc}") from exc
    if head[DUCKDB_MAGIC_AT] != DUCKDB_MAGIC:
        raise StoreError(
            f"{db_path} is not a signoff store (not a DuckDB database); "
            "move it away or choose another --home"
        )
