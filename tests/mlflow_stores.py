"""Writes MLflow 3 stores of N versions of one registered model, for the import benchmark.

The committed fixture's `tumour-xgb` v2 (tests/fixtures_data/mlflow/, written by real MLflow by
tests/make_mlflow_fixtures.py) is the template: each version gets its own run (parameters,
metric, tags, training dataset input, `train.csv` artifact) and its own logged model (`MLmodel`,
and the `model.ubj` of an XGBoost classifier trained here with its own seed and parameters, so
no two artifacts are alike), as a file store (`mlruns/`) and as a SQLite store (`mlflow.db`,
the fixture's schema with rows like its own, and `mlartifacts/`). Every field the importer
reads agrees: run ids, model ids, artifact locations, version numbers.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MODEL = "bench-xgb"
TEMPLATE = REPO / "tests" / "fixtures_data" / "mlflow"
TEMPLATE_MODEL = "tumour-xgb"
TEMPLATE_VERSION = 2
TARGET = "malignant"
BASE_MS = 1_796_500_000_000  # MLflow's millisecond timestamps, fixed so stores are alike


@dataclass(frozen=True)
class Trained:
    """One version's model and what its run logged."""

    run_id: str
    model_id: str
    params: dict[str, str]
    accuracy: float
    artifact: bytes


def _yaml() -> Any:
    import yaml

    return yaml


def _read(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = _yaml().safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_yaml().safe_dump(data, sort_keys=True), encoding="utf-8")


def _text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _hex(seed: int, salt: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"signoff-bench/{salt}/{seed}").hex


def train_models(versions: int, train_csv: Path) -> list[Trained]:
    """N small XGBoost classifiers on the fixture's training data, each seeded differently."""
    import pandas as pd
    import xgboost as xgb

    frame = pd.read_csv(train_csv)
    features = [c for c in frame.columns if c != TARGET]
    trained = []
    with tempfile.TemporaryDirectory(prefix="signoff-bench-xgb-") as tmp:
        for i in range(1, versions + 1):
            params = {"max_depth": 2 + i % 3, "n_estimators": 10 + i % 7, "seed": i}
            model = xgb.XGBClassifier(
                max_depth=params["max_depth"],
                n_estimators=params["n_estimators"],
                subsample=0.8,
                colsample_bytree=0.8,
                random_state=i,
                n_jobs=1,
            )
            model.fit(frame[features], frame[TARGET])
            path = Path(tmp) / f"model-{i}.ubj"
            model.save_model(path)
            trained.append(
                Trained(
                    run_id=_hex(i, "run"),
                    model_id=f"m-{_hex(i, 'model')}",
                    params={k: str(v) for k, v in params.items()},
                    accuracy=float(model.score(frame[features], frame[TARGET])),
                    artifact=path.read_bytes(),
                )
            )
    if len({t.artifact for t in trained}) != len(trained):
        raise RuntimeError("two synthesized models came out identical")
    return trained


@dataclass(frozen=True)
class Template:
    """The fixture's tumour-xgb v2 in the file store: its folders and metadata."""

    experiment_id: str
    run: Path
    logged_model: Path
    version_meta: dict[str, Any]
    train_csv: Path

    @classmethod
    def read(cls) -> Template:
        mlruns = TEMPLATE / "mlruns"
        meta = _read(
            mlruns / "models" / TEMPLATE_MODEL / f"version-{TEMPLATE_VERSION}" / "meta.yaml"
        )
        run = next(mlruns.glob(f"*/{meta['run_id']}"))
        return cls(
            experiment_id=run.parent.name,
            run=run,
            logged_model=run.parent / "models" / str(meta["model_id"]),
            version_meta=meta,
            train_csv=run / "artifacts" / "train.csv",
        )


def _write_logged_model(template: Template, folder: Path, trained: Trained) -> None:
    """`models/<model id>/artifacts/`: the MLmodel naming this version's own model file."""
    import xgboost as xgb

    artifacts = folder / "artifacts"
    for name in ("conda.yaml", "python_env.yaml", "requirements.txt"):
        _text(artifacts / name, (template.logged_model / "artifacts" / name).read_text())
    (artifacts / "model.ubj").write_bytes(trained.artifact)
    mlmodel = _read(template.logged_model / "artifacts" / "MLmodel")
    mlmodel.update(
        artifact_path=artifacts.as_uri(),
        model_id=trained.model_id,
        model_uuid=trained.model_id,
        run_id=trained.run_id,
        model_size_bytes=len(trained.artifact),
    )
    mlmodel["flavors"]["xgboost"]["xgb_version"] = xgb.__version__
    _write(artifacts / "MLmodel", mlmodel)


