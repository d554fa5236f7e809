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

Fields empty on both sides are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from console.errors import BadInput
from console.registry.card_inheritance import field_origins_in, inheritance_source_in
from console.registry.cards import FIELD_NAMES
from console.registry.views import get_version
from console.store.db import Store
from console.store.models import CardField, ModelVersion

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

    @property
    def unconfirmed(self) -> list[str]:
        return [f.field for f in self.fields if f.state == UNCONFIRMED]

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "version": self.version,
            "against": self.against,
            "fields": [f.as_dict() for f in self.fields],
        }


def _values(session: Session, model: str, version: int) -> dict[str, str]:
    rows = session.exec(
        select(CardField).where(CardField.model == model, CardField.version == version)
    ).all()
    return {row.field: row.value for row in rows}


def card_diff(store: Store, model: str, version: int, against: int | None = None) -> CardDiff:
    """The card of MODEL:VERSION field by field against `against` (or its inheritance source)."""
    get_version(store, model, version)
    if against is not None:
        if against == version:
            raise BadInput(f"--against {against} is {model}:{version} itself; name another version")
        get_version(store, model, against)
    with store.session() as session:
        return card_diff_in(session, model, version, against)


def source_diff(store: Store, model: str, version: int) -> CardDiff | None:
    """`card_diff` against the card's source, or None for a version with none (a first one)."""
    get_version(store, model, version)
    with store.session() as session:
        origins = field_origins_in(session, model, version)
        if not any(o.from_version is not None for o in origins.values()) and (
            _default_against(session, model, version) is None
        ):
            return None
        return card_diff_in(session, model, version, None)


def card_diff_in(session: Session, model: str, version: int, against: int | None) -> CardDiff:
    """`card_diff` in a caller's unit of work, for versions known to exist."""
    origins = field_origins_in(session, model, version)
    if against is None:
        inherited = {o.from_version for o in origins.values() if o.from_version is not None}
        against = next(iter(inherited), None)
    if against is None:
        against = _default_against(session, model, version)
    if against is None:
        raise BadInput(
            f"{model}:{version} has no parent and no earlier version to compare its card "
            "with; pass --against VERSION"
        )
    old, new = _values(session, model, against), _values(session, model, version)
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
    return CardDiff(model, version, against, tuple(changes))


def _default_against(session: Session, model: str, version: int) -> int | None:
    row = session.get(ModelVersion, (model, version))
    parent = row.parent_number if row is not None else None
    return inheritance_source_in(session, model, version, parent)
