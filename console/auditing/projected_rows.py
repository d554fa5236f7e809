"""The shape a projection fills, shared by its handlers: tables of rows by primary key, typed values.

Split from `console/auditing/projection.py` so that handlers of each domain
(`console/auditing/projection_monitoring.py`) fill the same `Projection`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.canonical import canonical_json
from audit.key_history import KeyHistory

Row = dict[str, object]
Table = dict[tuple[object, ...], Row]


@dataclass
class Projection:
    """Table name -> primary key -> column -> the value the log proves."""

    tables: dict[str, Table] = field(default_factory=dict)
    history: KeyHistory = field(default_factory=KeyHistory)

    def table(self, name: str) -> Table:
        return self.tables.setdefault(name, {})


def as_text(value: object) -> str:
    return canonical_json(value).decode()


def as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
