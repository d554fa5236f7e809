"""Read models of the registry: models, versions and datasets as the faces and services see them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from console.errors import NotFound
from console.registry.refs import check_model_name
from console.release.retire import retired_in, retirements
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.models import Dataset, ModelVersion, RegisteredModel, StageAssignment
from console.store.paging import Paged, name_page


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
    framework: str = "scikit-learn"
    framework_version: str | None = None
    retired: bool = False  # a signed version.retired or model.retired event says so

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
    retired: bool = False  # the whole model was retired (`signoff retire MODEL`)

    @property
    def latest(self) -> VersionView | None:
        return self.versions[-1] if self.versions else None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            k: getattr(self, k) for k in self.__dataclass_fields__ if k != "versions"
        }
        data["versions"] = [v.as_dict() for v in self.versions]
        return data


def _version_view(row: ModelVersion, stages: list[str], retired: bool = False) -> VersionView:
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
        framework=row.framework,
        framework_version=row.framework_version,
        retired=retired,
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
    gone = retired_in(session, model.name)
    return ModelView(
        name=model.name,
        owner=model.owner,
        description=model.description,
        risk_tier=model.risk_tier,
        intended_use=model.intended_use,
        created_at=model.created_at,
        versions=[
            _version_view(v, held.get(v.number, []), gone.covers(v.number)) for v in versions
        ],
        stages=stages,
        retired=gone.model_retired,
    )


@dataclass(frozen=True)
class ModelSummary:
    """One line of the registry, cheap to list for thousands of models."""

    name: str
    owner: str
    risk_tier: str
    versions: int
    stages: dict[str, int]
    retired: bool = False


@dataclass(frozen=True)
class ModelPage(Paged):
    """One page of the registry in name order."""

    models: list[ModelSummary]

    def _shown(self) -> int:
        return len(self.models)


MODEL_ROWS = (
    "SELECT m.name, m.owner, m.risk_tier, "
    "(SELECT count(*) FROM model_versions v WHERE v.model = m.name) AS versions "
    "FROM models m WHERE strpos(lower(m.name), :match) > 0 OR strpos(lower(m.owner), :match) > 0"
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
        gone = retirements(session, [str(row[0]) for row in page.rows])
    summaries = [
        ModelSummary(
            name,
            owner,
            risk,
            int(count),
            stages.get(name, {}),
            name in gone and gone[name].model_retired,
        )
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
    # Imported here: loading pulls in numpy, which the console's read screens never need.
    from console.registry.estimators import load_artifact

    data = ArtifactStore(store.artifacts_dir).read_verified(version.artifact_sha256)
    loaded = load_artifact(
        data,
        source=f"{version.model}:{version.number}",
        trust_pickle=version.trusted_pickle,
        trust_types=tuple(version.trusted_types),
    )
    return loaded.estimator
