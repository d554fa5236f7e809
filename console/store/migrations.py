"""Forward-only schema migrations; a store from a newer signoff is refused, never touched."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from console.errors import StoreError
from console.store.location import POLICY_FILE

if TYPE_CHECKING:  # SQLAlchemy is imported by the functions that run SQL: a read command that
    # only asks for SCHEMA_VERSION (console/store/rows.py) does not load it
    from sqlalchemy import Connection

    from console.store.db import Store

# Each step is frozen DDL in console/store/schema/, not `create_all()` of today's models, so a
# shipped step never changes. Append new steps; never edit or reorder one that has shipped.
MIGRATIONS: list[str] = [
    "v1_initial",
    "v2_workflow_validation_cards",
    "v3_monitoring",
    "v4_policy_in_store",
    "v5_framework_version",
    "v6_release_keys",
]
SCHEMA_VERSION = len(MIGRATIONS)

# The steps are written in DuckDB's dialect with portable types; on PostgreSQL text compares byte
# by byte (COLLATE "C") as DuckDB's does, whatever the database's locale, so keyset pages agree.
_VARCHAR = re.compile(r"\bVARCHAR\b")


def step_statements(step: str) -> list[str]:
    """The SQL statements of one step, in order, without comments."""
    source = resources.files("console.store").joinpath("schema", f"{step}.sql")
    sql = "\n".join(
        line
        for line in source.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--")
    )
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


def for_dialect(statement: str, dialect: str) -> str:
    """A frozen step's statement as `dialect` spells it."""
    if dialect != "postgresql":
        return statement
    return _VARCHAR.sub('VARCHAR COLLATE "C"', statement)


def stored_version(connection: Connection) -> int:
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("schema_version"):
        return 0
    value = connection.execute(text("SELECT max(version) FROM schema_version")).scalar()
    return int(value or 0)


def check_schema(store: Store) -> int:
    """Refuse a store made by a newer schema; upgrade an older one in one transaction."""
    # Read without the write lock: opening a store never waits for another client's writer.
    with store.snapshot(), store.session() as session:
        current = stored_version(session.connection())
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the store at {store.backend.location()} has schema version {current}, newer "
            f"than this signoff understands ({SCHEMA_VERSION}); upgrade signoff to open it"
        )
    if current < SCHEMA_VERSION:
        with store.session() as session:
            connection = session.connection()
            current = stored_version(connection)  # again under the lock: one client upgrades
            if current < SCHEMA_VERSION:
                migrate(connection, current, home=store.home)
    return SCHEMA_VERSION


def import_policy_file(connection: Connection, home: Path | None) -> None:
    """v4: a DuckDB store's policy.toml becomes the store's policy row (the file stays, unread)."""
    path = home / POLICY_FILE if home is not None else None
    if path is None or not path.is_file():
        return  # a new store, or one whose file is lost: load_policy says what to restore
    from sqlalchemy import text

    from console.store.db import utc_now

    policy_text = path.read_text(encoding="utf-8")
    digest = hashlib.sha256(policy_text.encode("utf-8")).hexdigest()
    connection.execute(
        text("INSERT INTO policies (sha256, text, recorded_at) VALUES (:d, :t, :at)"),
        {"d": digest, "t": policy_text, "at": utc_now()},
    )


# Data a step moves, run after its DDL in the same transaction.
AFTER_STEP: dict[int, Callable[[Connection, Path | None], None]] = {4: import_policy_file}


def migrate(
    connection: Connection,
    current: int,
    target: int = SCHEMA_VERSION,
    *,
    home: Path | None = None,
) -> None:
    """Apply the steps after version `current` up to `target`, recording each."""
    from sqlalchemy import text

    from console.store.db import utc_now

    dialect = connection.dialect.name
    for number, step in enumerate(MIGRATIONS[current:target], start=current + 1):
        for statement in step_statements(step):
            connection.exec_driver_sql(for_dialect(statement, dialect))
        if number in AFTER_STEP and current > 0:
            AFTER_STEP[number](connection, home)
        connection.execute(
            text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :t)"),
            {"v": number, "t": utc_now()},
        )
