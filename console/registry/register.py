"""The model registry: models, immutable versions with their data and lineage, and reads."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from audit.canonical import canonical_json
from audit.keys import Signer
from console.auditing.log import append_event
from console.errors import BadInput, NotFound
from console.identity.actor import require_actor
from console.registry.estimators import LoadedArtifact, describe, load_artifact
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.models import Dataset, ModelVersion, RegisteredModel, StageAssignment
from console.store.paging import Paged, name_page

MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
RISK_TIERS = ("low", "medium", "high")
REGISTER_ROLES = ("author", "admin")


def check_model_name(name: str) -> str:
    if not MODEL_NAME.fullmatch(name):
        raise BadInput(
            f"invalid model name {name!r}: use 1-64 of a-z, 0-9, '.', '_', '-', "
            "starting with a letter or digit"
        )
    return name


def parse_ref(ref: str, *, version_required: bool = False) -> tuple[str, int | None]:
    """`MODEL` or `MODEL:VERSION` (VERSION a positive integer)."""
    name, sep, version = ref.partition(":")
    check_model_name(name)
    if not sep:
        if version_required:
            raise BadInput(f"{ref!r} names no version; write MODEL:VERSION, e.g. {name}:1")
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise BadInput(f"invalid version {version!r} in {ref!r}; versions are 1, 2, 3, …")
    return name, int(version)


@dataclass(frozen=True)
class ModelInfo:
    """What registration records about a model line, used when the model is new."""

    owner: str | None = None
    description: str = ""
    risk_tier: str = "medium"
    intended_use: str = ""


@dataclass(frozen=True)
class RegisterRequest:
    model: str
    artifact: bytes
    artifact_source: str
    train_data: Path
    target: str
    code_dir: Path | None = None
    parent: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    trust_pickle: bool = False
    trust_types: tuple[str, ...] = ()
    info: ModelInfo = ModelInfo()
    description: str = ""
    train_data_name: str | None = None


@dataclass(frozen=True)
class Registered:
    model: str
    version: int
    artifact_sha256: str
    dataset_sha256: str
    task_type: str
    metrics: dict[str, float]
    event_seq: int


def register_version(store: Store, actor: Signer, request: RegisterRequest) -> Registered:
    """Check everything, store the artifact, then record model, data and version in one transaction."""
    from console.registry.profiling import file_sha256, profile_dataset

    check_model_name(request.model)
    if request.info.risk_tier not in RISK_TIERS:
        raise BadInput(f"unknown risk tier {request.info.risk_tier!r}; use {', '.join(RISK_TIERS)}")
    loaded = load_artifact(
        request.artifact,
        source=request.artifact_source,
        trust_pickle=request.trust_pickle,
        trust_types=request.trust_types,
    )
    info = describe(loaded.estimator, request.artifact_source)
    profile = profile_dataset(request.train_data)
    dataset_digest = file_sha256(request.train_data)
    frame = _read_frame(request.train_data, str(profile["format"]))
    features = _check_columns(
        frame, info.features, info.n_features, request.target, request.train_data
    )
    metrics = training_metrics(loaded, frame, features, request.target, info.task_type)
    columns = {c["name"]: c for c in profile["columns"]}  # type: ignore[attr-defined]
    schema = [
        {"name": f, "dtype": columns[f]["dtype"], "kind": columns[f]["kind"]} for f in features
    ]
    code_ref = git_commit(request.code_dir) if request.code_dir else None

    artifacts = ArtifactStore(store.artifacts_dir)
    digest, created = artifacts.put_bytes(request.artifact)
    try:
        with store.session() as session:
            require_actor(session, actor, REGISTER_ROLES)
            now = store.clock()
            model = session.get(RegisteredModel, request.model)
            if model is None:
                model = _create_model(session, actor, request, now)
            if session.get(Dataset, dataset_digest) is None:
                session.add(
                    Dataset(
                        sha256=dataset_digest,
                        name=request.train_data_name or request.train_data.name,
                        format=str(profile["format"]),
                        row_count=int(profile["row_count"]),  # type: ignore[call-overload]
                        column_count=len(columns),
                        profile=canonical_json(profile).decode(),
                        registered_at=now,
                        registered_by=actor.name,
                    )
                )
                append_event(
                    session,
                    actor,
                    "dataset.registered",
                    f"dataset:{dataset_digest}",
                    {
                        "sha256": dataset_digest,
                        "name": request.train_data_name or request.train_data.name,
                        "rows": int(profile["row_count"]),  # type: ignore[call-overload]
                        "profile_sha256": _sha(canonical_json(profile)),
                    },
                    ts=now,
                )
            number = _next_version(session, request.model)
            if (
                request.parent is not None
                and session.get(ModelVersion, (request.model, request.parent)) is None
            ):
                raise NotFound(f"parent version {request.model}:{request.parent} does not exist")
            version = ModelVersion(
                model=request.model,
                number=number,
                artifact_sha256=digest,
                artifact_format=loaded.format,
                trusted_pickle=loaded.format == "pickle",
                trusted_types=canonical_json(list(loaded.trusted_types)).decode(),
                framework=info.framework,
                estimator_class=info.estimator_class,
                task_type=info.task_type,
                input_schema=canonical_json(schema).decode(),
                params=canonical_json(info.params).decode(),
                metrics=canonical_json(metrics).decode(),
                train_dataset_sha256=dataset_digest,
                target=request.target,
                parent_number=request.parent,
                code_ref=code_ref,
                author=actor.name,
                created_at=now,
                tags=canonical_json(request.tags).decode(),
                description=request.description,
            )
            session.add(version)
            event = append_event(
                session,
                actor,
                "version.registered",
                f"{request.model}:{number}",
                {
                    "model": request.model,
                    "version": number,
                    "artifact_sha256": digest,
                    "artifact_format": loaded.format,
                    "trusted_pickle": loaded.format == "pickle",
                    "trusted_types": list(loaded.trusted_types),
                    "estimator_class": info.estimator_class,
                    "task_type": info.task_type,
                    "train_dataset_sha256": dataset_digest,
                    "target": request.target,
                    "params_sha256": _sha(canonical_json(info.params)),
                    "metrics": metrics,
                    "parent": request.parent,
                    "code_ref": code_ref,
                    "tags": request.tags,
                },
                ts=now,
                model=request.model,
            )
            return Registered(
                request.model, number, digest, dataset_digest, info.task_type, metrics, event.seq
            )
    except BaseException:
        if created:
            artifacts.remove(digest)
        raise


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _create_model(
    session: Session, actor: Signer, request: RegisterRequest, now: str
) -> RegisteredModel:
    model = RegisteredModel(
        name=request.model,
        owner=request.info.owner or actor.name,
        description=request.info.description,
        risk_tier=request.info.risk_tier,
        intended_use=request.info.intended_use,
        created_at=now,
        created_by=actor.name,
    )
    session.add(model)
    append_event(
        session,
        actor,
        "model.created",
        request.model,
        {
            "name": model.name,
            "owner": model.owner,
            "description": model.description,
            "risk_tier": model.risk_tier,
            "intended_use": model.intended_use,
        },
        ts=now,
        model=request.model,
    )
    return model


def _next_version(session: Session, model: str) -> int:
    current = session.exec(
        select(func.max(ModelVersion.number)).where(ModelVersion.model == model)
    ).one()
    return int(current or 0) + 1


def _read_frame(path: Path, fmt: str) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except Exception as exc:
        raise BadInput(f"cannot read {path} as {fmt}: {exc}") from exc


def _check_columns(
    frame: Any, names: list[str] | None, n_features: int | None, target: str, path: Path
) -> list[str]:
    columns = [str(c) for c in frame.columns]
    if target not in columns:
        raise BadInput(
            f"target column {target!r} is not in {path.name} (columns: {', '.join(columns[:12])})"
        )
    if names is None:
        features = [c for c in columns if c != target]
        if n_features is not None and len(features) != n_features:
            raise BadInput(
                f"{path.name} has {len(features)} feature columns but the estimator expects "
                f"{n_features}"
            )
        return features
    missing = [n for n in names if n not in columns]
    if missing:
        raise BadInput(
            f"{path.name} lacks the estimator's features {', '.join(missing[:8])}"
            + (" …" if len(missing) > 8 else "")
        )
    if target in names:
        raise BadInput(f"the target {target!r} is one of the estimator's input features")
    return list(names)


def training_metrics(
    loaded: LoadedArtifact, frame: Any, features: list[str], target: str, task: str
) -> dict[str, float]:
    """A few headline metrics on the training data, so versions can be compared at a glance."""
    import numpy as np
    from sklearn import metrics as skm

    x, y = frame[features], frame[target]
    try:
        predicted = loaded.estimator.predict(x)
    except Exception as exc:
        raise BadInput(
            f"the estimator cannot predict on the training data: {str(exc).splitlines()[0][:200]}"
        ) from exc
    if task == "regression":
        if not np.issubdtype(np.asarray(y).dtype, np.number):
            raise BadInput(f"target {target!r} is not numeric, but the estimator is a regressor")
        return {
            "rmse": float(np.sqrt(skm.mean_squared_error(y, predicted))),
            "mae": float(skm.mean_absolute_error(y, predicted)),
            "r2": float(skm.r2_score(y, predicted)),
        }
    result = {
        "accuracy": float(skm.accuracy_score(y, predicted)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, predicted)),
    }
    labels = np.unique(y)
    if len(labels) == 2:
        result["f1"] = float(skm.f1_score(y, predicted, pos_label=labels[1]))
        if hasattr(loaded.estimator, "predict_proba"):
            scores = loaded.estimator.predict_proba(x)[:, 1]
            result["roc_auc"] = float(skm.roc_auc_score(y, scores))
    else:
        result["f1_macro"] = float(skm.f1_score(y, predicted, average="macro"))
    return result


def git_commit(directory: Path) -> str | None:
    """The commit of a git checkout (with `+dirty` when it has changes), else None."""
    if not directory.is_dir():
        raise BadInput(f"--code-dir {directory} is not a directory")
    try:
        head = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = head.stdout.strip()
    return commit + ("+dirty" if status.stdout.strip() else "")


# ---- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionView:
    model: str
    number: int
    artifact_sha256: str
    artifact_format: str
    trusted_pickle: bool
    trusted_types: list[str]
    estimator_class: str
    task_type: str
    target: str
    input_schema: list[dict[str, str]]
    params: dict[str, object]
    metrics: dict[str, float]
    train_dataset_sha256: str
    parent: int | None
    code_ref: str | None
    author: str
    created_at: str
    tags: dict[str, str]
    stages: list[str]
    description: str

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ModelView:
    name: str
    owner: str
    description: str
    risk_tier: str
    intended_use: str
    created_at: str
    versions: list[VersionView]
    stages: dict[str, int | None]

    @property
    def latest(self) -> VersionView | None:
        return self.versions[-1] if self.versions else None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            k: getattr(self, k) for k in self.__dataclass_fields__ if k != "versions"
        }
        data["versions"] = [v.as_dict() for v in self.versions]
        return data


def _version_view(row: ModelVersion, stages: list[str]) -> VersionView:
    return VersionView(
        model=row.model,
        number=row.number,
        artifact_sha256=row.artifact_sha256,
        artifact_format=row.artifact_format,
        trusted_pickle=row.trusted_pickle,
        trusted_types=json.loads(row.trusted_types),
        estimator_class=row.estimator_class,
        task_type=row.task_type,
        target=row.target,
        input_schema=json.loads(row.input_schema),
        params=json.loads(row.params),
        metrics=json.loads(row.metrics),
        train_dataset_sha256=row.train_dataset_sha256,
        parent=row.parent_number,
        code_ref=row.code_ref,
        author=row.author,
        created_at=row.created_at,
        tags=json.loads(row.tags),
        stages=stages,
        description=row.description,
    )


def _model_view(session: Session, model: RegisteredModel) -> ModelView:
    stage_rows = session.exec(
        select(StageAssignment).where(StageAssignment.model == model.name)
    ).all()
    stages = {s.stage: s.version for s in stage_rows}
    held: dict[int, list[str]] = {}
    for stage_row in stage_rows:
        if stage_row.version is not None:
            held.setdefault(stage_row.version, []).append(stage_row.stage)
        if stage_row.canary_version is not None:
            held.setdefault(stage_row.canary_version, []).append(f"{stage_row.stage} (canary)")
    versions = session.exec(
        select(ModelVersion)
        .where(ModelVersion.model == model.name)
        .order_by(col(ModelVersion.number))
    ).all()
    return ModelView(
        name=model.name,
        owner=model.owner,
        description=model.description,
        risk_tier=model.risk_tier,
        intended_use=model.intended_use,
        created_at=model.created_at,
        versions=[_version_view(v, held.get(v.number, [])) for v in versions],
        stages=stages,
    )


@dataclass(frozen=True)
class ModelSummary:
    """One line of the registry, cheap to list for thousands of models."""

    name: str
    owner: str
    risk_tier: str
    versions: int
    stages: dict[str, int]


@dataclass(frozen=True)
class ModelPage(Paged):
    """One page of the registry in name order."""

    models: list[ModelSummary]

    def _shown(self) -> int:
        return len(self.models)


MODEL_ROWS = (
    "SELECT m.name, m.owner, m.risk_tier, "
    "(SELECT count(*) FROM model_versions v WHERE v.model = m.name) AS versions "
    "FROM models m WHERE contains(lower(m.name), :match) OR contains(lower(m.owner), :match)"
)


def model_page(
    store: Store,
    *,
    match: str = "",
    after: str | None = None,
    before: str | None = None,
    at: str | None = None,
    limit: int = 100,
) -> ModelPage:
    """A page of model summaries by keyset (names after, before or from a name), in a few
    queries whatever the registry's size; `match` keeps names or owners containing it."""
    from sqlalchemy import text

    with store.session() as session:
        connection = session.connection()
        page = name_page(
            connection, MODEL_ROWS, match, after=after, before=before, at=at, limit=limit
        )
        stages: dict[str, dict[str, int]] = {}
        if page.rows:
            for model, stage, version in connection.execute(
                text(
                    "SELECT model, stage, version FROM stages "
                    "WHERE version IS NOT NULL AND model >= :first AND model <= :last"
                ),
                {"first": page.rows[0][0], "last": page.rows[-1][0]},
            ).all():
                stages.setdefault(model, {})[stage] = int(version)
    summaries = [
        ModelSummary(name, owner, risk, int(count), stages.get(name, {}))
        for name, owner, risk, count in page.rows
    ]
    return ModelPage(page.offset, page.total, summaries)


