"""`import mlflow`: registers an MLflow store's model versions with their run as lineage.

Everything is read and checked before anything is written: the versions chosen, their model
files (by the `MLmodel` flavor, then by content: signoff's own loaders and trust rules, never the
file's `skops_trusted_types`), their training data and target. Each version is then registered
through `register_version`, so its MLflow origin (run, experiment, parameters, metrics, tags,
source) is in its tags and its signed `version.registered` event. A model file already
registered under the model is skipped and said so, so running the import again adds nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import select

from audit.keys import Signer
from console.errors import BadInput, NotFound
from console.registry.estimators import describe, load_artifact
from console.registry.mlflow_store import (
    MlflowRun,
    MlflowStore,
    MlflowVersion,
    open_mlflow_store,
    read_yaml,
)
from console.registry.refs import check_model_name
from console.registry.register import RegisterRequest, register_version
from console.store.db import Store
from console.store.models import ModelVersion

if TYPE_CHECKING:
    import duckdb

# The flavors signoff loads, in the order it prefers them, and the MLmodel key naming the file.
FLAVOR_FILES = {"sklearn": "pickled_model", "xgboost": "data", "lightgbm": "data", "onnx": "data"}


@dataclass(frozen=True)
class ImportOutcome:
    mlflow_model: str
    mlflow_version: int
    model: str
    version: int | None  # None when skipped
    note: str

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class _Planned:
    found: MlflowVersion
    model: str
    artifact: bytes
    flavor: str
    train_data: Path
    target: str
    tags: dict[str, str]
    description: str


def import_mlflow(
    store: Store,
    signer: Signer,
    source: Path,
    *,
    model: str | None = None,
    version: int | None = None,
    into: str | None = None,
    artifact_root: Path | None = None,
    train_data: Path | None = None,
    target: str | None = None,
    trust_pickle: bool = False,
    trust_types: tuple[str, ...] = (),
) -> list[ImportOutcome]:
    """Import the chosen versions (all, one model's, or one version) in MLflow's order."""
    mlflow = open_mlflow_store(Path(source), artifact_root)
    chosen = _choose(mlflow, model, version)
    plans = [
        _plan(mlflow, found, into, train_data, target, trust_pickle, trust_types)
        for found in chosen
    ]
    with _batch(store) as profiler:
        return [
            _import_one(store, signer, plan, trust_pickle, trust_types, profiler) for plan in plans
        ]


@contextmanager
def _batch(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """One store connection and one DuckDB profiler for every version, each version still its
    own transaction: opening both again per version cost more than the rest of its work."""
    from console.analytics import connect

    with (
        store.reading(),
        tempfile.TemporaryDirectory(prefix="signoff-import-") as scratch,
        closing(connect(Path(scratch) / "spill")) as profiler,
    ):
        yield profiler


def _import_one(
    store: Store,
    signer: Signer,
    plan: _Planned,
    trust_pickle: bool,
    trust_types: tuple[str, ...],
    profiler: duckdb.DuckDBPyConnection,
) -> ImportOutcome:
    found = plan.found
    existing = _registered_as(store, plan.model, plan.artifact)
    if existing is not None:
        note = f"skipped: already registered as {plan.model}:{existing}"
        return ImportOutcome(found.model, found.version, plan.model, None, note)
    registered = register_version(
        store,
        signer,
        RegisterRequest(
            model=plan.model,
            artifact=plan.artifact,
            artifact_source=f"MLflow {found.model} v{found.version}",
            train_data=plan.train_data,
            target=plan.target,
            tags=plan.tags,
            trust_pickle=trust_pickle,
            trust_types=trust_types,
            description=plan.description,
        ),
        profiler=profiler,
    )
    note = f"imported ({plan.flavor}) as {plan.model}:{registered.version}"
    return ImportOutcome(found.model, found.version, plan.model, registered.version, note)


def _choose(mlflow: MlflowStore, model: str | None, version: int | None) -> list[MlflowVersion]:
    every = mlflow.versions()
    if not every:
        raise BadInput(f"the MLflow store {mlflow.path} has no registered model versions")
    names = sorted({v.model for v in every})
    if model is None and version is not None:
        raise BadInput("--version needs --model: versions are numbered per registered model")
    chosen = [v for v in every if model is None or v.model == model]
    if not chosen:
        raise NotFound(
            f"the MLflow store has no registered model {model!r} (it has {', '.join(names)})"
        )
    if version is not None:
        chosen = [v for v in chosen if v.version == version]
        if not chosen:
            raise NotFound(f"MLflow's {model!r} has no version {version}")
    return chosen


def _plan(
    mlflow: MlflowStore,
    found: MlflowVersion,
    into: str | None,
    train_data: Path | None,
    target: str | None,
    trust_pickle: bool,
    trust_types: tuple[str, ...],
) -> _Planned:
    label = f"MLflow {found.model} v{found.version}"
    name = check_model_name(into or found.model.lower().replace(" ", "-"))
    run = mlflow.run(found.run_id) if found.run_id else None
    folder = _model_folder(mlflow, found, run)
    if folder is None or not (folder / "MLmodel").is_file():
        raise BadInput(
            f"MLflow has {found.model} v{found.version}, but its model files are missing from "
            f"the store ({found.storage_location or found.source}); copy its artifacts too"
        )
    mlmodel = read_yaml(folder / "MLmodel")
    flavors = mlmodel.get("flavors") or {}
    flavor = next((f for f in FLAVOR_FILES if f in flavors), None)
    if flavor is None:
        raise BadInput(
            f"{label} has the MLflow flavor {', '.join(sorted(flavors)) or 'none'}, which "
            "signoff cannot load; it reads sklearn, xgboost, lightgbm and onnx models"
        )
    relative = str((flavors[flavor] or {}).get(FLAVOR_FILES[flavor]) or "")
    model_file = (folder / relative).resolve()
    if not relative or not model_file.is_file() or folder.resolve() not in model_file.parents:
        raise BadInput(f"{label}: the {flavor} flavor's file {relative!r} is not in {folder}")
    artifact = model_file.read_bytes()
    loaded = load_artifact(
        artifact, source=label, trust_pickle=trust_pickle, trust_types=trust_types
    )
    features = describe(loaded.estimator, label).features or _signature_inputs(mlmodel)
    data, dataset = _training_data(mlflow, run, train_data, label)
    chosen_target = target or _target(dataset, features, label)
    tags = _lineage(mlflow, found, run, flavor, dataset)
    if loaded.format == "pickle":
        tags["mlflow.trusted_pickle"] = "true"
    description = f"Imported from MLflow: {found.model} v{found.version}" + (
        f", run {run.run_id} ({run.run_name}) in experiment {run.experiment}" if run else ""
    )
    return _Planned(found, name, artifact, flavor, data, chosen_target, tags, description)


def _model_folder(mlflow: MlflowStore, found: MlflowVersion, run: MlflowRun | None) -> Path | None:
    for uri in (found.storage_location, found.source):
        if not uri:
            continue
        if uri.startswith("runs:/") and run is not None:
            _, _, rest = uri[len("runs:/") :].partition("/")
            uri = f"{run.artifact_uri.rstrip('/')}/{rest}"
        if uri.startswith(("models:/", "runs:/")):
            continue
        path = mlflow.local_path(uri)
        if path is not None and path.is_dir():
            return path
    return None


def _signature_inputs(mlmodel: dict[str, object]) -> list[str] | None:
    import json

    signature = mlmodel.get("signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("inputs"), str):
        return None
    try:
        return [str(c["name"]) for c in json.loads(signature["inputs"]) if "name" in c]
    except (ValueError, TypeError, KeyError):
        return None


def _training_data(
    mlflow: MlflowStore, run: MlflowRun | None, given: Path | None, label: str
) -> tuple[Path, object]:
    """The file given, else the run's training dataset when MLflow recorded a local file."""
    datasets = run.datasets if run is not None else []
    training = [d for d in datasets if d.context == "training"] or datasets
    if given is not None:
        return given, training[0] if training else None
    for dataset in training:
        path = mlflow.local_path(dataset.source) if dataset.source else None
        if path is not None and path.is_file():
            return path, dataset
    raise BadInput(
        f"{label}: MLflow recorded no training data file signoff can read; pass --train-data"
    )


def _target(dataset: object, features: list[str] | None, label: str) -> str:
    columns = list(getattr(dataset, "columns", []) or [])
    left = [c for c in columns if features is None or c not in features]
    if features is not None and len(left) == 1:
        return str(left[0])
    raise BadInput(f"{label}: cannot tell the target column from MLflow's records; pass --target")


def _lineage(
    mlflow: MlflowStore,
    found: MlflowVersion,
    run: MlflowRun | None,
    flavor: str,
    dataset: object,
) -> dict[str, str]:
    tags = {
        "mlflow.model": found.model,
        "mlflow.version": str(found.version),
        "mlflow.source": found.source,
        "mlflow.flavor": flavor,
        "mlflow.store": f"{mlflow.kind}:{mlflow.path.name}",
    }
    if run is None:
        return tags
    tags.update(
        {
            "mlflow.run_id": run.run_id,
            "mlflow.run_name": run.run_name,
            "mlflow.experiment": run.experiment,
        }
    )
    tags.update({f"mlflow.param.{k}": v for k, v in sorted(run.params.items())})
    tags.update({f"mlflow.metric.{k}": repr(v) for k, v in sorted(run.metrics.items())})
    tags.update({f"mlflow.tag.{k}": v for k, v in sorted(run.tags.items())})
    if dataset is not None:
        tags["mlflow.dataset"] = f"{getattr(dataset, 'name', '')}@{getattr(dataset, 'digest', '')}"
    return tags


def _registered_as(store: Store, model: str, artifact: bytes) -> int | None:
    import hashlib

    digest = hashlib.sha256(artifact).hexdigest()
    with store.session() as session:
        row = session.exec(
            select(ModelVersion.number).where(
                ModelVersion.model == model, ModelVersion.artifact_sha256 == digest
            )
        ).first()
    return int(row) if row is not None else None
