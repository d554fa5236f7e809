"""Challenger versus champion: the version holding the next stage, on the same rows, paired.

The champion is the version that now holds the stage this version would move to next: the first
stage after the highest stage it holds, or the first stage if it holds none (`--stage` names
another). The comparison is a paired bootstrap of challenger minus champion on the same resamples:
ROC AUC for binary classifiers that score (else accuracy), R^2 for regressors. The check passes
when the interval's lower bound is at least -champion_tolerance of that stage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlmodel import select

from console.errors import BadInput
from console.registry.views import VersionView, get_version, load_version_estimator
from console.release.policy import Policy
from console.store.db import Store
from console.store.models import StageAssignment
from console.validation.bootstrap import (
    BootstrapPlan,
    Floats,
    Statistic,
    auc_of,
    difference,
    mean_of,
    r2_of,
)
from console.validation.checks import FAIL, INFO, PASS, WARN, Check
from console.validation.performance import codes, positive_scores
from console.validation.prediction import Predictions, predict
from console.validation.run_details import ChampionComparison, MetricDelta


@dataclass(frozen=True)
class ChampionTarget:
    """The stage compared against and who holds it (None, with the reason, when nobody does)."""

    stage: str | None
    version: int | None
    reason: str = ""


def champion_target(
    store: Store, model: str, number: int, policy: Policy, stage: str | None
) -> ChampionTarget:
    names = policy.stage_names
    with store.session() as session:
        rows = session.exec(select(StageAssignment).where(StageAssignment.model == model)).all()
        holders = {r.stage: r.version for r in rows}
    if stage is None:
        held = [i for i, name in enumerate(names) if holders.get(name) == number]
        if held and max(held) + 1 >= len(names):
            return ChampionTarget(None, None, f"{model}:{number} holds {names[-1]}, the last stage")
        stage = names[max(held) + 1] if held else names[0]
    else:
        policy.stage(stage)  # BadInput naming the policy's stages
    holder = holders.get(stage)
    if holder is None:
        return ChampionTarget(stage, None, f"no version holds {stage}")
    if holder == number:
        return ChampionTarget(stage, None, f"{model}:{number} itself holds {stage}")
    return ChampionTarget(stage, holder)


def champion_check(
    store: Store,
    challenger: VersionView,
    target: ChampionTarget,
    tolerance: float,
    frame: pd.DataFrame,
    y: NDArray[Any],
    predictions: Predictions,
    classes: list[Any] | None,
    plan: BootstrapPlan,
    data_name: str,
) -> Check:
    """champion.not_worse: info without a champion, else pass or fail on the paired interval."""
    if target.version is None:
        detail = ChampionComparison(stage=target.stage, tolerance=tolerance, note=target.reason)
        return Check("champion.not_worse", "champion", INFO, None, None, detail)
    champion = get_version(store, challenger.model, target.version)
    base = ChampionComparison(
        stage=target.stage, tolerance=tolerance, champion_version=champion.number
    )
    source = f"{champion.model}:{champion.number}"
    if champion.task_type != challenger.task_type:
        return _failed(base, tolerance, f"champion {source} is a {champion.task_type} model")
    features = [str(c["name"]) for c in champion.input_schema]
    missing = [f for f in features if f not in frame.columns]
    if missing:
        return _failed(
            base,
            tolerance,
            f"{data_name} lacks champion {source}'s features {', '.join(missing[:6])}",
        )
    estimator = load_version_estimator(store, champion)  # IntegrityError if it was swapped
    try:
        theirs = predict(estimator, frame, features, source=source, data_name=data_name)
    except BadInput as exc:
        return _failed(base, tolerance, f"champion cannot predict: {exc.message}")
    if classes is not None:
        champion_classes = list(getattr(estimator, "classes_", []))
        if [str(c) for c in champion_classes] != [str(c) for c in classes]:
            return _failed(base, tolerance, f"champion {source} predicts other classes")
    metric, ours_stat, theirs_stat, ours_value, theirs_value = _primary(
        y, predictions, theirs, classes
    )
    secondary = _secondary(y, predictions, theirs, classes)
    if secondary is not None and secondary[0] == metric:
        secondary = None
    statistics: dict[str, Statistic] = {metric: difference(ours_stat, theirs_stat)}
    if secondary is not None:
        statistics[secondary[0]] = difference(secondary[1], secondary[2])
    draws = plan.run(statistics)
    delta = ours_value - theirs_value
    interval = plan.interval(delta, draws[metric])
    detail = replace(
        base, rule=">=", primary=MetricDelta(metric, ours_value, theirs_value, delta, interval)
    )
    if secondary is not None:
        name, _, _, ours_2, theirs_2 = secondary
        second = plan.interval(ours_2 - theirs_2, draws[name])
        detail = replace(
            detail, secondary=MetricDelta(name, ours_2, theirs_2, ours_2 - theirs_2, second)
        )
    if interval is None:
        status = WARN
        note = f"{metric} delta {delta:+.4f} vs v{champion.number}; interval undefined"
    else:
        status = PASS if interval.low >= -tolerance else FAIL
        note = (
            f"{metric} {delta:+.4f} vs v{champion.number} "
            f"(95% CI {interval.low:+.4f} to {interval.high:+.4f})"
        )
    detail = replace(detail, note=note)
    return Check("champion.not_worse", "champion", status, delta, -tolerance, detail)


def _failed(base: ChampionComparison, tolerance: float, reason: str) -> Check:
    detail = replace(base, note=reason, reason=reason)
    return Check("champion.not_worse", "champion", FAIL, None, -tolerance, detail)


def _primary(
    y: NDArray[Any], ours: Predictions, theirs: Predictions, classes: list[Any] | None
) -> tuple[str, Statistic, Statistic, float, float]:
    from sklearn import metrics as skm

    if classes is None:
        y_float = np.asarray(y, dtype=np.float64)
        a = np.asarray(ours.predicted, dtype=np.float64)
        b = np.asarray(theirs.predicted, dtype=np.float64)
        return (
            "r2",
            r2_of(y_float, a),
            r2_of(y_float, b),
            float(skm.r2_score(y_float, a)),
            float(skm.r2_score(y_float, b)),
        )
    true = codes(y, classes)
    ours_scores, theirs_scores = positive_scores(ours), positive_scores(theirs)
    two_classes = len(classes) == 2 and np.unique(true).size == 2
    if two_classes and ours_scores is not None and theirs_scores is not None:
        positive = true == 1
        return (
            "roc_auc",
            auc_of(positive, ours_scores),
            auc_of(positive, theirs_scores),
            float(skm.roc_auc_score(positive, ours_scores)),
            float(skm.roc_auc_score(positive, theirs_scores)),
        )
    return _accuracy(y, ours, theirs, classes)


def _accuracy(
    y: NDArray[Any], ours: Predictions, theirs: Predictions, classes: list[Any]
) -> tuple[str, Statistic, Statistic, float, float]:
    true = codes(y, classes)
    a: Floats = (codes(ours.predicted, classes) == true).astype(np.float64)
    b: Floats = (codes(theirs.predicted, classes) == true).astype(np.float64)
    return "accuracy", mean_of(a), mean_of(b), float(a.mean()), float(b.mean())


def _secondary(
    y: NDArray[Any], ours: Predictions, theirs: Predictions, classes: list[Any] | None
) -> tuple[str, Statistic, Statistic, float, float] | None:
    """Accuracy next to ROC AUC; RMSE (lower is better) next to R^2."""
    if classes is not None:
        return _accuracy(y, ours, theirs, classes)
    y_float = np.asarray(y, dtype=np.float64)
    a = (y_float - np.asarray(ours.predicted, dtype=np.float64)) ** 2
    b = (y_float - np.asarray(theirs.predicted, dtype=np.float64)) ** 2
    mse_a, mse_b = mean_of(a), mean_of(b)
    return (
        "rmse",
        lambda index: np.sqrt(mse_a(index)),
        lambda index: np.sqrt(mse_b(index)),
        float(np.sqrt(a.mean())),
        float(np.sqrt(b.mean())),
    )
