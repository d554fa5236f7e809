"""A new version's card starts from its parent's human-written fields, until its author confirms.

At registration, `inherit_card_in` copies the card fields people wrote for the parent version
(or, without a parent, for the version registered before it) into the new version, as one
signed `card.inherited` event in the registration's transaction. The values are read from the
signed card events, not from the `card_fields` table, so a forged row is never signed again.

An inherited field is "inherited from vP, not confirmed" until its author either confirms it
(`confirm_card_fields`, one `card.confirmed` event) or edits it (`card.edited`). No column holds
that mark: a `card_fields` row names the event that last wrote it, and the event's action says
whether the value was inherited, confirmed or edited, so the log proves it like any other field.

The inherited text was written against vP's evidence. When the new version's validation differs
from it (`card_evidence_change`), confirming is refused unless the author acknowledges the
difference (`acknowledge_evidence`); every `card.confirmed` event records the evidence its author
was shown (both runs, the checks that differ) and whether they acknowledged it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlmodel import Session, col, select

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event, to_record
from console.auditing.replay import cards_from
from console.auditing.replay_entries import to_event
from console.auditing.state_check import prove_model
from console.errors import BadInput
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.card_evidence_change import read_evidence_against
from console.registry.card_reads import CONFIRMED as CONFIRMED
from console.registry.card_reads import EDITED as EDITED
from console.registry.card_reads import INHERITED as INHERITED
from console.registry.card_reads import FieldOrigin as FieldOrigin
from console.registry.card_reads import read_field_origins, read_inheritance_source
from console.registry.cards import FIELD_NAMES, field_spec
from console.registry.views import get_version
from console.store.db import Store
from console.store.models import AuditEvent, CardField
from console.store.rows import session_rows

CARD_ACTIONS = (actions.CARD_EDITED, actions.CARD_INHERITED, actions.CARD_CONFIRMED)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def logged_card_in(session: Session, model: str, version: int) -> dict[str, str]:
    """A version's human-written card fields as its model's signed card events say, card order."""
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.model == model, col(AuditEvent.action).in_(CARD_ACTIONS))
        .order_by(col(AuditEvent.seq))
    ).all()
    card = cards_from([to_event(to_record(e)) for e in events]).get((model, version), {})
    return {name: card[name].value for name in FIELD_NAMES if name in card}


def inheritance_source_in(
    session: Session, model: str, number: int, parent: int | None
) -> int | None:
    """The version a new version's card starts from: its parent, else the one before it."""
    return read_inheritance_source(session_rows(session), model, number, parent)


def inherit_card_in(
    session: Session, actor: Signer, model: str, number: int, parent: int | None, now: str
) -> int | None:
    """Copy the source version's fields into `model:number` with one `card.inherited` event.

    Runs inside registration's transaction; returns the event's seq, or None (and signs
    nothing) when there is no source version or its card has no field.
    """
    source = inheritance_source_in(session, model, number, parent)
    fields = {} if source is None else logged_card_in(session, model, source)
    return inherit_fields_in(session, actor, model, number, source, fields, now)


def inherit_fields_in(
    session: Session,
    actor: Signer,
    model: str,
    number: int,
    source: int | None,
    fields: dict[str, str],
    now: str,
) -> int | None:
    """`inherit_card_in` once the source version and its logged fields are known."""
    if source is None or not fields:
        return None
    event = append_event(
        session,
        actor,
        actions.CARD_INHERITED,
        f"{model}:{number}",
        {"model": model, "version": number, "from_version": source, "fields": fields},
        ts=now,
        model=model,
    )
    for name, value in fields.items():
        session.add(
            CardField(
                model=model,
                version=number,
                field=name,
                value=value,
                updated_at=event.ts,
                updated_by=actor.name,
                event_seq=event.seq,
            )
        )
    return event.seq


def field_origins_in(session: Session, model: str, version: int) -> dict[str, FieldOrigin]:
    """The origin of each filled field of a version's card, in card order."""
    return read_field_origins(session_rows(session), model, version)


def field_origins(store: Store, model: str, version: int) -> dict[str, FieldOrigin]:
    get_version(store, model, version)
    with store.session() as session:
        return field_origins_in(session, model, version)


def unconfirmed_fields(store: Store, model: str, version: int) -> list[FieldOrigin]:
    """The inherited fields of a version's card its author has neither confirmed nor edited."""
    return [o for o in field_origins(store, model, version).values() if o.unconfirmed]


def confirm_card_fields(
    store: Store,
    signer: Signer,
    model: str,
    version: int,
    fields: Sequence[str] = (),
    *,
    acknowledge_evidence: bool = False,
) -> list[str]:
    """Confirm inherited fields (all that await it when `fields` is empty): one `card.confirmed`.

    A field that was not inherited, or is already confirmed or edited, is refused (BadInput);
    so is any confirmation while the version's validation differs from the evidence the text
    was written against, unless `acknowledge_evidence` (the event records which).
    """
    for name in fields:
        field_spec(name)  # an unknown name is bad input before anything is read
    if len(set(fields)) != len(fields):
        raise BadInput("--field names a field twice; give each field once")
    get_version(store, model, version)
    with store.session() as session:
        require_actor(session, signer, Permission.EDIT_CARD)
        prove_model(session, model)  # the marks this confirms are the log's
        origins = field_origins_in(session, model, version)
        waiting = [o for o in origins.values() if o.unconfirmed]
        if not fields and not waiting:
            raise BadInput(f"no inherited field of {model}:{version} awaits confirmation")
        for name in fields:
            origin = origins.get(name)
            if origin is None or origin.state == EDITED:
                raise BadInput(
                    f"card field {name} of {model}:{version} was not inherited; "
                    "only inherited fields are confirmed (edit it with `signoff card edit`)"
                )
            if origin.state == CONFIRMED:
                raise BadInput(
                    f"card field {name} of {model}:{version} is already confirmed (by {origin.by})"
                )
        chosen = [o for o in waiting if not fields or o.field in fields]
        rows = {
            row.field: row
            for row in session.exec(
                select(CardField).where(CardField.model == model, CardField.version == version)
            ).all()
        }
        source = chosen[0].from_version
        assert source is not None
        evidence = read_evidence_against(session_rows(session), model, version, source)
        if evidence.contradicted and not acknowledge_evidence:
            raise BadInput(
                f"{model}:{version}'s validation differs from v{source}'s, which the inherited "
                f"text was written for ({'; '.join(evidence.findings())}): edit the fields that "
                f"no longer hold (`signoff card edit`), or confirm with --acknowledge-evidence "
                f"if the text is true of v{version} regardless"
            )
        event = append_event(
            session,
            signer,
            actions.CARD_CONFIRMED,
            f"{model}:{version}",
            {
                "model": model,
                "version": version,
                "from_version": source,
                "fields": {o.field: _sha256(rows[o.field].value) for o in chosen},
                "evidence": evidence.payload(acknowledge_evidence and evidence.contradicted),
            },
            ts=store.clock(),
            model=model,
        )
        for origin in chosen:
            row = rows[origin.field]
            row.updated_at = event.ts
            row.updated_by = signer.name
            row.event_seq = event.seq
            session.add(row)
        return [o.field for o in chosen]
