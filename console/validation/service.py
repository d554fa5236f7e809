"""`run_validation`: check the inputs, run every check, record run, checks and event at once."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audit.keys import Signer
from console.errors import BadInput
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.views import get_dataset, get_version, load_version_estimator
from console.release.evidence import ValidationView
from console.release.policy import load_policy
from console.store.db import Store
from console.validation.bootstrap import BootstrapPlan
from console.validation.champion import champion_check, champion_target
from console.validation.checks import CATEGORIES, Check
from console.validation.credit import binary_score_checks, residual_check, score_baseline
from console.validation.data_checks import data_checks
from console.validation.dataset import (
    check_target,
    intersection_groups,
    intersection_name,
    read_validation_data,
    sensitive_groups,
)
from console.validation.drift import drift_checks
from console.validation.fairness import classification_fairness, regression_fairness
from console.validation.latency import latency_check
from console.validation.performance import (
    binary_roc_auc,
    classification_checks,
    codes,
    positive_scores,
    regression_checks,
)
from console.validation.prediction import Predictions, predict
from console.validation.record import record_run
from console.validation.reference import measure_file, parse_profile
from console.validation.reproducibility import reproducibility_check
from console.validation.robustness import robustness_check
from console.validation.thresholds import effective_thresholds

Progress = Callable[[str, float], None]


def _silent(_label: str, _fraction: float) -> None:
    return None


def run_validation(
    store: Store,
    signer: Signer,
    model: str,
    version: int,
    data: Path,
    target: str,
    sensitive: str | Sequence[str] | None = None,
    stage: str | None = None,
    progress: Progress | None = None,
    *,
    intersect: bool = False,
    decision_threshold: float | None = None,
) -> ValidationView:
    """Validate MODEL:VERSION on the file and record the run; BadInput leaves the store as it was.

    `sensitive` names one group column or several (each analysed, the fairness gate over all;
    `intersect` adds their intersection). `decision_threshold` (else the policy's) is the score
    above which a binary classifier's row counts as positive, for threshold metrics and fairness.

    Raises NotFound (unknown model/version), BadInput (an unusable file, column or stage),
    Refused (the actor may not validate) and IntegrityError (an artifact fails its digest).
    """
    step = progress or _silent
    started_at = store.clock()
    attributes = [sensitive] if isinstance(sensitive, str) else list(sensitive or [])
    if intersect and len(attributes) < 2:
        raise BadInput("--intersect needs at least two --sensitive columns")
    if decision_threshold is not None and not 0.0 < decision_threshold < 1.0:
        raise BadInput(
            f"--threshold {decision_threshold:g} is not a probability strictly between 0 and 1"
        )
    view = get_version(store, model, version)
    with store.session() as session:
        require_actor(session, signer, Permission.VALIDATE)  # refuse before any heavy work
    policy = load_policy(store)
    thresholds = effective_thresholds(policy, decision_threshold)
    if not 0.0 < thresholds["decision_threshold"] < 1.0:
        raise BadInput("the policy's decision_threshold must lie strictly between 0 and 1")
    target_stage = champion_target(store, model, version, policy, stage)
    tolerance = policy.stage(target_stage.stage).champion_tolerance if target_stage.stage else 0.0
    source = f"{model}:{version}"
    features = [str(c["name"]) for c in view.input_schema]
    champion_features: tuple[str, ...] = ()
    if target_stage.version is not None:
        champion = get_version(store, model, target_stage.version)
        champion_features = tuple(str(c["name"]) for c in champion.input_schema)

    step("reading data", 0.02)
    loaded = read_validation_data(
        Path(data),
        features=features,
        target=target,
        sensitive=attributes,
        source=source,
        optional=champion_features,
    )
    step("loading the model", 0.10)
    estimator = load_version_estimator(store, view)
    classes = (
        [c.item() if hasattr(c, "item") else c for c in estimator.classes_]
        if view.task_type == "classification"
        else None
    )
    frame = loaded.frame
    check_target(frame, target, view.task_type, classes, source)
    groups = {column: sensitive_groups(frame, column) for column in attributes}
    if intersect:
        groups[intersection_name(attributes)] = intersection_groups(frame, attributes)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step("predicting", 0.15)
        predictions = predict(estimator, frame, features, source=source, data_name=loaded.name)
        y = frame[target].to_numpy()
        plan = BootstrapPlan(rows=len(frame))
        checks: list[Check] = []

        step("performance", 0.30)
        decisions, cut = decide(predictions, classes, thresholds["decision_threshold"])
        if classes is not None:
            score = positive_scores(predictions)
            positive = codes(y, classes) == 1
            scored = score if len(classes) == 2 else None
            auc = binary_roc_auc(positive, scored, plan) if scored is not None else None
            checks += classification_checks(y, decisions, classes, plan, thresholds, auc)
            if scored is not None:
                checks += binary_score_checks(
                    positive,
                    scored,
                    predictions.proba is not None,
                    plan,
                    thresholds,
                    score_baseline(store, model, version),
                    auc,
                )
        else:
            y_float = y.astype(np.float64)
            predicted = np.asarray(predictions.predicted, dtype=np.float64)
            checks += regression_checks(y_float, predicted, plan, thresholds)
            checks.append(residual_check(y_float, predicted, thresholds))

        step("data and drift", 0.45)
        reference = parse_profile(get_dataset(store, view.train_dataset_sha256).profile)
        compared = [c for c in reference if c != target and c in loaded.columns]
        measures = measure_file(loaded.path, loaded.format, reference, compared)
        checks += data_checks(
            reference,
            measures,
            features=features,
            target=target,
            sensitive=attributes,
            thresholds=thresholds,
        )
        checks += drift_checks(
            [measures.columns[f] for f in features if f in measures.columns], thresholds
        )

        step("fairness", 0.55)
        for column, found in groups.items():
            # One attribute keeps the plain names; several are told apart by a suffix.
            suffix = f".{column}" if len(groups) > 1 else ""
            if classes is not None:
                checks += classification_fairness(
                    codes(y, classes),
                    codes(decisions.predicted, classes),
                    found,
                    classes,
                    plan,
                    thresholds,
                    column,
                    suffix,
                    policy.fairness_bound(column),
                )
            else:
                checks += regression_fairness(
                    y.astype(np.float64),
                    np.asarray(predictions.predicted, dtype=np.float64),
                    found,
                    column,
                    suffix,
                )

        step("champion", 0.62)
        checks.append(
            champion_check(
                store,
                view,
                target_stage,
                tolerance,
                frame,
                y,
                predictions,
                classes,
                plan,
                loaded.name,
            )
        )
        step("reproducibility", 0.72)
        checks.append(
            reproducibility_check(store, view, frame, features, predictions, loaded.name, estimator)
        )
        step("robustness", 0.82)
        checks.append(
            robustness_check(
                estimator,
                frame,
                features,
                reference,
                predictions,
                view.task_type,
                thresholds,
                source=source,
                data_name=loaded.name,
            )
        )
        step("latency", 0.90)
        checks.append(latency_check(estimator, frame, features, thresholds))

    checks.sort(key=lambda c: (CATEGORIES.index(c.category), _order(c, features)))
    step("recording", 0.96)
    result = record_run(
        store,
        signer,
        view,
        loaded,
        checks,
        settings={
            "target": target,
            "sensitive": ", ".join(attributes) or None,
            "sensitive_columns": attributes,
            "intersect": intersect,
            "decision_threshold": cut,
            "stage": target_stage.stage,
            "champion_version": target_stage.version,
            "champion_tolerance": tolerance,
            "policy_sha256": policy.digest,
            "thresholds": thresholds,
            "bootstrap": plan.describe(),
        },
        started_at=started_at,
    )
    step("done", 1.0)
    return result


def decide(
    predictions: Predictions, classes: list[Any] | None, threshold: float
) -> tuple[Predictions, float | None]:
    """A binary classifier's labels at the decision threshold, and the threshold applied (None
    where it does not apply: regressors, multiclass models, scores that are not probabilities).

    Positive when the probability exceeds the threshold: at 0.5 this is the estimator's own
    `predict` (a tie goes to the first class, as argmax does).
    """
    proba = predictions.proba
    if classes is None or len(classes) != 2 or proba is None:
        return predictions, None
    labels = np.asarray(classes, dtype=object)
    decided = labels[(proba[:, 1] > threshold).astype(np.intp)]
    decided = decided.astype(np.asarray(predictions.predicted).dtype)
    return Predictions(decided, proba, predictions.scores), threshold


def _order(check: Check, features: list[str]) -> tuple[int, str]:
    """Drift checks follow the model's feature order; the rest keep the order they ran in."""
    if check.category == "drift":
        column = check.name.split(".", 2)[2]
        return (features.index(column) if column in features else len(features), check.name)
    return (0, "")
