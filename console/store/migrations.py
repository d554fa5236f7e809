"""Forward-only schema migrations; a store from a newer signoff is refused, never touched."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, text
from sqlmodel import SQLModel

from console.errors import StoreError
from console.store import models
from console.store.db import Store, utc_now


def _v1_initial(connection: Connection) -> None:
    tables = [
        models.StoreInfo,
        models.User,
        models.UserKey,
        models.RegisteredModel,
        models.ModelVersion,
        models.Dataset,
        models.StageAssignment,
        models.Deployment,
        models.AuditEvent,
        models.Checkpoint,
    ]
    SQLModel.metadata.create_all(connection, tables=[t.__table__ for t in tables])  # type: ignore[attr-defined]


def _v2_workflow_validation_cards(connection: Connection) -> None:
    tables = [
        models.PromotionRequest,
        models.Approval,
        models.ValidationRun,
        models.ValidationCheck,
        models.CardField,
        models.PackageRecord,
    ]
    SQLModel.metadata.create_all(connection, tables=[t.__table__ for t in tables])  # type: ignore[attr-defined]


def _v3_monitoring(connection: Connection) -> None:
    tables = [
        models.PredictionLog,
        models.OutcomeBatch,
        models.MonitoringWindow,
        models.MonitoringAlert,
        models.RetrainingJob,
    ]
    SQLModel.metadata.create_all(connection, tables=[t.__table__ for t in tables])  # type: ignore[attr-defined]


# Append new migrations; never edit or reorder one that has shipped.
MIGRATIONS: list[Callable[[Connection], None]] = [
    _v1_initial,
    _v2_workflow_validation_cards,
    _v3_monitoring,
]
SCHEMA_VERSION = len(MIGRATIONS)


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


def migrate(connection: Connection, current: int) -> None:
    SQLModel.metadata.create_all(connection, tables=[models.SchemaVersion.__table__])  # type: ignore[attr-defined]
    for number, step in enumerate(MIGRATIONS[current:], start=current + 1):
        step(connection)
        connection.execute(
            text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :t)"),
            {"v": number, "t": utc_now()},
        )