def write_file_store(root: Path, template: Template, models: list[Trained]) -> Path:
    """An `mlruns` file store: one experiment, one registered model, a version per model."""
    mlruns = root / "mlruns"
    experiment_id = template.experiment_id
    experiment = mlruns / experiment_id
    shutil.copytree(TEMPLATE / "mlruns" / "0", mlruns / "0")
    meta = _read(template.run.parent / "meta.yaml")
    meta["artifact_location"] = experiment.as_uri()
    _write(experiment / "meta.yaml", meta)
    link_dir = next((template.run / "inputs").iterdir())
    link = _read(link_dir / "meta.yaml")
    dataset_dir = experiment / "datasets" / str(link["source_id"])
    dataset = _read(template.run.parent / "datasets" / str(link["source_id"]) / "meta.yaml")
    first_csv = experiment / models[0].run_id / "artifacts" / "train.csv"
    dataset["source"] = json.dumps({"uri": first_csv.as_uri()})
    _write(dataset_dir / "meta.yaml", dataset)
    registered = _read(TEMPLATE / "mlruns" / "models" / TEMPLATE_MODEL / "meta.yaml")
    registered.update(name=MODEL, creation_timestamp=BASE_MS, last_updated_timestamp=BASE_MS)
    _write(mlruns / "models" / MODEL / "meta.yaml", registered)
    run_meta = _read(template.run / "meta.yaml")
    model_meta = _read(template.logged_model / "meta.yaml")
    for number, trained in enumerate(models, start=1):
        ms = BASE_MS + number * 1000
        run = experiment / trained.run_id
        (run / "artifacts").mkdir(parents=True)
        shutil.copyfile(template.train_csv, run / "artifacts" / "train.csv")
        _write(
            run / "meta.yaml",
            {
                **run_meta,
                "artifact_uri": (run / "artifacts").as_uri(),
                "run_id": trained.run_id,
                "run_name": f"xgb-{number}",
                "start_time": ms,
                "end_time": ms + 500,
            },
        )
        for key, value in trained.params.items():
            _text(run / "params" / key, value)
        _text(run / "metrics" / "train_accuracy", f"{ms + 100} {trained.accuracy} 0\n")
        for tag in (template.run / "tags").iterdir():
            _text(run / "tags" / tag.name, tag.read_text())
        _text(run / "tags" / "mlflow.runName", f"xgb-{number}")
        _write(run / "inputs" / _hex(number, "input") / "meta.yaml", link)
        _write(
            run / "outputs" / trained.model_id / "meta.yaml",
            {
                "destination_id": trained.model_id,
                "destination_type": "MODEL_OUTPUT",
                "source_id": trained.model_id,
                "source_type": "RUN_OUTPUT",
                "step": 0,
                "tags": {},
            },
        )
        logged = experiment / "models" / trained.model_id
        _write(
            logged / "meta.yaml",
            {
                **model_meta,
                "artifact_location": (logged / "artifacts").as_uri(),
                "model_id": trained.model_id,
                "source_run_id": trained.run_id,
                "creation_timestamp": ms + 200,
                "last_updated_timestamp": ms + 400,
            },
        )
        _write_logged_model(template, logged, trained)
        _text(
            logged / "tags" / "mlflow.modelVersions",
            json.dumps([{"name": MODEL, "version": number}]),
        )
        _write(
            mlruns / "models" / MODEL / f"version-{number}" / "meta.yaml",
            {
                **template.version_meta,
                "name": MODEL,
                "version": number,
                "model_id": trained.model_id,
                "run_id": trained.run_id,
                "source": f"models:/{trained.model_id}",
                "storage_location": (logged / "artifacts").as_uri(),
                "creation_timestamp": ms + 450,
                "last_updated_timestamp": ms + 450,
            },
        )
    return mlruns


# The fixture's rows the SQLite store is cleared of before the synthesized ones go in.
SQLITE_TABLES = (
    "model_version_tags", "registered_model_tags", "model_versions", "registered_models",
    "logged_model_tags", "logged_model_metrics", "logged_model_params", "logged_models",
    "input_tags", "inputs", "datasets", "tags", "latest_metrics", "metrics", "params", "runs",
)  # fmt: skip


def _row(db: sqlite3.Connection, sql: str, *args: object) -> dict[str, Any]:
    cursor = db.execute(sql, args)
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError(f"the template store has no row for {sql} {args}")
    return dict(zip(names, row, strict=True))


def _insert(db: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(row.values()))


