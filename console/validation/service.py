"""`run_validation`: check the inputs, run every check, record run, checks and event at once."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from audit.keys import Signer
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.views import get_dataset, get_version, load_version_estimator
from console.release.evidence import ValidationView
from console.release.policy import load_policy
from console.store.db import Store
from console.validation.bootstrap import BootstrapPlan
from console.validation.champion import champion_check, champion_target
from console.validation.checks import CATEGORIES, Check
from console.validation.data_checks import data_checks
from console.validation.dataset import check_target, read_validation_data, sensitive_groups
from console.validation.drift import drift_checks
from console.validation.fairness import classification_fairness, regression_fairness
from console.validation.latency import latency_check
from console.validation.performance import classification_checks, codes, regression_checks
from console.validation.prediction import predict
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
    sensitive: str | None = None,
    stage: str | None = None,
    progress: Progress | None = None,
) -> ValidationView:
    """Validate MODEL:VERSION on the file and record the run; BadInput leaves the store as it was.

    Raises NotFound (unknown model/version), BadInput (an unusable file, column or stage),
    Refused (the actor may not validate) and IntegrityError (an artifact fails its digest).
    """
    step = progress or _silent
    started_at = store.clock()
    view = get_version(store, model, version)
    with store.session() as session:
        require_actor(session, signer, Permission.VALIDATE)  # refuse before any heavy work
    policy = load_policy(store)
    thresholds = effective_thresholds(policy)
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
        sensitive=sensitive,
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
    groups = sensitive_groups(frame, sensitive) if sensitive else None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step("predicting", 0.15)
        predictions = predict(estimator, frame, features, source=source, data_name=loaded.name)
        y = frame[target].to_numpy()
        plan = BootstrapPlan(rows=len(frame))
        checks: list[Check] = []

        step("performance", 0.30)
        if classes is not None:
            checks += classification_checks(y, predictions, classes, plan, thresholds)
        else:
            checks += regression_checks(
                y.astype(np.float64),
                np.asarray(predictions.predicted, dtype=np.float64),
                plan,
                thresholds,
            )

        step("data and drift", 0.45)
        reference = parse_profile(get_dataset(store, view.train_dataset_sha256).profile)
        compared = [c for c in reference if c != target and c in loaded.columns]
        measures = measure_file(loaded.path, loaded.format, reference, compared)
        checks += data_checks(
            reference,
            measures,
            features=features,
            target=target,
            sensitive=sensitive,
            thresholds=thresholds,
        )
        checks += drift_checks(
            [measures.columns[f] for f in features if f in measures.columns], thresholds
        )

        if groups is not None and sensitive is not None:
            step("fairness", 0.55)
            if classes is not None:
                checks += classification_fairness(
                    codes(y, classes),
                    codes(predictions.predicted, classes),
                    groups,
                    classes,
                    plan,
                    thresholds,
                    sensitive,
                )
            else:
                checks += regression_fairness(
                    y.astype(np.float64),
                    np.asarray(predictions.predicted, dtype=np.float64),
                    groups,
                    sensitive,
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
        checks.append(reproducibility_check(store, view, frame, features, predictions, loaded.name))
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
            "sensitive": sensitive,
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


def _order(check: Check, features: list[str]) -> tuple[int, str]:
    """Drift checks follow the model's feature order; the rest keep the order they ran in."""
    if check.category == "drift":
        column = check.name.split(".", 2)[2]
        return (features.index(column) if column in features else len(features), check.name)
    return (0, "")
