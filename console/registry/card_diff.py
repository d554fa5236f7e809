"""What a version's card says differently from its parent's: the reviewer's view of a new card.

Each human-written field is compared with the same field of the version it is measured against
(by default the version its card was inherited from, else its parent, else the version before
it) and given one state:

| state | meaning |
| --- | --- |
| `unchanged` | the same text as before (written again, or inherited and confirmed) |
| `edited` | different text, or cleared |
| `inherited-unconfirmed` | copied at registration; its author has not confirmed it yet |
| `new` | empty before, written for this version |

Fields empty on both sides are left out. While fields inherited from vP await confirmation, the
diff also carries `evidence`: the checks whose outcome in the version's validation differs from
vP's, which the inherited text was written against (`card_evidence_change`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from console.errors import BadInput
from console.registry.card_evidence_change import EvidenceChange, read_evidence_change
from console.registry.card_reads import (
    read_card_values,
    read_field_origins,
    read_inheritance_source,
)
from console.registry.card_spec import FIELD_NAMES
from console.store.rows import Rows

if TYPE_CHECKING:
    from console.store.db import Store

UNCHANGED, EDITED, UNCONFIRMED, NEW = "unchanged", "edited", "inherited-unconfirmed", "new"


@dataclass(frozen=True)
class FieldChange:
    """One field of the card against the same field of the other version."""

    field: str
    state: str
    old: str
    new: str
    origin: str  # how the field came to hold `new` ("inherited from v2, not confirmed", …)

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class CardDiff:
    model: str
    version: int
    against: int
    fields: tuple[FieldChange, ...]
    # The evidence under the unconfirmed inherited fields; None when no field awaits confirmation.
    evidence: EvidenceChange | None = None

    @property
    def unconfirmed(self) -> list[str]:
        return [f.field for f in self.fields if f.state == UNCONFIRMED]

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "version": self.version,
            "against": self.against,
            "fields": [f.as_dict() for f in self.fields],
            "evidence": self.evidence.as_dict() if self.evidence is not None else None,
        }


def card_diff(store: Store, model: str, version: int, against: int | None = None) -> CardDiff:
    """The card of MODEL:VERSION field by field against `against` (or its inheritance source)."""
    from console.registry.views import get_version
    from console.store.rows import SessionRows

    get_version(store, model, version)
    if against is not None:
        if against == version:
            raise BadInput(f"--against {against} is {model}:{version} itself; name another version")
        get_version(store, model, against)
    with store.session() as session:
        return read_card_diff(SessionRows(session.connection()), model, version, against)


def source_diff(store: Store, model: str, version: int) -> CardDiff | None:
    """`card_diff` against the card's source, or None for a version with none (a first one)."""
    from console.registry.views import get_version
    from console.store.rows import SessionRows

    get_version(store, model, version)
    with store.session() as session:
        return read_source_diff(SessionRows(session.connection()), model, version)


def read_source_diff(rows: Rows, model: str, version: int) -> CardDiff | None:
    """`source_diff` on plain rows, for a version known to exist."""
    origins = read_field_origins(rows, model, version)
    if not any(o.from_version is not None for o in origins.values()) and (
        _default_against(rows, model, version) is None
    ):
        return None
    return read_card_diff(rows, model, version, None)


def read_card_diff(rows: Rows, model: str, version: int, against: int | None) -> CardDiff:
    """`card_diff` on plain rows, for versions known to exist."""
    origins = read_field_origins(rows, model, version)
    if against is None:
        inherited = {o.from_version for o in origins.values() if o.from_version is not None}
        against = next(iter(inherited), None)
    if against is None:
        against = _default_against(rows, model, version)
    if against is None:
        raise BadInput(
            f"{model}:{version} has no parent and no earlier version to compare its card "
            "with; pass --against VERSION"
        )
    old, new = read_card_values(rows, model, against), read_card_values(rows, model, version)
    changes: list[FieldChange] = []
    for name in FIELD_NAMES:
        before, after = old.get(name, ""), new.get(name, "")
        origin = origins.get(name)
        if not before and not after:
            continue
        if origin is not None and origin.unconfirmed:
            state = UNCONFIRMED
        elif before == after:
            state = UNCHANGED
        elif not before:
            state = NEW
        else:
            state = EDITED
        label = origin.label() if origin is not None else "cleared"
        changes.append(FieldChange(name, state, before, after, label))
    evidence = read_evidence_change(rows, model, version, origins)
    return CardDiff(model, version, against, tuple(changes), evidence)


def _default_against(rows: Rows, model: str, version: int) -> int | None:
    found = rows.all(
        "SELECT parent_number FROM model_versions WHERE model = :model AND number = :version",
        {"model": model, "version": version},
    )
    parent = found[0][0] if found else None
    return read_inheritance_source(rows, model, version, parent)