def write_sqlite_store(root: Path, template: Template, models: list[Trained]) -> Path:
    """`mlflow.db` (the fixture's schema, its rows replaced) with `mlartifacts/` beside it."""
    out = root / "sqlite"
    artifacts = out / "mlartifacts"
    artifacts.mkdir(parents=True)
    db_path = out / "mlflow.db"
    shutil.copyfile(TEMPLATE / "sqlite" / "mlflow.db", db_path)
    with contextlib.closing(sqlite3.connect(db_path)) as db, db:
        version = _row(
            db,
            "SELECT * FROM model_versions WHERE name = ? AND version = ?",
            TEMPLATE_MODEL,
            TEMPLATE_VERSION,
        )
        run = _row(db, "SELECT * FROM runs WHERE run_uuid = ?", version["run_id"])
        registered = _row(db, "SELECT * FROM registered_models WHERE name = ?", TEMPLATE_MODEL)
        logged = _row(db, "SELECT * FROM logged_models WHERE model_id = ?", version["source"][8:])
        dataset = _row(
            db,
            "SELECT d.* FROM datasets d JOIN inputs i ON i.source_id = d.dataset_uuid "
            "WHERE i.destination_id = ? AND i.source_type = 'DATASET'",
            run["run_uuid"],
        )
        tags = db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run["run_uuid"],))
        run_tags = dict(tags.fetchall())
        for table in SQLITE_TABLES:
            db.execute(f"DELETE FROM {table}")
        db.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
            (artifacts.as_uri(), run["experiment_id"]),
        )
        experiment = run["experiment_id"]
        _insert(
            db,
            "registered_models",
            {**registered, "name": MODEL, "creation_time": BASE_MS, "last_updated_time": BASE_MS},
        )
        dataset_uuid = _hex(0, "dataset")
        first_csv = artifacts / models[0].run_id / "artifacts" / "train.csv"
        _insert(
            db,
            "datasets",
            {
                **dataset,
                "dataset_uuid": dataset_uuid,
                "dataset_source": json.dumps({"uri": first_csv.as_uri()}),
            },
        )
        for number, trained in enumerate(models, start=1):
            ms = BASE_MS + number * 1000
            run_artifacts = artifacts / trained.run_id / "artifacts"
            run_artifacts.mkdir(parents=True)
            shutil.copyfile(template.train_csv, run_artifacts / "train.csv")
            folder = artifacts / "models" / trained.model_id
            _write_logged_model(template, folder, trained)
            _insert(
                db,
                "runs",
                {
                    **run,
                    "run_uuid": trained.run_id,
                    "name": f"xgb-{number}",
                    "artifact_uri": run_artifacts.as_uri(),
                    "start_time": ms,
                    "end_time": ms + 500,
                },
            )
            for key, value in trained.params.items():
                _insert(db, "params", {"key": key, "value": value, "run_uuid": trained.run_id})
                _insert(
                    db,
                    "logged_model_params",
                    {
                        "model_id": trained.model_id,
                        "experiment_id": experiment,
                        "param_key": key,
                        "param_value": value,
                    },
                )
            metric = {"key": "train_accuracy", "value": trained.accuracy, "timestamp": ms + 100}
            metric.update(step=0, is_nan=0, run_uuid=trained.run_id)
            _insert(db, "metrics", metric)
            _insert(db, "latest_metrics", metric)
            for key, value in {**run_tags, "mlflow.runName": f"xgb-{number}"}.items():
                _insert(db, "tags", {"key": key, "value": value, "run_uuid": trained.run_id})
            link = _hex(number, "input")
            _insert(
                db,
                "inputs",
                {
                    "input_uuid": link,
                    "source_type": "DATASET",
                    "source_id": dataset_uuid,
                    "destination_type": "RUN",
                    "destination_id": trained.run_id,
                    "step": 0,
                },
            )
            _insert(
                db,
                "input_tags",
                {"input_uuid": link, "name": "mlflow.data.context", "value": "training"},
            )
            _insert(
                db,
                "inputs",
                {
                    "input_uuid": _hex(number, "output"),
                    "source_type": "RUN_OUTPUT",
                    "source_id": trained.run_id,
                    "destination_type": "MODEL_OUTPUT",
                    "destination_id": trained.model_id,
                    "step": 0,
                },
            )
            _insert(
                db,
                "logged_models",
                {
                    **logged,
                    "model_id": trained.model_id,
                    "artifact_location": (folder / "artifacts").as_uri(),
                    "source_run_id": trained.run_id,
                    "creation_timestamp_ms": ms + 200,
                    "last_updated_timestamp_ms": ms + 400,
                },
            )
            _insert(
                db,
                "logged_model_tags",
                {
                    "model_id": trained.model_id,
                    "experiment_id": experiment,
                    "tag_key": "mlflow.modelVersions",
                    "tag_value": json.dumps([{"name": MODEL, "version": number}]),
                },
            )
            _insert(
                db,
                "model_versions",
                {
                    **version,
                    "name": MODEL,
                    "version": number,
                    "creation_time": ms + 450,
                    "last_updated_time": ms + 450,
                    "source": f"models:/{trained.model_id}",
                    "run_id": trained.run_id,
                    "storage_location": (folder / "artifacts").as_uri(),
                },
            )
    return db_path