def list_models(store: Store) -> list[ModelView]:
    with store.session() as session:
        models = session.exec(select(RegisteredModel).order_by(RegisteredModel.name)).all()
        return [_model_view(session, m) for m in models]


def get_model(store: Store, name: str) -> ModelView:
    check_model_name(name)
    with store.session() as session:
        model = session.get(RegisteredModel, name)
        if model is None:
            raise NotFound(f"no model {name!r} in this store; see `signoff models`")
        return _model_view(session, model)


def get_version(store: Store, name: str, number: int) -> VersionView:
    model = get_model(store, name)
    for version in model.versions:
        if version.number == number:
            return version
    raise NotFound(
        f"model {name!r} has no version {number}"
        + (f"; its versions are 1..{len(model.versions)}" if model.versions else "")
    )


def get_dataset(store: Store, digest: str) -> Dataset:
    with store.session() as session:
        dataset = session.get(Dataset, digest)
        if dataset is None:
            raise NotFound(f"no dataset {digest[:16]}… in this store")
        session.expunge(dataset)
        return dataset


def load_version_estimator(store: Store, version: VersionView) -> Any:
    """The version's estimator, read from the store with its digest verified."""
    data = ArtifactStore(store.artifacts_dir).read_verified(version.artifact_sha256)
    loaded = load_artifact(
        data,
        source=f"{version.model}:{version.number}",
        trust_pickle=version.trusted_pickle,
        trust_types=tuple(version.trusted_types),
    )
    return loaded.estimator
