"""Read models of the registry: models, versions and datasets as the faces and services see them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.errors import NotFound
from console.registry.refs import check_model_name
from console.release.retired import Retirements, retirements_in
from console.store.paging import Paged
from console.store.rows import Row, Rows

if TYPE_CHECKING:  # the ORM is imported by the functions given a Store; a read command passes Rows
    from console.store.db import Store
    from console.store.models import Dataset


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


# The columns a VersionView is built from, in its fields' order.
VERSION_COLUMNS = (
    "model, number, artifact_sha256, artifact_format, trusted_pickle, trusted_types, "
    "estimator_class, task_type, target, input_schema, params, metrics, train_dataset_sha256, "
    "parent_number, code_ref, author, created_at, tags"
)
VERSION_EXTRA_COLUMNS = "description, framework, framework_version"
MODEL_COLUMNS = "name, owner, description, risk_tier, intended_use, created_at"


def _version_view(row: Row, stages: list[str], retired: bool = False) -> VersionView:
    (
        model,
        number,
        artifact_sha256,
        artifact_format,
        trusted_pickle,
        trusted_types,
        estimator_class,
        task_type,
        target,
        input_schema,
        params,
        metrics,
        train_dataset_sha256,
        parent,
        code_ref,
        author,
        created_at,
        tags,
        description,
        framework,
        framework_version,
    ) = row
    return VersionView(
        model=model,
        number=int(number),
        artifact_sha256=artifact_sha256,
        artifact_format=artifact_format,
        trusted_pickle=bool(trusted_pickle),
        trusted_types=json.loads(trusted_types),
        estimator_class=estimator_class,
        task_type=task_type,
        target=target,
        input_schema=json.loads(input_schema),
        params=json.loads(params),
        metrics=json.loads(metrics),
        train_dataset_sha256=train_dataset_sha256,
        parent=parent,
        code_ref=code_ref,
        author=author,
        created_at=created_at,
        tags=json.loads(tags),
        stages=stages,
        description=description,
        framework=framework,
        framework_version=framework_version,
        retired=retired,
    )


def _model_views(rows: Rows, models: list[Row], gone: dict[str, Retirements]) -> list[ModelView]:
    """The views of one model or of every model (rows of MODEL_COLUMNS), in two more queries
    however many there are (no list of names as parameters: a registry may hold 100,000)."""
    if not models:
        return []
    names = [str(m[0]) for m in models]
    where, params = ("WHERE model = :model", {"model": names[0]}) if len(names) == 1 else ("", {})
    # In the order the stages were reached, not the rows' storage order, which differs between
    # backends (PostgreSQL moves an updated row): a version's "dev, staging" reads the same on both.
    stage_rows = rows.all(
        f"SELECT model, stage, version, canary_version FROM stages {where} "
        "ORDER BY updated_at, stage",
        params,
    )
    version_rows = rows.all(
        f"SELECT {VERSION_COLUMNS}, {VERSION_EXTRA_COLUMNS} FROM model_versions {where} "
        "ORDER BY model, number",
        params,
    )
    stages: dict[str, dict[str, int | None]] = {name: {} for name in names}
    held: dict[tuple[str, int], list[str]] = {}
    for model, stage, version, canary in stage_rows:
        if model not in stages:
            continue
        stages[model][stage] = version
        if version is not None:
            held.setdefault((model, version), []).append(stage)
        if canary is not None:
            held.setdefault((model, canary), []).append(f"{stage} (canary)")
    versions: dict[str, list[VersionView]] = {name: [] for name in names}
    for row in version_rows:
        model, number = row[0], int(row[1])
        if model not in versions:
            continue
        state = gone.get(model, Retirements())
        versions[model].append(
            _version_view(row, held.get((model, number), []), state.covers(number))
        )
    return [
        ModelView(
            name=name,
            owner=owner,
            description=description,
            risk_tier=risk_tier,
            intended_use=intended_use,
            created_at=created_at,
            versions=versions[name],
            stages=stages[name],
            retired=gone.get(name, Retirements()).model_retired,
        )
        for name, owner, description, risk_tier, intended_use, created_at in models
    ]


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

    from console.release.retire import retirements
    from console.store.paging import name_page

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


def read_models(rows: Rows) -> list[ModelView]:
    """Every model with its versions and stages, by name."""
    models = rows.all(f"SELECT {MODEL_COLUMNS} FROM models ORDER BY name")
    return _model_views(rows, models, retirements_in(rows))


def read_model(rows: Rows, name: str) -> ModelView:
    check_model_name(name)
    models = rows.all(f"SELECT {MODEL_COLUMNS} FROM models WHERE name = :name", {"name": name})
    if not models:
        raise NotFound(f"no model {name!r} in this store; see `signoff models`")
    return _model_views(rows, models, retirements_in(rows, [name]))[0]


def read_version(rows: Rows, name: str, number: int) -> VersionView:
    return _version_of(read_model(rows, name), number)


def _version_of(model: ModelView, number: int) -> VersionView:
    for version in model.versions:
        if version.number == number:
            return version
    raise NotFound(
        f"model {model.name!r} has no version {number}"
        + (f"; its versions are 1..{len(model.versions)}" if model.versions else "")
    )


def list_models(store: Store) -> list[ModelView]:
    from console.store.rows import SessionRows

    with store.session() as session:
        return read_models(SessionRows(session.connection()))


def get_model(store: Store, name: str) -> ModelView:
    from console.store.rows import SessionRows

    check_model_name(name)
    with store.session() as session:
        return read_model(SessionRows(session.connection()), name)


def get_version(store: Store, name: str, number: int) -> VersionView:
    return _version_of(get_model(store, name), number)


def get_dataset(store: Store, digest: str) -> Dataset:
    from console.store.models import Dataset

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
    from console.store.artifacts import ArtifactStore

    data = ArtifactStore(store.artifacts_dir).read_verified(version.artifact_sha256)
    loaded = load_artifact(
        data,
        source=f"{version.model}:{version.number}",
        trust_pickle=version.trusted_pickle,
        trust_types=tuple(version.trusted_types),
    )
    return loaded.estimator
