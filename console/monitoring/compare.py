"""`compare_canary`: the champion against the canary of a stage, on the outcomes that came in.

Rows are the stage's logged predictions since the canary started, served by the champion or
the canary, that have an outcome. The arms are different requests, so the test is unpaired:
- classifiers: accuracy per arm, the difference (canary minus champion) with a 95% Wald
  interval, and a two-proportion z-test (pooled) for equal accuracy;
- regressors: mean squared error per arm, the improvement (champion minus canary) with a 95%
  interval from the arms' variances, and a two-sample z-test on it.
p-values come from the normal distribution (math.erfc); no scipy.

The recommendation uses the stage's champion_tolerance t (regressors: t times the champion's
MSE) and the policy's min_compare_rows and compare_alpha:
- wait: an arm has fewer labelled rows than min_compare_rows, or the evidence is inconclusive;
- abort: the canary is worse by more than t with 95% confidence (the interval lies below -t)
  and the test rejects equality at compare_alpha;
- step: the interval's lower end is at least -t: the canary is not worse beyond tolerance.
It is advice for the release engineer, who acts with `signoff canary step` or `abort`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from sqlmodel import col, select

from console.analytics import connect, parquet_source, rows
from console.errors import BadInput, NotFound
from console.monitoring.logs import (
    OUTCOME,
    PREDICTION,
    REQUEST_ID,
    TS,
    VERSION,
    log_batches,
    outcome_batches,
    verified_paths,
)
from console.monitoring.settings import monitoring_settings
from console.monitoring.windows import parse_store_time
from console.registry.refs import check_model_name
from console.registry.views import get_model
from console.release.policy import load_policy
from console.store.db import Store
from console.store.models import AuditEvent, Deployment

Z95 = 1.959963984540054
WAIT, STEP, ABORT = "wait", "step", "abort"


@dataclass(frozen=True)
class Arm:
    version: int
    rows: int  # labelled rows
    value: float | None  # accuracy, or mean squared error
    variance: float | None  # of the per-row quantity

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class CompareResult:
    model: str
    stage: str
    champion: Arm
    canary: Arm
    canary_share: int | None
    since: str
    metric: str  # accuracy | mse
    difference: float | None  # positive: the canary is better
    ci95: list[float] | None
    z: float | None
    p_value: float | None
    alpha: float
    tolerance: float
    recommendation: str  # wait | step | abort
    reason: str
    command: str | None

    def as_dict(self) -> dict[str, object]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["champion"] = self.champion.as_dict()
        data["canary"] = self.canary.as_dict()
        return data


@dataclass(frozen=True)
class CanaryState:
    champion: int | None
    canary: int
    started_at: str


def canary_state(
    store: Store, model: str, stage: str, *, upto_seq: int | None = None
) -> CanaryState | None:
    """The stage's champion and running canary, replayed from its deployments (before N)."""
    with store.session() as session:
        query = select(Deployment).where(Deployment.model == model, Deployment.stage == stage)
        if upto_seq is not None:
            query = query.where(Deployment.event_seq < upto_seq)
        history = session.exec(query.order_by(col(Deployment.id))).all()
    champion: int | None = None
    state: CanaryState | None = None
    for row in history:
        if row.kind in ("promotion", "canary.completed", "rollback"):
            champion, state = row.version, None
        elif row.kind == "canary.started":
            state = CanaryState(champion, row.version, row.occurred_at)
        elif row.kind == "canary.aborted":
            state = None
    return state


