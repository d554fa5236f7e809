"""`compare_canary`: the champion against the canary of a stage, on the outcomes that came in.

Rows are the stage's logged predictions since the canary started, served by the champion or
the canary, that have an outcome. The arms are different requests, so the test is unpaired. The
metric is the stage's primary metric (policy `primary_metric`, default ROC AUC):
- classifiers, ROC AUC (when every labelled row of both arms carries a score and each arm has
  both classes): each arm's AUC from its rank sum (Mann-Whitney) with the Hanley-McNeil
  variance, the difference (canary minus champion) with a 95% interval and a z-test on it;
- classifiers, accuracy (the primary metric, or ROC AUC's fallback, which the result states):
  accuracy per arm, the difference with a 95% Wald interval, and a two-proportion z-test
  (pooled) for equal accuracy;
- regressors: mean squared error per arm, the improvement (champion minus canary) with a 95%
  interval from the arms' variances, and a two-sample z-test on it.
p-values come from the normal distribution (math.erfc); no scipy.

The recommendation uses the stage's champion_tolerance t (regressors: t times the champion's
MSE) and the policy's min_compare_rows and compare_alpha:
- wait: an arm has fewer labelled rows than min_compare_rows, or the evidence is inconclusive;
- abort: the canary is worse by more than t with 95% confidence (the interval lies below -t)
  and the test rejects equality at compare_alpha;
- step: the interval's lower end is at least -t: the canary is not worse beyond tolerance.
`signoff canary step` holds to it: refused on abort, and on wait only with a recorded override.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from sqlmodel import col, select

from console.analytics import connect, literal, parquet_source, rows
from console.errors import BadInput, NotFound
from console.monitoring.logs import (
    OUTCOME,
    PREDICTION,
    REQUEST_ID,
    SCORE,
    TS,
    VERSION,
    log_batches,
    outcome_batches,
    verified_paths,
)
from console.monitoring.settings import monitoring_settings
from console.monitoring.windows import parse_store_time
from console.registry.refs import check_model_name
from console.registry.views import ModelView, get_model
from console.release.policy import load_policy
from console.store.db import Store
from console.store.models import AuditEvent, Deployment

Z95 = 1.959963984540054
WAIT, STEP, ABORT = "wait", "step", "abort"


@dataclass(frozen=True)
class Arm:
    version: int
    rows: int  # labelled rows
    value: float | None  # the metric: ROC AUC, accuracy, or mean squared error
    variance: float | None  # of the per-row quantity (accuracy, MSE); of the AUC itself

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
    metric: str  # roc_auc | accuracy | mse: the one compared
    primary_metric: str  # the stage's (policy), for regressors mse
    metric_note: str  # why the metric compared is not the primary one ("" when it is)
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
    primary = "mse" if regression else policy.stage(stage).primary_metric
    positive = _positive_label(store, view, state) if primary == "roc_auc" else None
    logs = parquet_source(verified_paths(store, [b.artifact_sha256 for b in batches]))
    outcomes = parquet_source(verified_paths(store, [b.artifact_sha256 for b in labels]))
    since = parse_store_time(state.started_at)
    per_row = (
        f"(CAST(l.{PREDICTION} AS DOUBLE) - CAST(o.{OUTCOME} AS DOUBLE)) ** 2"
        if regression
        else f"CASE WHEN CAST(l.{PREDICTION} AS VARCHAR) = CAST(o.{OUTCOME} AS VARCHAR) "
        "THEN 1.0 ELSE 0.0 END"
    )
    hit = (
        f"CASE WHEN CAST(o.{OUTCOME} AS VARCHAR) = {literal(positive)} THEN 1 ELSE 0 END"
        if positive is not None
        else "0"
    )
    # Mid-ranks of the scores per arm: the positives' rank sum gives the Mann-Whitney AUC.
    sql = (
        f"WITH j AS (SELECT l.{VERSION} AS v, {per_row} AS q, CAST(l.{SCORE} AS DOUBLE) AS s, "
        f"{hit} AS y FROM {logs} l JOIN {outcomes} o ON l.{REQUEST_ID} = o.{REQUEST_ID} "
        f"WHERE l.{VERSION} IN ({state.champion}, {state.canary}) "
        f"AND l.{TS} >= TIMESTAMP '{since.isoformat(sep=' ')}'), "
        "r AS (SELECT *, rank() OVER (PARTITION BY v ORDER BY s) "
        "+ (count(*) OVER (PARTITION BY v, s) - 1) / 2.0 AS rk FROM j) "
        "SELECT v, count(*), avg(q), var_samp(q), count(*) FILTER (WHERE isfinite(s)), sum(y), "
        "sum(CASE WHEN y = 1 THEN rk ELSE 0 END) FROM r GROUP BY v"
    )
    con = connect()
    try:
        found = rows(con, sql, f"comparing {model}:{state.champion} and :{state.canary}")
    finally:
        con.close()
    plain = {int(str(r[0])): _arm(r) for r in found}
    ranked = {int(str(r[0])): _auc_arm(r) for r in found}
    metric, note = primary, ""
    arms = plain
    if primary == "roc_auc":
        wanted = (state.champion, state.canary)
        if positive is None:
            note = "no validation run names the positive class"
        elif any(ranked.get(v) is None for v in wanted):
            note = "an arm has labelled rows without a score, or only one class"
        else:
            arms = {v: a for v, a in ranked.items() if a is not None}
        if note:
            metric, note = "accuracy", f"roc_auc not computable ({note}); compared accuracy"
    champion = arms.get(state.champion, Arm(state.champion, 0, None, None))
    canary = arms.get(state.canary, Arm(state.canary, 0, None, None))
    return _decide(
        model,
        stage,
        champion,
        canary,
        share,
        state.started_at,
        metric,
        tolerance,
        settings.min_compare_rows,
        settings.compare_alpha,
        primary=primary,
        note=note,
    )


def _positive_label(store: Store, view: ModelView, state: CanaryState) -> str | None:
    """The class the logged score is the probability of, as the arms' validation runs name it."""
    from console.monitoring.performance import validation_baseline

    for number in (state.canary, state.champion):
        version = next((v for v in view.versions if v.number == number), None)
        if version is not None:
            positive = validation_baseline(store, version).positive_label
            if positive is not None:
                return positive
    return None


