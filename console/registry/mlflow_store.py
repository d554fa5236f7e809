"""Reads an MLflow tracking store on disk (an `mlruns` file store, or `mlflow.db` and its
artifact root) without mlflow and without a server: YAML files and `sqlite3`, read only.

Stores are copied between machines, so the absolute `file://` locations MLflow recorded often
point nowhere: a location is found again under the artifact root by its path below the
experiment's folder (`<experiment id>/<run id>/artifacts/...`, `models/<model id>/...`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from console.errors import BadInput
from console.registry import formats


@dataclass(frozen=True)
class MlflowDataset:
    name: str
    digest: str
    source: str  # the URI or path MLflow recorded
    columns: list[str]
    context: str  # "training", "validation", ...


@dataclass(frozen=True)
class MlflowRun:
    run_id: str
    run_name: str
    experiment: str
    artifact_uri: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    datasets: list[MlflowDataset] = field(default_factory=list)


@dataclass(frozen=True)
class MlflowVersion:
    model: str
    version: int
    source: str
    run_id: str | None
    storage_location: str | None
    status: str


class MlflowStore:
    """One store: its registered model versions, their runs, and where their files are."""

    kind = ""

    def __init__(self, path: Path, artifact_root: Path) -> None:
        self.path, self.artifact_root = path, artifact_root
        self._experiments: dict[str, tuple[str, str]] = {}  # id -> (name, artifact location)

    def versions(self) -> list[MlflowVersion]:
        raise NotImplementedError

    def run(self, run_id: str) -> MlflowRun | None:
        raise NotImplementedError

    def local_path(self, uri: str) -> Path | None:
        """The file or folder a recorded URI names, here; None when it is nowhere on disk."""
        parsed = urlparse(uri)
        if parsed.scheme not in ("", "file"):
            return None
        recorded = Path(unquote(parsed.path))
        if recorded.exists():
            return recorded
        for experiment_id, (_, location) in self._experiments.items():
            base = unquote(urlparse(location).path).rstrip("/")
            if base and str(recorded).startswith(base + "/"):
                relative = str(recorded)[len(base) + 1 :]
                for candidate in (
                    self.artifact_root / experiment_id / relative,
                    self.artifact_root / relative,
                ):
                    if candidate.exists():
                        return candidate
        return None


def open_mlflow_store(source: Path, artifact_root: Path | None = None) -> MlflowStore:
    """A file store directory, or a SQLite database; anything else is refused in one line."""
    if source.is_file():
        with source.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise BadInput(f"{source} is not an MLflow store (neither mlruns nor mlflow.db)")
        return SqliteStore(source, artifact_root or _sqlite_root(source))
    if source.is_dir():
        if (source / "mlflow.db").is_file():
            return open_mlflow_store(source / "mlflow.db", artifact_root)
        if not (source / "models").is_dir() and not any(source.glob("*/meta.yaml")):
            raise BadInput(
                f"{source} is not an MLflow store: no experiments (*/meta.yaml) and no "
                "registered models (models/)"
            )
        return FileStore(source, artifact_root or source)
    raise BadInput(f"{source} does not exist")


def _sqlite_root(db: Path) -> Path:
    for name in ("mlartifacts", "mlruns"):
        if (db.parent / name).is_dir():
            return db.parent / name
    return db.parent


def read_yaml(path: Path) -> dict[str, Any]:
    yaml = formats.require("yaml", "reading an MLflow store")
    try:
        # libyaml's safe loader when PyYAML has it (the same safe subset, several times faster)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadInput(f"{path} is not readable YAML ({type(exc).__name__})") from exc
    if not isinstance(loaded, dict):
        raise BadInput(f"{path} is not an MLflow metadata file")
    return loaded


class FileStore(MlflowStore):
    kind = "file"

    def __init__(self, path: Path, artifact_root: Path) -> None:
        super().__init__(path, artifact_root)
        for meta in sorted(path.glob("*/meta.yaml")):
            data = read_yaml(meta)
            if "experiment_id" in data:
                self._experiments[str(data["experiment_id"])] = (
                    str(data.get("name", "")),
                    str(data.get("artifact_location", "")),
                )

    def versions(self) -> list[MlflowVersion]:
        found = []
        for meta in sorted((self.path / "models").glob("*/version-*/meta.yaml")):
            data = read_yaml(meta)
            found.append(
                MlflowVersion(
                    model=str(data["name"]),
                    version=int(data["version"]),
                    source=str(data.get("source") or ""),
                    run_id=data.get("run_id") or None,
                    storage_location=data.get("storage_location") or None,
                    status=str(data.get("status") or ""),
                )
            )
        return found

    def run(self, run_id: str) -> MlflowRun | None:
        for experiment_id, (experiment, _) in self._experiments.items():
            folder = self.path / experiment_id / run_id
            if (folder / "meta.yaml").is_file():
                meta = read_yaml(folder / "meta.yaml")
                return MlflowRun(
                    run_id=run_id,
                    run_name=str(meta.get("run_name") or ""),
                    experiment=experiment,
                    artifact_uri=str(meta.get("artifact_uri") or ""),
                    params=_files(folder / "params"),
                    metrics={k: _last_metric(v) for k, v in _files(folder / "metrics").items()},
                    tags=_files(folder / "tags"),
                    datasets=self._datasets(experiment_id, folder),
                )
        return None

    def _datasets(self, experiment_id: str, folder: Path) -> list[MlflowDataset]:
        found = []
        for meta in sorted((folder / "inputs").glob("*/meta.yaml")):
            link = read_yaml(meta)
            if link.get("source_type") != "DATASET":
                continue
            dataset = self.path / experiment_id / "datasets" / str(link.get("source_id"))
            if (dataset / "meta.yaml").is_file():
                data = read_yaml(dataset / "meta.yaml")
                tags = link.get("tags") or {}
                found.append(_dataset(data, str(tags.get("mlflow.data.context", ""))))
        return found


def _files(folder: Path) -> dict[str, str]:
    """A file store keeps one value per file, named by its key (keys may hold '/')."""
    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8").strip()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _last_metric(text: str) -> float:
    """Metric files hold `timestamp value step` lines; the last one is the latest value."""
    lines = [line for line in text.splitlines() if line.strip()]
    return float(lines[-1].split()[1]) if lines else float("nan")


def _dataset(data: dict[str, Any], context: str) -> MlflowDataset:
    source = data.get("source") or data.get("dataset_source") or "{}"
    try:
        uri = str(json.loads(source).get("uri", "")) if isinstance(source, str) else ""
    except (ValueError, AttributeError):
        uri = ""
    schema = data.get("schema") or data.get("dataset_schema") or "{}"
    try:
        columns = [str(c["name"]) for c in json.loads(schema).get("mlflow_colspec", [])]
    except (ValueError, AttributeError, KeyError, TypeError):
        columns = []
    return MlflowDataset(
        str(data.get("name", "")), str(data.get("digest", "")), uri, columns, context
    )


class SqliteStore(MlflowStore):
    kind = "sqlite"

    def __init__(self, path: Path, artifact_root: Path) -> None:
        super().__init__(path, artifact_root)
        try:
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            rows = self._db.execute(
                "SELECT experiment_id, name, artifact_location FROM experiments"
            ).fetchall()
            self._db.execute("SELECT name, version, source FROM model_versions LIMIT 1")
        except sqlite3.Error as exc:
            raise BadInput(f"{path} is an SQLite file but not an MLflow store ({exc})") from exc
        for experiment_id, name, location in rows:
            self._experiments[str(experiment_id)] = (str(name), str(location or ""))

    def versions(self) -> list[MlflowVersion]:
        rows = self._db.execute(
            "SELECT name, version, source, run_id, storage_location, status "
            "FROM model_versions ORDER BY name, version"
        ).fetchall()
        return [
            MlflowVersion(str(n), int(v), str(s or ""), r or None, loc or None, str(st or ""))
            for n, v, s, r, loc, st in rows
        ]

    def run(self, run_id: str) -> MlflowRun | None:
        row = self._db.execute(
            "SELECT name, artifact_uri, experiment_id FROM runs WHERE run_uuid = ?", (run_id,)
        ).fetchone()
        if row is None:
            return None
        name, artifact_uri, experiment_id = row
        query = self._db.execute
        datasets = [
            _dataset(
                {"name": n, "digest": d, "dataset_source": s, "dataset_schema": sc},
                str(context or ""),
            )
            for n, d, s, sc, context in query(
                "SELECT d.name, d.digest, d.dataset_source, d.dataset_schema, "
                "(SELECT t.value FROM input_tags t WHERE t.input_uuid = i.input_uuid "
                " AND t.name = 'mlflow.data.context') "
                "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
                "WHERE i.destination_type = 'RUN' AND i.destination_id = ? "
                "AND i.source_type = 'DATASET' ORDER BY d.name",
                (run_id,),
            ).fetchall()
        ]
        return MlflowRun(
            run_id=run_id,
            run_name=str(name or ""),
            experiment=self._experiments.get(str(experiment_id), ("", ""))[0],
            artifact_uri=str(artifact_uri or ""),
            params=dict(query("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,))),
            metrics={
                str(k): float(v)
                for k, v in query(
                    "SELECT key, value FROM latest_metrics WHERE run_uuid = ?", (run_id,)
                )
            },
            tags=dict(query("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,))),
            datasets=datasets,
        )
