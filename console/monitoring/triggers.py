"""`run_check`: evaluate every served model and open the retraining jobs the policy calls for.

For each model with a version in a stage (or the one model named), check evaluates drift,
performance and (when a log kept a sensitive column) fairness on the policy's window, records what
is new (windows and alerts), and then, for each version holding a stage, evaluates the policy's
`retrain_triggers`:
- drift_alert: an open drift.* alert of the version (quality alerts point at the data pipeline,
  not at the model, and do not trigger retraining);
- decay_alert: an open performance.decay alert of the version;
- fairness_alert: an open fairness.* alert of the version (not in the default policy: a gap may
  call for mitigation rather than fresh data, so a policy opts in);
- model_age: the version was registered more than max_model_age_days ago (store clock).
A version with a firing trigger and no open job gets one job, recorded with its triggers and a
`monitoring.retraining_requested` event. Everything is written in one transaction, and a run
that finds nothing new writes nothing, so check is safe to run from cron. A job only asks for
retraining: `signoff retrain` does it, and its candidate still goes through validation and the
promotion workflow; nothing here promotes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import select

from audit.canonical import canonical_json
from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.monitoring.drift import evaluate_drift
from console.monitoring.fairness import evaluate_fairness
from console.monitoring.logs import log_batches
from console.monitoring.performance import evaluate_performance
from console.monitoring.record import Recorded, record_windows_in
from console.monitoring.settings import MonitoringSettings, monitoring_settings
from console.monitoring.views import OPEN, AlertView, JobView, alerts_in, job_view
from console.monitoring.windows import WindowResult, parse_store_time
from console.registry.refs import check_model_name
from console.registry.views import ModelView, get_model, list_models
from console.release.policy import load_policy
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import RetrainingJob


@dataclass(frozen=True)
class ModelCheck:
    model: str
    versions: list[int]  # the versions holding a stage
    drift: Recorded
    performance: Recorded
    fairness: Recorded
    triggers: dict[int, list[dict[str, object]]]  # version -> firing triggers
    opened: list[JobView]
    already_open: list[JobView]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "versions": self.versions,
            "drift": self.drift.as_dict(),
            "performance": self.performance.as_dict(),
            "fairness": self.fairness.as_dict(),
            "triggers": {str(k): v for k, v in self.triggers.items()},
            "opened": [j.as_dict() for j in self.opened],
            "already_open": [j.as_dict() for j in self.already_open],
            "notes": self.notes,
        }


@dataclass(frozen=True)
class CheckResult:
    models: list[ModelCheck]

    @property
    def opened(self) -> list[JobView]:
        return [j for m in self.models for j in m.opened]

    def as_dict(self) -> dict[str, object]:
        return {"models": [m.as_dict() for m in self.models]}


@dataclass(frozen=True)
class _Planned:
    model: ModelView
    versions: dict[int, str]  # version -> the last stage (policy order) it holds
    drift: list[WindowResult]
    performance: list[WindowResult]
    fairness: list[WindowResult]
    notes: list[str]


def _served(model: ModelView, order: list[str]) -> dict[int, str]:
    held: dict[int, str] = {}
    for stage in order:
        version = model.stages.get(stage)
        if version is not None:
            held[version] = stage
    return held


def run_check(store: Store, signer: Signer, model: str | None = None) -> CheckResult:
    """Evaluate, record and open retraining jobs for one model or every served one."""
    with store.session() as session:
        require_actor(session, signer, Permission.EVALUATE)  # refuse before any heavy work
    policy = load_policy(store)
    settings = monitoring_settings(policy)
    if model is not None:
        check_model_name(model)
        models = [get_model(store, model)]
    else:
        models = [m for m in list_models(store) if any(v is not None for v in m.stages.values())]
    planned: list[_Planned] = []
    for view in models:
        versions = _served(view, policy.stage_names)
        drift: list[WindowResult] = []
        performance: list[WindowResult] = []
        fairness: list[WindowResult] = []
        notes: list[str] = []
        batches = log_batches(store, view.name)
        if batches:
            drift = evaluate_drift(store, view.name).windows
            evaluated = evaluate_performance(store, view.name)
            performance, notes = evaluated.windows, list(evaluated.notes)
            if any(b.sensitive for b in batches):
                fairness = evaluate_fairness(store, view.name).windows  # every kept attribute
            else:
                notes.append(
                    f"no prediction log of {view.name} keeps a sensitive column: no fairness"
                )
        else:
            notes.append(f"no prediction logs for {view.name}: only the model's age is checked")
        planned.append(_Planned(view, versions, drift, performance, fairness, notes))

    results: list[ModelCheck] = []
    with store.session() as session:
        require_actor(session, signer, Permission.EVALUATE)
        now = store.clock()
        for plan in planned:
            name = plan.model.name
            window = settings.window.text
            drift_recorded = record_windows_in(
                session, signer, now, name, "drift", window, settings.policy_sha256, plan.drift
            )
            performance_recorded = record_windows_in(
                session,
                signer,
                now,
                name,
                "performance",
                window,
                settings.policy_sha256,
                plan.performance,
            )
            fairness_recorded = record_windows_in(
                session,
                signer,
                now,
                name,
                "fairness",
                window,
                settings.policy_sha256,
                plan.fairness,
            )
            open_alerts = alerts_in(session, name, status=OPEN)
            triggers: dict[int, list[dict[str, object]]] = {}
            opened: list[JobView] = []
            already: list[JobView] = []
            for version, stage in plan.versions.items():
                fired = _triggers(plan.model, version, open_alerts, now, settings)
                fired = [t for t in fired if t["trigger"] in settings.retrain_triggers]
                if not fired:
                    continue
                triggers[version] = fired
                job = session.exec(
                    select(RetrainingJob).where(
                        RetrainingJob.model == name,
                        RetrainingJob.version == version,
                        RetrainingJob.status == OPEN,
                    )
                ).first()
                if job is not None:
                    already.append(job_view(job, None))
                    continue
                job_id = next_id(session, RetrainingJob)
                event = append_event(
                    session,
                    signer,
                    actions.MONITORING_RETRAINING_REQUESTED,
                    f"job:{job_id}",
                    {
                        "job": job_id,
                        "model": name,
                        "version": version,
                        "stage": stage,
                        "triggers": fired,
                        "policy_sha256": settings.policy_sha256,
                    },
                    ts=now,
                    model=name,
                )
                row = RetrainingJob(
                    id=job_id,
                    model=name,
                    version=version,
                    stage=stage,
                    triggers=canonical_json(fired).decode(),
                    status=OPEN,
                    created_at=now,
                    created_by=signer.name,
                    event_seq=event.seq,
                )
                session.add(row)
                session.flush()
                opened.append(job_view(row, None))
            results.append(
                ModelCheck(
                    name,
                    sorted(plan.versions),
                    drift_recorded,
                    performance_recorded,
                    fairness_recorded,
                    triggers,
                    opened,
                    already,
                    plan.notes,
                )
            )
    return CheckResult(results)


def _triggers(
    model: ModelView,
    version: int,
    alerts: list[AlertView],
    now: str,
    settings: MonitoringSettings,
) -> list[dict[str, object]]:
    mine = [a for a in alerts if a.version == version]
    fired: list[dict[str, object]] = []
    drift = [a.id for a in mine if a.kind.startswith("drift.")]
    if drift:
        fired.append({"trigger": "drift_alert", "alerts": drift})
    decay = [a.id for a in mine if a.kind == "performance.decay"]
    if decay:
        fired.append({"trigger": "decay_alert", "alerts": decay})
    fairness = [a.id for a in mine if a.kind.startswith("fairness.")]
    if fairness:
        fired.append({"trigger": "fairness_alert", "alerts": fairness})
    created = next(v.created_at for v in model.versions if v.number == version)
    age = parse_store_time(now) - parse_store_time(created)
    if age > timedelta(days=settings.max_model_age_days):
        fired.append(
            {
                "trigger": "model_age",
                "age_days": round(age / timedelta(days=1), 1),
                "max_model_age_days": settings.max_model_age_days,
            }
        )
    return fired
