"""Canary steps and aborts: a step goes on only while the request's approvals stand and the
canary's comparison with the champion does not say abort (inconclusive: a recorded override)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.state_check import prove_model
from console.errors import BadInput, NotFound, Refused
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.refs import check_model_name
from console.release.deployments import (
    StageChange,
    canary_request,
    clear_canary,
    record_stage_change,
    verify_artifact,
)
from console.release.evidence import evidence_digest, evidence_for, latest_validation_in
from console.release.policy import Policy, load_policy
from console.store.db import Store
from console.store.models import PromotionRequest, RegisteredModel, StageAssignment


def _running_canary(session: Session, model: str, stage: str) -> StageAssignment:
    check_model_name(model)
    if session.get(RegisteredModel, model) is None:
        raise NotFound(f"no model {model!r} in this store")
    row = session.get(StageAssignment, (model, stage))
    if row is None or row.canary_version is None:
        raise BadInput(f"no canary runs for {model} in {stage}")
    return row


def _acting_on_canary(
    session: Session, signer: Signer, model: str, stage: str
) -> tuple[StageAssignment, int, PromotionRequest]:
    """Who may move a canary, its rows proven by the log, and the canary with its request."""
    require_actor(session, signer, Permission.PROMOTE)
    prove_model(session, model)  # the canary's share and step, its request, the holder
    assignment = _running_canary(session, model, stage)
    version = assignment.canary_version
    assert version is not None
    return assignment, version, canary_request(session, model, stage, version)


STEP, WAIT, ABORT = "step", "wait", "abort"  # as `monitor compare` recommends


@dataclass(frozen=True)
class StepAdvice:
    """What `monitor compare` says of a running canary, as a step must respect it."""

    recommendation: str  # step | wait (inconclusive, or no outcomes to compare) | abort
    metric: str | None  # the metric compared; None when nothing could be compared
    reason: str
    difference: float | None  # canary minus champion (MSE: champion minus canary)
    ci95: list[float] | None
    champion_rows: int
    canary_rows: int

    @property
    def needs_override(self) -> bool:
        return self.recommendation == WAIT

    def summary(self) -> str:
        on = f" on {self.metric}" if self.metric else ""
        return f"{self.recommendation.upper()}{on}: {self.reason}"

    def as_payload(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def step_advice(store: Store, model: str, stage: str) -> StepAdvice:
    """The comparison a step of the stage's canary is held to (the console shows it first)."""
    from console.monitoring.compare import compare_canary

    try:
        result = compare_canary(store, model, stage)
    except (BadInput, NotFound) as exc:
        # No champion, no logs or no outcomes yet: nothing shows the canary is safe.
        return StepAdvice(WAIT, None, f"nothing to compare: {exc}", None, None, 0, 0)
    note = f" ({result.metric_note})" if result.metric_note else ""
    return StepAdvice(
        result.recommendation,
        result.metric,
        result.reason + note,
        result.difference,
        result.ci95,
        result.champion.rows,
        result.canary.rows,
    )


def _refuse_void_approvals(session: Session, policy: Policy, request: PromotionRequest) -> None:
    """A step goes on the request's approvals: refused once newer evidence voided them."""
    plan = json.loads(request.canary_plan)
    now = evidence_for(session, policy, request.model, request.version, request.stage, plan)
    if evidence_digest(now) == request.evidence_digest:
        return
    then = json.loads(request.evidence)
    why: list[str] = []
    validation = ("validation_run", "validation_report_sha256")
    if any(now[key] != then.get(key) for key in validation):
        run = latest_validation_in(session, request.model, request.version)
        why.append(
            f"validation run {run.id} ({run.status}) came after them" if run else "no validation"
        )
    if now["policy_sha256"] != then.get("policy_sha256"):
        why.append("the policy changed")
    raise Refused(
        f"the approvals of request {request.id} are void: "
        f"{' and '.join(why) or 'its evidence changed'}; abort the canary (`signoff canary "
        f"abort {request.model} --stage {request.stage} --reason TEXT`) and file a new request"
    )


