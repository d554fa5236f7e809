"""Forward-only schema migrations; a store from a newer signoff is refused, never touched."""

from __future__ import annotations

from importlib import resources

from sqlalchemy import Connection, inspect, text

from console.errors import StoreError
from console.store.db import Store, utc_now

# Each step is frozen DDL in console/store/schema/, not `create_all()` of today's models, so a
# shipped step never changes. Append new steps; never edit or reorder one that has shipped.
MIGRATIONS: list[str] = [
    "v1_initial",
    "v2_workflow_validation_cards",
    "v3_monitoring",
]
SCHEMA_VERSION = len(MIGRATIONS)


def step_statements(step: str) -> list[str]:
    """The SQL statements of one step, in order, without comments."""
    source = resources.files("console.store").joinpath("schema", f"{step}.sql")
    sql = "\n".join(
        line
        for line in source.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--")
    )
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


def stored_version(connection: Connection) -> int:
    if not inspect(connection).has_table("schema_version"):
        return 0
    value = connection.execute(text("SELECT max(version) FROM schema_version")).scalar()
    return int(value or 0)


def check_schema(store: Store) -> int:
    """Refuse a store made by a newer schema; upgrade an older one in one transaction."""
    with store.session() as session:
        connection = session.connection()
        current = stored_version(connection)
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the store at {store.home} has schema version {current}, newer than this "
                f"signoff understands ({SCHEMA_VERSION}); upgrade signoff to open it"
            )
        if current < SCHEMA_VERSION:
            migrate(connection, current)
        return SCHEMA_VERSION


def migrate(connection: Connection, current: int, target: int = SCHEMA_VERSION) -> None:
    """Apply the steps after version `current` up to `target`, recording each."""
    for number, step in enumerate(MIGRATIONS[current:target], start=current + 1):
        for statement in step_statements(step):
            connection.exec_driver_sql(statement)
        connection.execute(
            text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :t)"),
            {"v": number, "t": utc_now()},
        )
