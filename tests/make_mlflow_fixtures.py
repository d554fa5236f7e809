"""Writes the MLflow 3 tracking stores `tests/test_mlflow_import.py` reads (run it with mlflow).

signoff never imports mlflow; this dev tool does, once, so that the committed stores are what
real MLflow writes. Run it in an environment with mlflow 3, scikit-learn, skops and xgboost:

    python -m venv /tmp/mlflow-env && /tmp/mlflow-env/bin/pip install 'mlflow>=3,<4' skops xgboost
    /tmp/mlflow-env/bin/python tests/make_mlflow_fixtures.py

It builds both stores in a scratch directory (so the absolute paths MLflow records point
nowhere, as they do for any store copied from another machine) and copies them to
tests/fixtures_data/mlflow/: `mlruns/` (a file store) and `sqlite/` (`mlflow.db` with its
artifact root `mlartifacts/`).

Registered models in each store:
- `tumour-lr` v1: scikit-learn LogisticRegression in skops format, with the training data
  logged as a dataset input whose source is the run's own `train.csv` artifact;
- `tumour-xgb` v1 and v2: XGBClassifier through the xgboost flavor;
- `tumour-pickle` v1 (file store only): scikit-learn in MLflow's default cloudpickle format;
- `tumour-custom` v1 (file store only): a pyfunc PythonModel, a flavor signoff cannot load.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import warnings
from pathlib import Path

OUT = Path(__file__).resolve().parent / "fixtures_data" / "mlflow"
FEATURES = ["radius", "texture", "perimeter", "area"]
TARGET = "malignant"


def _frame():  # type: ignore[no-untyped-def]
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, [0, 1, 2, 3]].copy()
    frame.columns = FEATURES
    frame[TARGET] = 1 - data.target
    return frame.round(4)


def _log_training(mlflow, frame, scratch: Path) -> None:  # type: ignore[no-untyped-def]
    """The training data as a run artifact, and as the dataset input MLflow records."""
    path = scratch / "train.csv"
    frame.to_csv(path, index=False)
    mlflow.log_artifact(str(path))
    uri = mlflow.get_artifact_uri("train.csv")
    dataset = mlflow.data.from_pandas(frame, source=uri, name="tumour-train", targets=TARGET)
    mlflow.log_input(dataset, context="training")


def _fill(mlflow, scratch: Path, *, extras: bool) -> None:  # type: ignore[no-untyped-def]
    import xgboost as xgb
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    frame = _frame()
    x, y = frame[FEATURES], frame[TARGET]
    mlflow.set_experiment("tumour")

    with mlflow.start_run(run_name="logistic"):
        model = LogisticRegression(max_iter=2000, C=0.5).fit(x, y)
        mlflow.log_params({"C": 0.5, "max_iter": 2000})
        mlflow.log_metric("train_accuracy", float(model.score(x, y)))
        mlflow.set_tag("team", "oncology")
        _log_training(mlflow, frame, scratch)
        mlflow.sklearn.log_model(
            model,
            name="model",
            serialization_format="skops",
            skops_trusted_types=[],
            signature=infer_signature(x, model.predict(x)),
            registered_model_name="tumour-lr",
        )

    for depth in (2, 3):
        with mlflow.start_run(run_name=f"xgb-depth-{depth}"):
            booster = xgb.XGBClassifier(n_estimators=15, max_depth=depth, random_state=0)
            booster.fit(x, y)
            mlflow.log_params({"max_depth": depth, "n_estimators": 15})
            mlflow.log_metric("train_accuracy", float(booster.score(x, y)))
            _log_training(mlflow, frame, scratch)
            mlflow.xgboost.log_model(
                booster,
                name="model",
                signature=infer_signature(x, booster.predict(x)),
                registered_model_name="tumour-xgb",
            )

    if not extras:
        return
    with mlflow.start_run(run_name="pickled"):
        model = LogisticRegression(max_iter=2000).fit(x, y)
        _log_training(mlflow, frame, scratch)
        mlflow.sklearn.log_model(
            model,
            name="model",
            serialization_format="cloudpickle",
            registered_model_name="tumour-pickle",
        )

    class Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input * 2

    with mlflow.start_run(run_name="custom"):
        mlflow.pyfunc.log_model(
            name="model", python_model=Doubler(), registered_model_name="tumour-custom"
        )


def main() -> None:
    import os

    # MLflow 3 keeps the file store in maintenance mode; teams still have them on disk.
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow

    warnings.simplefilter("ignore")
    print(f"mlflow {mlflow.__version__}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="mlflow-fixtures-") as tmp:
        scratch = Path(tmp)
        os.chdir(scratch)  # MLflow puts its Default experiment under the working directory
        file_store = scratch / "mlruns"
        mlflow.set_tracking_uri(file_store.as_uri())
        mlflow.set_registry_uri(file_store.as_uri())
        _fill(mlflow, scratch, extras=True)

        sqlite_dir = scratch / "sqlite"
        sqlite_dir.mkdir()
        uri = f"sqlite:///{sqlite_dir / 'mlflow.db'}"
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        from mlflow.tracking import MlflowClient

        MlflowClient(uri).create_experiment(
            "tumour", artifact_location=(sqlite_dir / "mlartifacts").as_uri()
        )
        _fill(mlflow, scratch, extras=False)

        import sqlite3

        with sqlite3.connect(sqlite_dir / "mlflow.db") as db:
            db.execute("VACUUM")
        if OUT.exists():
            shutil.rmtree(OUT)
        OUT.mkdir(parents=True)
        shutil.copytree(file_store, OUT / "mlruns")
        shutil.copytree(sqlite_dir, OUT / "sqlite")
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
