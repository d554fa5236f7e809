"""`retrain`: refit a clone of a version on new data and send it back through the workflow.

The candidate is `sklearn.base.clone` of the parent's estimator: the same hyperparameters, with
every `random_state` that was left unseeded set to RETRAIN_SEED (seeded ones keep their seed),
fitted on the new data's rows. Unless a holdout file is given, the data is split once, seeded
and stratified (75% to fit, 25% to validate), so the same file always gives the same candidate.
Then, each through its own audited service:
1. register_version: the candidate, with the parent as lineage and tags naming the trigger (the
   retraining job, or "manual"), the data file's sha256 and the split;
2. run_validation on the holdout, with the sensitive columns of the parent's latest validation;
3. request_promotion to the policy's first stage, for people to review and approve;
4. the retraining job, if there is one, is closed with the candidate (`monitoring.retrained`).
Nothing is promoted here. The inputs are checked before anything is written; should a later
step still fail, the error says what was recorded and which command finishes the work.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import select

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.auditing.state_check import prove_model
from console.errors import BadInput, NotFound, SignoffError
from console.files import input_sha256
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.monitoring.views import OPEN, RETRAINED
from console.registry.dataset_files import detect_format
from console.registry.native import NativeModel
from console.registry.onnx_models import onnx_refit_refusal
from console.registry.refs import check_model_name
from console.registry.register import RegisterRequest, register_version
from console.registry.views import ModelView, VersionView, get_model, load_version_estimator
from console.release.evidence import latest_validation
from console.release.policy import load_policy
from console.store.db import Store
from console.store.models import RetrainingJob

RETRAIN_SEED = 20_240_611
HOLDOUT_SHARE = 0.25
MIN_ROWS = 40


@dataclass(frozen=True)
class RetrainResult:
    model: str
    parent: int
    version: int
    job: int | None
    trigger: str
    data_sha256: str
    train_rows: int
    holdout_rows: int
    seeded: list[str]
    validation_run: int
    validation_status: str
    request_id: int
    stage: str
    request_needed: list[str]

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _parent(store: Store, model: ModelView, asked: int | None) -> tuple[VersionView, int | None]:
    """The version to retrain, and the open job for it (if one)."""
    with store.session() as session:
        jobs = session.exec(
            select(RetrainingJob).where(
                RetrainingJob.model == model.name, RetrainingJob.status == OPEN
            )
        ).all()
        open_jobs = {j.version: j.id for j in jobs}
    if asked is None:
        if len(open_jobs) == 1:
            asked = next(iter(open_jobs))
        else:
            policy = load_policy(store)
            held = [model.stages.get(s) for s in reversed(policy.stage_names)]
            asked = next((v for v in held if v is not None), None) or (
                model.latest.number if model.latest else None
            )
    for version in model.versions:
        if version.number == asked:
            return version, open_jobs.get(asked)
    raise NotFound(f"model {model.name!r} has no version {asked}")


def _read(path: Path) -> Any:
    import pandas as pd

    fmt = detect_format(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except Exception as exc:  # any reader failure is the file's
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise BadInput(f"cannot read {path.name} as {fmt}: {first}") from exc


def _check_frame(
    frame: Any, name: str, features: list[str], target: str, sensitive: list[str], source: str
) -> None:
    columns = [str(c) for c in frame.columns]
    missing = [c for c in [*features, target] if c not in columns]
    if missing:
        raise BadInput(
            f"{name} lacks {source}'s column(s) {', '.join(missing[:8])}; retraining needs "
            "every feature and the target"
        )
    for column in (c for c in sensitive if c not in columns):
        raise BadInput(
            f"{name} lacks the column {column!r}: {source}'s last validation checked fairness "
            "by it, and so will the candidate's (it is not a model input)"
        )
    gaps = int(frame[target].isna().sum())
    if gaps:
        raise BadInput(f"{name}: {gaps} rows have no target {target!r}; drop or fill them first")
    if len(frame) < MIN_ROWS:
        raise BadInput(f"{name} has {len(frame)} rows; retraining needs at least {MIN_ROWS}")


def _weights(frame: Any, name: str, column: str | None, used: list[str]) -> str | None:
    """The sample-weight column, checked: present, not a feature, finite and >= 0."""
    import numpy as np

    if column is None:
        return None
    if column not in frame.columns:
        raise BadInput(f"--sample-weight {column!r} is not a column of {name}")
    if column in used:
        raise BadInput(f"--sample-weight {column!r} is a feature or the target, not a weight")
    values = (
        np.asarray(frame[column].to_numpy(), dtype=np.float64) if _numeric(frame[column]) else None
    )
    if values is None or not np.isfinite(values).all() or (values < 0).any():
        raise BadInput(f"--sample-weight {column!r} must hold finite numbers >= 0 in every row")
    return column


def _numeric(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series)) and not pd.api.types.is_bool_dtype(series)


def _fit_params(estimator: Any, train: Any, weights: str | None) -> dict[str, Any]:
    """sample_weight for the estimator, routed to a pipeline's last step by its name."""
    if weights is None:
        return {}
    steps = getattr(estimator, "steps", None)
    key = f"{steps[-1][0]}__sample_weight" if steps else "sample_weight"
    return {key: train[weights].to_numpy()}


