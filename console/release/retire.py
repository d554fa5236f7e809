"""Retirement: a version or a whole model leaves every stage it holds and takes no new requests.

Retiring is a release action (release managers and admins, `Permission.PROMOTE`). Each stage
the retired version holds gets its own signed `stage.retired` event and `deployments` row (kind
`retirement`; the stage then serves nothing until a new promotion), then one `version.retired`
or `model.retired` event records the reason: the decommissioning evidence the report checklists
cite. Whether a version is retired is read from those signed events, never from a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.errors import BadInput, NotFound, Refused
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.refs import check_model_name
from console.release.retired import Retirements, retirements_in
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import Deployment, ModelVersion, RegisteredModel, StageAssignment
from console.store.rows import SessionRows

RETIREMENT = "retirement"  # the deployment kind: the stage stops serving a retired version


@dataclass(frozen=True)
class Retired:
    """The outcome of `retire`: the versions retired and the stages they left."""

    model: str
    versions: list[int]
    stages: list[tuple[str, int]]  # (stage, version) each stage that stopped serving
    event_seq: int


def retirements(session: Session, models: list[str] | None = None) -> dict[str, Retirements]:
    """Per model, what its signed retirement events retired (all models, or those named)."""
    return retirements_in(SessionRows(session.connection()), models)


def retired_in(session: Session, model: str) -> Retirements:
    return retirements(session, [model]).get(model, Retirements())


def refuse_retired(session: Session, model: str, version: int | None = None) -> None:
    """Refuse acting on a retired model, or on a retired version (new requests, promotions)."""
    state = retired_in(session, model)
    if state.model_retired:
        raise Refused(f"model {model} is retired; it takes no new versions, requests or promotions")
    if version is not None and version in state.versions:
        raise Refused(f"{model}:{version} is retired; it takes no new requests or promotions")


def retire(store: Store, signer: Signer, model: str, version: int | None, reason: str) -> Retired:
    """Retire MODEL:VERSION (or every version of MODEL): leave each stage held, then record it."""
    from console.auditing.state_check import prove_model  # it imports the release modules

    check_model_name(model)
    if not reason.strip():
        raise BadInput("a retirement needs --reason saying why it is decommissioned")
    check_text("the reason", reason, multiline=True)
    with store.session() as session:
        require_actor(session, signer, Permission.PROMOTE)
        if session.get(RegisteredModel, model) is None:
            raise NotFound(f"no model {model!r} in this store; see `signoff models`")
        prove_model(session, model)  # the stages we clear are the ones the log assigned
        state = retired_in(session, model)
        if state.model_retired:
            raise BadInput(f"model {model} is already retired")
        numbers = [
            n
            for n in session.exec(
                select(ModelVersion.number)
                .where(ModelVersion.model == model)
                .order_by(col(ModelVersion.number))
            ).all()
        ]
        if version is not None:
            if version not in numbers:
                raise NotFound(f"model {model!r} has no version {version}")
            if version in state.versions:
                raise BadInput(f"{model}:{version} is already retired")
            targets = [version]
        else:
            targets = [n for n in numbers if n not in state.versions]
        now = store.clock()
        left = _leave_stages(session, signer, model, set(targets), reason, now)
        if version is not None:
            event = append_event(
                session,
                signer,
                actions.VERSION_RETIRED,
                f"{model}:{version}",
                {"model": model, "version": version, "reason": reason, "stages": left_names(left)},
                ts=now,
                model=model,
            )
        else:
            event = append_event(
                session,
                signer,
                actions.MODEL_RETIRED,
                model,
                {"model": model, "versions": targets, "reason": reason, "stages": left_names(left)},
                ts=now,
                model=model,
            )
        return Retired(model, targets, left, event.seq)


def left_names(left: list[tuple[str, int]]) -> list[str]:
    return [stage for stage, _ in left]


def _leave_stages(
    session: Session, signer: Signer, model: str, targets: set[int], reason: str, now: str
) -> list[tuple[str, int]]:
    """Each stage a target serves stops serving it; a running canary must be settled first."""
    rows = session.exec(
        select(StageAssignment)
        .where(StageAssignment.model == model)
        .order_by(col(StageAssignment.stage))
    ).all()
    for row in rows:
        if row.canary_version is not None and (
            row.canary_version in targets or row.version in targets
        ):
            raise Refused(
                f"a canary of {model}:{row.canary_version} runs in {row.stage}; step it to the "
                f"end or abort it (`signoff canary abort {model} --stage {row.stage}`) first"
            )
    left: list[tuple[str, int]] = []
    for row in rows:
        if row.version is None or row.version not in targets:
            continue
        served = row.version
        event = append_event(
            session,
            signer,
            actions.STAGE_RETIRED,
            f"{model}:{row.stage}",
            {
                "model": model,
                "stage": row.stage,
                "version": served,
                "replaced_version": served,
                "request": None,
                "break_glass": False,
                "reason": reason,
            },
            ts=now,
            model=model,
        )
        session.add(
            Deployment(
                id=next_id(session, Deployment),
                model=model,
                stage=row.stage,
                kind=RETIREMENT,
                version=served,
                replaced_version=served,
                request_id=None,
                actor=signer.name,
                occurred_at=now,
                reason=reason,
                event_seq=event.seq,
            )
        )
        row.version = None
        row.updated_at = now
        session.add(row)
        session.flush()  # next_id of the next stage's deployment sees this one
        left.append((row.stage, served))
    return left