def _z_sf(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def compare_canary(
    store: Store, model: str, stage: str, *, upto_seq: int | None = None
) -> CompareResult:
    """Champion vs canary on logged outcomes, with the recommended next canary action."""
    check_model_name(model)
    view = get_model(store, model)
    policy = load_policy(store)
    stage = policy.stage(stage).name
    tolerance = policy.stage(stage).champion_tolerance
    settings = monitoring_settings(policy)
    state = canary_state(store, model, stage, upto_seq=upto_seq)
    if state is None:
        raise BadInput(
            f"no canary runs for {model} in {stage}; compare needs a champion and a canary"
        )
    if state.champion is None:
        raise BadInput(f"{stage} of {model} has no champion to compare the canary with")
    share = _current_share(store, model, stage, upto_seq)
    batches = log_batches(store, model, upto_seq=upto_seq, stage=stage)
    if not batches:
        raise NotFound(
            f"no prediction logs for {model} in {stage}; ingest them with "
            f"`signoff monitor ingest {model} --stage {stage}`"
        )
    labels = outcome_batches(store, model, upto_seq=upto_seq)
    if not labels:
        raise NotFound(f"no outcomes for {model} yet; ingest them with `signoff monitor labels`")
    regression = view.versions[-1].task_type == "regression"
    logs = parquet_source(verified_paths(store, [b.artifact_sha256 for b in batches]))
    outcomes = parquet_source(verified_paths(store, [b.artifact_sha256 for b in labels]))
    since = parse_store_time(state.started_at)
    per_row = (
        f"(CAST(l.{PREDICTION} AS DOUBLE) - CAST(o.{OUTCOME} AS DOUBLE)) ** 2"
        if regression
        else f"CASE WHEN CAST(l.{PREDICTION} AS VARCHAR) = CAST(o.{OUTCOME} AS VARCHAR) "
        "THEN 1.0 ELSE 0.0 END"
    )
    sql = (
        f"SELECT l.{VERSION}, count(*), avg({per_row}), var_samp({per_row}) "
        f"FROM {logs} l JOIN {outcomes} o ON l.{REQUEST_ID} = o.{REQUEST_ID} "
        f"WHERE l.{VERSION} IN ({state.champion}, {state.canary}) "
        f"AND l.{TS} >= TIMESTAMP '{since.isoformat(sep=' ')}' GROUP BY 1"
    )
    con = connect()
    try:
        found = rows(con, sql, f"comparing {model}:{state.champion} and :{state.canary}")
    finally:
        con.close()
    arms = {
        int(str(r[0])): Arm(
            int(str(r[0])), int(str(r[1])), _float(r[2]), _float(r[3]) if r[3] is not None else 0.0
        )
        for r in found
    }
    champion = arms.get(state.champion, Arm(state.champion, 0, None, None))
    canary = arms.get(state.canary, Arm(state.canary, 0, None, None))
    return _decide(
        model,
        stage,
        champion,
        canary,
        share,
        state.started_at,
        "mse" if regression else "accuracy",
        tolerance,
        settings.min_compare_rows,
        settings.compare_alpha,
    )


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _current_share(store: Store, model: str, stage: str, upto_seq: int | None) -> int | None:
    """The canary's traffic share, from the payload of its latest start or step event."""
    with store.session() as session:
        query = select(AuditEvent).where(
            AuditEvent.model == model,
            AuditEvent.subject == f"{model}:{stage}",
            col(AuditEvent.action).in_(("canary.started", "canary.step")),
        )
        if upto_seq is not None:
            query = query.where(AuditEvent.seq < upto_seq)
        event = session.exec(query.order_by(col(AuditEvent.seq).desc())).first()
        if event is None:
            return None
        payload = json.loads(bytes(event.payload))
    value = payload.get("canary_share")
    return int(value) if isinstance(value, int) else None


def _decide(
    model: str,
    stage: str,
    champion: Arm,
    canary: Arm,
    share: int | None,
    since: str,
    metric: str,
    tolerance: float,
    min_rows: int,
    alpha: float,
) -> CompareResult:
    difference = ci = z = p_value = None
    margin = tolerance
    if champion.value is not None and canary.value is not None and champion.rows and canary.rows:
        n1, n2 = champion.rows, canary.rows
        if metric == "accuracy":
            p1, p2 = champion.value, canary.value
            difference = p2 - p1
            se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
            pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
            se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        else:
            difference = champion.value - canary.value
            se = math.sqrt((champion.variance or 0.0) / n1 + (canary.variance or 0.0) / n2)
            se0 = se
            margin = tolerance * champion.value
        ci = [difference - Z95 * se, difference + Z95 * se]
        if se0 > 0:
            z = difference / se0
            p_value = _z_sf(z)
        else:
            z, p_value = 0.0, 1.0
    if min(champion.rows, canary.rows) < min_rows:
        recommendation = WAIT
        reason = (
            f"too few outcomes yet: champion {champion.rows}, canary {canary.rows} labelled "
            f"rows (the policy asks for {min_rows} each)"
        )
    elif ci is not None and p_value is not None and ci[1] < -margin and p_value < alpha:
        recommendation = ABORT
        reason = (
            f"the canary is worse by more than the tolerance {margin:.4g} with 95% confidence "
            f"(difference {difference:+.4f}, p {p_value:.2g})"
        )
    elif ci is not None and ci[0] >= -margin:
        recommendation = STEP
        reason = (
            f"the canary is not worse than the champion beyond the tolerance {margin:.4g} "
            f"(95% interval {ci[0]:+.4f} to {ci[1]:+.4f})"
        )
    else:
        recommendation = WAIT
        reason = "inconclusive: the interval spans the tolerance; collect more outcomes"
    command = None
    if recommendation == STEP:
        command = f"signoff canary step {model} --stage {stage}"
    elif recommendation == ABORT:
        command = (
            f'signoff canary abort {model} --stage {stage} --reason "canary {metric} worse '
            f'than champion on logged outcomes"'
        )
    return CompareResult(
        model=model,
        stage=stage,
        champion=champion,
        canary=canary,
        canary_share=share,
        since=since,
        metric=metric,
        difference=difference,
        ci95=ci,
        z=z,
        p_value=p_value,
        alpha=alpha,
        tolerance=margin,
        recommendation=recommendation,
        reason=reason,
        command=command,
    )