def seeded_clone(estimator: Any) -> tuple[Any, list[str]]:
    """A clone with the same hyperparameters; unseeded random_state params get RETRAIN_SEED."""
    from sklearn.base import clone

    fresh = clone(estimator)
    params = fresh.get_params(deep=True)
    unseeded = sorted(
        key
        for key, value in params.items()
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    )
    if unseeded:
        fresh.set_params(**dict.fromkeys(unseeded, RETRAIN_SEED))
    return fresh, unseeded


def _split(frame: Any, target: str, classification: bool) -> tuple[Any, Any]:
    from sklearn.model_selection import train_test_split

    counts = frame[target].value_counts()
    stratify = frame[target] if classification and int(counts.min()) >= 2 else None
    train, holdout = train_test_split(
        frame, test_size=HOLDOUT_SHARE, random_state=RETRAIN_SEED, stratify=stratify
    )
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


def retrain(
    store: Store,
    signer: Signer,
    model: str,
    data: Path,
    *,
    from_version: int | None = None,
    holdout: Path | None = None,
    comment: str | None = None,
    sample_weight: str | None = None,
) -> RetrainResult:
    """Refit, register with lineage, validate and request the first stage; never promote."""
    import skops.io as sio

    from console.release.requests import request_promotion
    from console.validation.service import run_validation

    check_model_name(model)
    check_text("the comment", comment or "", multiline=True)
    data = Path(data)
    view = get_model(store, model)
    if not view.versions:
        raise NotFound(f"model {model!r} has no versions to retrain")
    with store.session() as session:
        require_actor(session, signer, Permission.RETRAIN)  # refuse before any heavy work
        prove_model(session, model)  # the serving version, its runs and the open job
    parent, job_id = _parent(store, view, from_version)
    source = f"{model}:{parent.number}"
    if parent.framework == "onnx":
        raise BadInput(onnx_refit_refusal(source))
    features = [str(c["name"]) for c in parent.input_schema]
    target = parent.target
    last = latest_validation(store, model, parent.number)
    from console.validation.dataset import sensitive_columns

    sensitive = sensitive_columns(last.sensitive) if last is not None else []
    policy = load_policy(store)
    first_stage = policy.stage_names[0]

    data_digest = input_sha256(data)
    frame = _read(data)
    _check_frame(frame, data.name, features, target, [] if holdout else sensitive, source)
    weights = _weights(frame, data.name, sample_weight, [*features, target])
    classification = parent.task_type == "classification"
    if holdout is None:
        train, test = _split(frame, target, classification)
        split = f"seeded {int((1 - HOLDOUT_SHARE) * 100)}/{int(HOLDOUT_SHARE * 100)} split"
    else:
        holdout = Path(holdout)
        train, test = frame, _read(holdout)
        _check_frame(test, holdout.name, features, target, sensitive, source)
        split = f"holdout {holdout.name} (sha256 {input_sha256(holdout)})"
    parent_estimator = load_version_estimator(store, parent)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(parent_estimator, NativeModel):
                weight_values = train[weights].to_numpy() if weights else None
                refitted = parent_estimator.refit(
                    train[features], train[target], weight_values, RETRAIN_SEED
                )
                artifact, seeded = refitted.artifact(), [refitted.seed_param]
            else:
                estimator, seeded = seeded_clone(parent_estimator)
                estimator.fit(
                    train[features], train[target], **_fit_params(estimator, train, weights)
                )
                artifact = sio.dumps(estimator)
    except SignoffError:
        raise
    except Exception as exc:  # sklearn raises ValueError/TypeError; any failure is the data's
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise BadInput(f"refitting {source} on {data.name} failed: {first}") from exc

    trigger = f"job {job_id}" if job_id is not None else "manual"
    tags = {
        "retrain.parent": str(parent.number),
        "retrain.trigger": trigger,
        "retrain.data": data.name,
        "retrain.data_sha256": data_digest,
        "retrain.split": split,
        "retrain.seed": str(RETRAIN_SEED),
        "retrain.seeded_params": ",".join(seeded) or "none",
        "retrain.sample_weight": weights or "none",
    }
    stem = f"{model}-retrain-{data_digest[:12]}"
    with tempfile.TemporaryDirectory(prefix="signoff-retrain-") as scratch:
        train_path = Path(scratch) / f"{stem}-train.parquet"
        holdout_path = Path(scratch) / f"{stem}-holdout.parquet"
        train[[*features, target]].to_parquet(train_path, index=False)
        keep = [*features, target, *sensitive]
        test[list(dict.fromkeys(keep))].to_parquet(holdout_path, index=False)
        registered = register_version(
            store,
            signer,
            RegisterRequest(
                model=model,
                artifact=artifact,
                artifact_source=f"{model} retrained from v{parent.number}",
                train_data=train_path,
                target=target,
                parent=parent.number,
                tags=tags,
                description=(
                    f"Retrained from v{parent.number} on {data.name} ({trigger}); same "
                    "hyperparameters, seeded."
                ),
                train_data_name=train_path.name,
                # The refit is the parent's class: the types its registration named, no more.
                trust_types=tuple(parent.trusted_types),
            ),
        )
        number = registered.version
        try:
            run = run_validation(
                store, signer, model, number, holdout_path, target, sensitive=sensitive
            )
            request = request_promotion(
                store,
                signer,
                model,
                number,
                first_stage,
                comment
                or (
                    f"Retrained from v{parent.number} on {data.name} ({trigger}); "
                    f"validation {run.status}. Review before it serves."
                ),
            )
        except SignoffError as exc:
            exc.message = (
                f"{model}:{number} was registered, but {exc.message}; finish with `signoff "
                f"validate {model}:{number} ...` and `signoff request {model}:{number} --to "
                f"{first_stage}`"
            )
            raise
    if job_id is not None:
        _close_job(store, signer, job_id, number, request.id, run.id, run.status, data_digest)
    return RetrainResult(
        model=model,
        parent=parent.number,
        version=number,
        job=job_id,
        trigger=trigger,
        data_sha256=data_digest,
        train_rows=len(train),
        holdout_rows=len(test),
        seeded=seeded,
        validation_run=run.id,
        validation_status=run.status,
        request_id=request.id,
        stage=first_stage,
        request_needed=list(request.needed),
    )


def _close_job(
    store: Store,
    signer: Signer,
    job_id: int,
    version: int,
    request_id: int,
    run_id: int,
    status: str,
    data_digest: str,
) -> None:
    with store.session() as session:
        require_actor(session, signer, Permission.RETRAIN)
        job = session.get(RetrainingJob, job_id)
        if job is None or job.status != OPEN:
            return  # closed meanwhile by another retraining: the candidate stands on its own
        now = store.clock()
        event = append_event(
            session,
            signer,
            actions.MONITORING_RETRAINED,
            f"job:{job_id}",
            {
                "job": job_id,
                "model": job.model,
                "parent": job.version,
                "version": version,
                "data_sha256": data_digest,
                "validation_run": run_id,
                "validation_status": status,
                "request": request_id,
            },
            ts=now,
            model=job.model,
        )
        job.status = RETRAINED
        job.result_version = version
        job.request_id = request_id
        job.closed_at = now
        job.closed_by = signer.name
        job.closed_seq = event.seq
        session.add(job)
