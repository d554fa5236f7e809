"""`run_validation`: check the inputs, run every check, record run, checks and event at once."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import func, select

from audit.canonical import canonical_json
from audit.keys import Signer
from audit.log import append_event
from console.artifacts import ArtifactStore
from console.evidence import ValidationView, latest_validation_in
from console.identity import require_actor
from console.policy import load_policy
from console.registry import VersionView, get_dataset, get_version, load_version_estimator
from console.store.db import Store
from console.store.models import ValidationCheck, ValidationRun
from console.validation.bootstrap import BootstrapPlan
from console.validation.champion import champion_check, champion_target
from console.validation.checks import (
    CATEGORIES,
    FAIL,
    WARN,
    Check,
    finite,
    plain,
    run_status,
    status_counts,
)
from console.validation.data_checks import data_checks
from console.validation.dataset import (
    ValidationData,
    check_target,
    read_validation_data,
    sensitive_groups,
)
from console.validation.drift import drift_checks
from console.validation.fairness import classification_fairness, regression_fairness
from console.validation.latency import latency_check
from console.validation.performance import classification_checks, codes, regression_checks
from console.validation.prediction import predict
from console.validation.reference import measure_file, parse_profile
from console.validation.report import build_report
from console.validation.reproducibility import environment, reproducibility_check
from console.validation.robustness import robustness_check
from console.validation.thresholds import effective_thresholds

VALIDATE_ROLES = ("author", "reviewer", "risk-officer", "admin")
Progress = Callable[[str, float], None]
# Headline metrics copied into the run's summary (and so into lists and the console).
HEADLINE = ("accuracy", "roc_auc", "f1", "r2", "rmse", "mae")


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
        require_actor(session, signer, VALIDATE_ROLES)  # refuse before any heavy work
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
    result = _record(
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


def _summary(checks: list[Check], rows: int, settings: dict[str, Any]) -> dict[str, Any]:
    by_name = {c.name: c for c in checks}
    metrics = {
        name: finite(by_name[f"performance.{name}"].value)
        for name in HEADLINE
        if f"performance.{name}" in by_name
    }
    champion = by_name.get("champion.not_worse")
    fairness = {
        c.name.split(".", 1)[1]: finite(c.value)
        for c in checks
        if c.category == "fairness" and c.name != "fairness.groups"
    }
    return {
        "rows": rows,
        "counts": status_counts(checks),
        "metrics": metrics,
        "failed": [c.name for c in checks if c.status == FAIL],
        "warned": [c.name for c in checks if c.status == WARN],
        "champion": {
            "stage": settings["stage"],
            "version": settings["champion_version"],
            "status": champion.status,
            "delta": finite(champion.value),
        }
        if champion is not None
        else None,
        "fairness": fairness or None,
    }


def _record(
    store: Store,
    signer: Signer,
    view: VersionView,
    loaded: ValidationData,
    checks: list[Check],
    *,
    settings: dict[str, Any],
    started_at: str,
) -> ValidationView:
    """Report artifact, run, checks and the `validation.completed` event: all or nothing."""
    artifacts = ArtifactStore(store.artifacts_dir)
    digest: str | None = None
    created = False
    status = run_status(checks)
    summary = _summary(checks, loaded.rows, settings)
    try:
        with store.session() as session:
            require_actor(session, signer, VALIDATE_ROLES)
            current = session.exec(select(func.max(ValidationRun.id))).one()
            run_id = int(current or 0) + 1
            now = store.clock()
            dataset = {
                "name": loaded.name,
                "sha256": loaded.sha256,
                "format": loaded.format,
                "rows": loaded.rows,
                "columns": loaded.columns,
            }
            report = build_report(
                run_id=run_id,
                subject={
                    "name": view.model,
                    "version": view.number,
                    "artifact_sha256": view.artifact_sha256,
                    "estimator_class": view.estimator_class,
                    "task_type": view.task_type,
                    "features": [c["name"] for c in view.input_schema],
                    "train_dataset_sha256": view.train_dataset_sha256,
                },
                dataset=dataset,
                settings=settings,
                outcome={
                    "status": status,
                    "passed": status != FAIL,
                    "summary": summary,
                    "actor": signer.name,
                    "started_at": started_at,
                    "finished_at": now,
                },
                checks=checks,
                environment=environment(),
            )
            digest, created = artifacts.put_bytes(report)
            event = append_event(
                session,
                signer,
                "validation.completed",
                f"{view.model}:{view.number}",
                plain(
                    {
                        "run_id": run_id,
                        "model": view.model,
                        "version": view.number,
                        "artifact_sha256": view.artifact_sha256,
                        "dataset_sha256": loaded.sha256,
                        "dataset_name": loaded.name,
                        "rows": loaded.rows,
                        "target": settings["target"],
                        "sensitive": settings["sensitive"],
                        "stage": settings["stage"],
                        "champion_version": settings["champion_version"],
                        "policy_sha256": settings["policy_sha256"],
                        "report_sha256": digest,
                        "status": status,
                        "passed": status != FAIL,
                        "counts": summary["counts"],
                        "failed": summary["failed"],
                    }
                ),
                ts=now,
                model=view.model,
            )
            session.add(
                ValidationRun(
                    id=run_id,
                    model=view.model,
                    version=view.number,
                    dataset_sha256=loaded.sha256,
                    dataset_name=loaded.name,
                    target=settings["target"],
                    sensitive=settings["sensitive"],
                    stage=settings["stage"],
                    status=status,
                    passed=status != FAIL,
                    report_sha256=digest,
                    started_at=started_at,
                    finished_at=now,
                    actor=signer.name,
                    summary=canonical_json(plain(summary)).decode(),
                    event_seq=event.seq,
                )
            )
            for check in checks:
                session.add(
                    ValidationCheck(
                        run_id=run_id,
                        name=check.name,
                        category=check.category,
                        status=check.status,
                        value=finite(check.value),
                        threshold=finite(check.threshold),
                        detail=canonical_json(plain(check.detail)).decode(),
                    )
                )
            session.flush()
            recorded = latest_validation_in(session, view.model, view.number)
            assert recorded is not None and recorded.id == run_id
            return recorded
    except BaseException:
        if created and digest is not None:
            artifacts.remove(digest)
        raise
