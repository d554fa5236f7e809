"""Records a run: report artifact, run and check rows and the signed event, all or nothing."""

from __future__ import annotations

from typing import Any

from audit.canonical import canonical_json
from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.views import VersionView
from console.release.evidence import ValidationView, latest_validation_in
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import ValidationCheck, ValidationRun
from console.validation.checks import FAIL, WARN, Check, finite, plain, run_status, status_counts
from console.validation.dataset import ValidationData
from console.validation.report import build_report
from console.validation.reproducibility import environment

# Headline metrics copied into the run's summary (and so into lists and the console).
HEADLINE = ("accuracy", "roc_auc", "f1", "r2", "rmse", "mae")


def summarize(checks: list[Check], rows: int, settings: dict[str, Any]) -> dict[str, Any]:
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
        # The cut-off that made a binary score a decision (None where none applies).
        "decision_threshold": settings.get("decision_threshold"),
    }


def record_run(
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
    status = run_status(checks)
    summary = summarize(checks, loaded.rows, settings)
    with store.session() as session:
        require_actor(session, signer, Permission.VALIDATE)
        run_id = next_id(session, ValidationRun)
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
        digest = artifacts.put_bytes_in(session, report)
        event = append_event(
            session,
            signer,
            actions.VALIDATION_COMPLETED,
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
                    "checks": {c.name: c.status for c in checks},  # what the rows must say
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
                    detail=canonical_json(plain(check.detail.to_json())).decode(),
                )
            )
        session.flush()
        recorded = latest_validation_in(session, view.model, view.number)
        assert recorded is not None and recorded.id == run_id
        return recorded