def _held_to(advice: StepAdvice, override: str | None, model: str, stage: str) -> bool:
    """Whether the step goes on an override (flagged); refused when the comparison forbids it."""
    if advice.recommendation == ABORT:
        raise Refused(
            f"`monitor compare` recommends abort ({advice.summary()}); stop the canary with "
            f"`signoff canary abort {model} --stage {stage} --reason TEXT`"
        )
    if advice.recommendation == WAIT and override is None:
        raise Refused(
            f"the canary comparison is inconclusive ({advice.summary()}); wait for more "
            "outcomes, or step with --override REASON (signed and flagged in every report)"
        )
    if advice.recommendation == STEP and override is not None:
        raise BadInput(
            f"`monitor compare` recommends the step ({advice.summary()}); --override is only "
            "for an inconclusive comparison"
        )
    return override is not None


def canary_step(
    store: Store, signer: Signer, model: str, stage: str, override: str | None = None
) -> StageChange:
    """Move the canary to its next share; the last step makes it the stage's version.

    Refused when newer evidence voided the request's approvals or `monitor compare` recommends
    abort; an inconclusive comparison needs `override` (a reason), recorded as break-glass is.
    """
    if override is not None:
        if not override.strip():
            raise BadInput("--override needs a reason saying why the canary steps anyway")
        check_text("the override reason", override, multiline=True)
    policy = load_policy(store)
    policy.stage(stage)
    with store.session() as session:
        assignment, version, request = _acting_on_canary(session, signer, model, stage)
        _refuse_void_approvals(session, policy, request)
        advice = step_advice(store, model, stage)  # joins this transaction: what it read holds
        overridden = _held_to(advice, override, model, stage)
        plan: list[int] = json.loads(request.canary_plan)
        step = (assignment.canary_step or 0) + 1
        now = store.clock()
        if step >= len(plan) - 1 or plan[step] >= 100:
            verify_artifact(store, session, model, version)
            replaced = assignment.version
            assignment.version = version
            clear_canary(assignment)
            request.status = "promoted"
            request.closed_at = now
            request.closed_by = signer.name
            action, kind, share = actions.CANARY_COMPLETED, "canary.completed", 100
        else:
            replaced = None
            assignment.canary_share = plan[step]
            assignment.canary_step = step
            action, kind, share = actions.CANARY_STEP, "canary.step", plan[step]
        assignment.updated_at = now
        seq = record_stage_change(
            session,
            signer,
            action=action,
            kind=kind,
            model=model,
            stage=stage,
            version=version,
            replaced=replaced,
            now=now,
            request_id=request.id,
            break_glass=overridden,
            reason=override or "",
            extra={"canary_share": share, "comparison": advice.as_payload()},
        )
        session.add(assignment)
        session.add(request)
        return StageChange(
            model, stage, kind, version, replaced, share, seq, overridden, advice.summary()
        )


def canary_abort(store: Store, signer: Signer, model: str, stage: str, reason: str) -> StageChange:
    """Stop a canary: all traffic returns to the stage's champion."""
    if not reason.strip():
        raise BadInput("an abort needs --reason")
    check_text("the reason", reason, multiline=True)
    load_policy(store).stage(stage)
    with store.session() as session:
        assignment, version, request = _acting_on_canary(session, signer, model, stage)
        now = store.clock()
        seq = record_stage_change(
            session,
            signer,
            action=actions.CANARY_ABORTED,
            kind="canary.aborted",
            model=model,
            stage=stage,
            version=version,
            replaced=None,
            now=now,
            request_id=request.id,
            reason=reason,
            extra={"champion": assignment.version},
        )
        clear_canary(assignment)
        assignment.updated_at = now
        request.status = "aborted"
        request.closed_at = now
        request.closed_by = signer.name
        session.add(assignment)
        session.add(request)
        return StageChange(model, stage, "canary.aborted", version, None, None, seq)
