"""A version's card fields and where each came from, in plain SQL (console, reports and CLI alike).

A `card_fields` row names the event that last wrote it; that event's action says whether the
value was inherited (not confirmed yet), confirmed or edited (see `card_inheritance`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from console.auditing import catalogue as actions
from console.registry.card_spec import FIELD_NAMES
from console.store.rows import Rows

EDITED, INHERITED, CONFIRMED = "edited", "inherited", "confirmed"
FIELD_COLUMNS = "field, value, updated_at, updated_by, event_seq"


@dataclass(frozen=True)
class FieldOrigin:
    """Where a stored card field's value comes from: written here, or inherited (and confirmed)."""

    field: str
    state: str  # EDITED, INHERITED (not confirmed yet) or CONFIRMED
    from_version: int | None  # the version it was inherited from, for INHERITED and CONFIRMED
    by: str  # who wrote, registered (inherited) or confirmed it
    at: str
    event_seq: int

    @property
    def unconfirmed(self) -> bool:
        return self.state == INHERITED

    def label(self) -> str:
        """How a card or report names the field's origin."""
        if self.state == INHERITED:
            return f"inherited from v{self.from_version}, not confirmed"
        if self.state == CONFIRMED:
            return f"inherited from v{self.from_version}, confirmed by {self.by}"
        return f"written by {self.by}"

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def read_card_values(rows: Rows, model: str, version: int) -> dict[str, str]:
    """Every stored field of a version's card as {name: value} (stored order)."""
    return {
        name: value
        for name, value in rows.all(
            "SELECT field, value FROM card_fields WHERE model = :model AND version = :version",
            {"model": model, "version": version},
        )
    }


def read_inheritance_source(rows: Rows, model: str, number: int, parent: int | None) -> int | None:
    """The version a new version's card starts from: its parent, else the one before it."""
    if parent is not None:
        return parent
    found = rows.all(
        "SELECT max(number) FROM model_versions WHERE model = :model AND number < :number",
        {"model": model, "number": number},
    )
    return int(found[0][0]) if found and found[0][0] is not None else None


def read_field_origins(rows: Rows, model: str, version: int) -> dict[str, FieldOrigin]:
    """The origin of each filled field of a version's card, in card order."""
    fields = rows.all(
        f"SELECT {FIELD_COLUMNS} FROM card_fields WHERE model = :model AND version = :version",
        {"model": model, "version": version},
    )
    seqs = sorted({int(row[4]) for row in fields})
    events: dict[int, tuple[str, bytes]] = {}
    if seqs:
        marks = ", ".join(f":s{n}" for n in range(len(seqs)))
        for seq, action, payload in rows.all(
            f"SELECT seq, action, payload FROM audit_events WHERE seq IN ({marks})",
            {f"s{n}": seq for n, seq in enumerate(seqs)},
        ):
            events[int(seq)] = (action, bytes(payload))
    origins: dict[str, FieldOrigin] = {}
    for name, _value, updated_at, updated_by, event_seq in fields:
        event = events.get(int(event_seq))
        state, source = EDITED, None
        if event is not None and event[0] in (actions.CARD_INHERITED, actions.CARD_CONFIRMED):
            state = INHERITED if event[0] == actions.CARD_INHERITED else CONFIRMED
            source = int(json.loads(event[1].decode("utf-8"))["from_version"])
        origins[name] = FieldOrigin(name, state, source, updated_by, updated_at, int(event_seq))
    return {name: origins[name] for name in FIELD_NAMES if name in origins}
