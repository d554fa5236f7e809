"""The model registry: registering models and their immutable versions with data and lineage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from audit.canonical import canonical_json
from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event, log_head
from console.errors import NotFound, Refused
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.registry.card_inheritance import (
    inherit_fields_in,
    inheritance_source_in,
    logged_card_in,
)
from console.registry.estimators import describe, load_artifact
from console.registry.native import NativeModel, check_labels
from console.registry.refs import check_model_name
from console.registry.session_memory import ModelLine, ProfiledFrames, Proven
from console.registry.training_data import _check_columns, _read_data, _sha
from console.registry.training_facts import git_commit, training_metrics
from console.registry.version_rows import append_version
from console.release.retire import refuse_retired
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.keys import next_key
from console.store.models import Dataset, ModelVersion, RegisteredModel

if TYPE_CHECKING:
    import duckdb

RISK_TIERS = ("low", "medium", "high")


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
    allow_duplicate: bool = False  # register an artifact the model already holds, recorded
    # The training data as Parquet bytes already in memory (the Python API's frame): profiled,
    # hashed and read from memory, as the file `train_data` names would be.
    train_parquet: bytes | None = None


@dataclass(frozen=True)
class Registered:
    model: str
    version: int
    artifact_sha256: str
    dataset_sha256: str
    task_type: str
    metrics: dict[str, float]
    event_seq: int


def register_version(
    store: Store,
    actor: Signer,
    request: RegisterRequest,
    *,
    profiler: duckdb.DuckDBPyConnection | None = None,
    proven: Proven | None = None,
    frames: ProfiledFrames | None = None,
) -> Registered:
    """Check everything, store the artifact, then record model, data and version in one transaction.

    `profiler` is a DuckDB connection to profile the data on (a batch's, kept between
    registrations); without one, profiling opens its own. `proven` is a session's memory of
    its last registration (see `Proven`), updated when this one commits; `frames` the
    training data it read lately (see `ProfiledFrames`).
    """
    from console.release.policy import load_policy
    from console.release.tiers import check_tier

    check_model_name(request.model)
    _check_free_text(request)
    loaded = load_artifact(
        request.artifact,
        source=request.artifact_source,
        trust_pickle=request.trust_pickle,
        trust_types=request.trust_types,
    )
    info = describe(loaded.estimator, request.artifact_source)
    profile, dataset_digest, frame = _read_data(request, profiler, frames)
    features = _check_columns(
        frame, info.features, info.n_features, request.target, request.train_data
    )
    if isinstance(loaded.estimator, NativeModel) and info.task_type == "classification":
        check_labels(loaded.estimator, frame[request.target].unique(), request.artifact_source)
    metrics = training_metrics(loaded, frame, features, request.target, info.task_type)
    columns = {c["name"]: c for c in profile["columns"]}  # type: ignore[attr-defined]
    schema = [
        {"name": f, "dtype": columns[f]["dtype"], "kind": columns[f]["kind"]} for f in features
    ]
    code_ref = git_commit(request.code_dir) if request.code_dir else None

    artifacts = ArtifactStore(store.artifacts_dir)
    with store.session() as session:
        digest = artifacts.put_bytes_in(session, request.artifact)
        same = proven is not None and proven.holds(store, log_head(session))
        if not same:
            if proven is not None:
                proven.forget()
            require_actor(session, actor, Permission.REGISTER)
        # A tier the policy in force declares (read in this transaction: no second one).
        policy = proven.policy if same and proven is not None else None
        policy = policy or load_policy(store)
        check_tier(policy, request.info.risk_tier)
        now = store.clock()
        line = proven.lines.get(request.model) if same and proven is not None else None
        if line is None:
            if session.get(RegisteredModel, request.model) is None:
                _create_model(session, actor, request, now)
                line = ModelLine(0, {}, {}) if proven is not None else None
            else:
                refuse_retired(session, request.model)
                line = _read_line(session, request.model) if same else None
        known_data = same and proven is not None and dataset_digest in proven.datasets
        if not known_data and session.get(Dataset, dataset_digest) is None:
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
                actions.DATASET_REGISTERED,
                f"dataset:{dataset_digest}",
                {
                    "sha256": dataset_digest,
                    "name": request.train_data_name or request.train_data.name,
                    "rows": int(profile["row_count"]),  # type: ignore[call-overload]
                    "profile_sha256": _sha(canonical_json(profile)),
                },
                ts=now,
            )
        if line is not None:
            duplicate_of = line.holders.get(digest)
        else:
            duplicate_of = _holder_of(session, request.model, digest)
        if duplicate_of is not None and not request.allow_duplicate:
            raise Refused(
                f"{request.model}:{duplicate_of} already holds this artifact (sha256 "
                f"{digest[:16]}…); pass --allow-duplicate to register it again"
            )
        number = line.last + 1 if line is not None else _next_version(session, request.model)
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
            framework_version=info.library_version or None,
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
        event = append_version(
            session,
            actor,
            version,
            actions.VERSION_REGISTERED,
            {
                "model": request.model,
                "version": number,
                "artifact_sha256": digest,
                "artifact_format": loaded.format,
                "trusted_pickle": loaded.format == "pickle",
                "trusted_types": list(loaded.trusted_types),
                "framework": info.framework,
                "framework_version": info.library_version or None,
                "estimator_class": info.estimator_class,
                "task_type": info.task_type,
                "train_dataset_sha256": dataset_digest,
                "target": request.target,
                "params_sha256": _sha(canonical_json(info.params)),
                "metrics": metrics,
                "parent": request.parent,
                "code_ref": code_ref,
                "tags": request.tags,
                "duplicate_of": duplicate_of,
            },
            ts=now,
        )
        if line is not None and line.card is not None and request.parent is None:
            source, fields = (line.last or None), line.card
        else:
            source = inheritance_source_in(session, request.model, number, request.parent)
            fields = {} if source is None else logged_card_in(session, request.model, source)
        inherited = inherit_fields_in(session, actor, request.model, number, source, fields, now)
        left = log_head(session) if inherited is not None else (event.seq, event.entry_hash)
    if proven is not None:  # committed: the head this session left, and what held at it
        proven.head, proven.policy = left, policy
        proven.datasets.add(dataset_digest)
        if line is not None:
            line.last, line.card = number, fields if source is not None else {}
            line.holders.setdefault(digest, number)
            proven.lines[request.model] = line
    return Registered(
        request.model, number, digest, dataset_digest, info.task_type, metrics, event.seq
    )


def _check_free_text(request: RegisterRequest) -> None:
    """Owner, descriptions, tags and the data's name reach terminals: no control characters."""
    info = request.info
    check_text("the owner", info.owner or "")
    check_text("the model description", info.description, multiline=True)
    check_text("the intended use", info.intended_use, multiline=True)
    check_text("the version description", request.description, multiline=True)
    for key, value in request.tags.items():
        check_text("a tag name", key)
        check_text(f"tag {key}", value)
    check_text("the training data's name", request.train_data_name or request.train_data.name)


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
        actions.MODEL_CREATED,
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


def _read_line(session: Session, model: str) -> ModelLine:
    """Every version of `model` (its last, the first holder of each artifact); card not read."""
    from sqlalchemy import text

    rows = session.connection().execute(
        text("SELECT number, artifact_sha256 FROM model_versions WHERE model = :model"),
        {"model": model},
    )
    holders: dict[str, int] = {}
    last = 0
    for number, digest in sorted((int(n), str(d)) for n, d in rows):
        holders.setdefault(digest, number)
        last = number
    return ModelLine(last, holders, None)


def _holder_of(session: Session, model: str, digest: str) -> int | None:
    """The first version of `model` whose artifact has this digest, if any."""
    return session.exec(
        select(ModelVersion.number)
        .where(ModelVersion.model == model, ModelVersion.artifact_sha256 == digest)
        .order_by(col(ModelVersion.number))
    ).first()


def _next_version(session: Session, model: str) -> int:
    return next_key(session, ModelVersion.number, col(ModelVersion.model) == model)