def _arm(row: tuple[object, ...]) -> Arm:
    variance = _float(row[3]) if row[3] is not None else 0.0
    return Arm(int(str(row[0])), int(str(row[1])), _float(row[2]), variance)


def _auc_arm(row: tuple[object, ...]) -> Arm | None:
    """ROC AUC with its Hanley-McNeil (1982) variance; None without a score on every row or
    without both classes."""
    rows_, scored, positives = int(str(row[1])), int(str(row[4])), int(str(row[5] or 0))
    negatives = rows_ - positives
    if scored != rows_ or positives == 0 or negatives == 0:
        return None
    rank_sum = float(str(row[6]))
    auc = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)
    ) / (positives * negatives)
    return Arm(int(str(row[0])), rows_, auc, max(variance, 0.0))


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
    *,
    primary: str | None = None,
    note: str = "",  # why `metric` is not the primary one
) -> CompareResult:
    difference = ci = z = p_value = None
    margin = tolerance
    if champion.value is not None and canary.value is not None and champion.rows and canary.rows:
        n1, n2 = champion.rows, canary.rows
        if metric == "roc_auc":
            difference = canary.value - champion.value
            se = math.sqrt((champion.variance or 0.0) + (canary.variance or 0.0))
            se0 = se
        elif metric == "accuracy":
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
        elif difference:
            z, p_value = None, 0.0  # no spread in either arm: the difference is not sampling
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
        primary_metric=primary or metric,
        metric_note=note,
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
