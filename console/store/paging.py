"""Keyset pages by name: a list of ten or ten thousand costs the same few queries per page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(frozen=True)
class Paged:
    """Where a page sits among the matching names: how many come before it, of how many."""

    offset: int  # matching names before this page
    total: int  # matching names in all

    def _shown(self) -> int:
        raise NotImplementedError

    @property
    def has_before(self) -> bool:
        return self.offset > 0

    @property
    def has_after(self) -> bool:
        return self.offset + self._shown() < self.total


@dataclass(frozen=True)
class NamePage(Paged):
    """Rows of one page in name order."""

    rows: list[Any]  # the source's columns, the name first

    def _shown(self) -> int:
        return len(self.rows)


def name_page(
    connection: Connection,
    select: str,
    match: str,
    *,
    after: str | None = None,
    before: str | None = None,
    at: str | None = None,
    limit: int = 100,
) -> NamePage:
    """A page of `select` (SQL whose first column is `name`, filtered by `:match`, lowercase).

    `after` and `before` are exclusive keys (the next and previous pages), `at` inclusive (the
    page from a name); with fewer than a page before `before`, the first page instead.
    """
    if sum(key is not None for key in (after, before, at)) > 1:
        raise ValueError("give at most one of after, before and at")
    from sqlalchemy import text

    size = max(1, int(limit))
    params: dict[str, object] = {"match": match.strip().lower(), "limit": size}
    condition, order = "TRUE", "ASC"
    if after is not None:
        condition, params["key"] = "name > :key", after
    elif before is not None:
        condition, params["key"], order = "name < :key", before, "DESC"
    elif at is not None:
        condition, params["key"] = "name >= :key", at
    rows = list(
        connection.execute(
            text(
                f"SELECT * FROM ({select}) page WHERE {condition} ORDER BY name {order} LIMIT :limit"
            ),
            params,
        ).all()
    )
    if order == "DESC":
        rows.reverse()
        if len(rows) < size:
            return name_page(connection, select, match, limit=limit)
    first = rows[0][0] if rows else None
    total, offset = connection.execute(
        text(f"SELECT count(*), count(*) FILTER (WHERE name < :first) FROM ({select}) page"),
        {"match": params["match"], "first": first or ""},
    ).one()
    return NamePage(int(offset) if rows else int(total), int(total), rows)
