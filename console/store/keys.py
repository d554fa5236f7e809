"""The next integer key of a table, assigned inside the writing transaction: the one place to lock.

DuckDB has one writer at a time, so the largest key plus one is free until the transaction ends;
on PostgreSQL every write transaction holds the store's write lock from its first statement
(console/store/postgres.py), so the same holds there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, SQLModel, select


def next_key(session: Session, column: Any, *where: ColumnElement[bool]) -> int:
    """One more than the largest value of `column` among the rows `where` selects (1 if none)."""
    query = select(func.max(column))
    if where:
        query = query.where(*where)
    current = session.exec(query).one()
    return int(current or 0) + 1


def next_id(session: Session, table: type[SQLModel]) -> int:
    """The next `id` of a table whose rows are numbered 1, 2, 3, ..."""
    return next_key(session, table.id)  # type: ignore[attr-defined]
