"""The estimator interface signoff's services use, over a model kept in its framework's own format.

Validation, champion/challenger, fairness, robustness, latency, monitoring and cards call
`predict`, `predict_proba` (classifiers only: `hasattr` must be false for a regressor),
`classes_` and `feature_names_in_`, as they would on a scikit-learn estimator; validation asks a
classifier for both outputs at once (`predict_scored`), so a large file is scored once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from console.errors import BadInput

CLASSIFICATION = "classification"
REGRESSION = "regression"


class NativeModel:
    """A loaded model file: what it predicts, on which features, and how to refit it."""

    framework: str = ""
    library_version: str = ""
    artifact_format: str = ""
    estimator_class: str = ""
    task_type: str = REGRESSION
    seed_param: str = "seed"  # the parameter retraining seeds
    n_features_in_: int | None = None
    _classes: NDArray[Any] | None = None
    _names: list[str] | None = None

    def feature_list(self) -> list[str] | None:
        """The feature names the file declares, in input order (None when it names none)."""
        return list(self._names) if self._names is not None else None

    @property
    def feature_names_in_(self) -> NDArray[Any]:
        if self._names is None:
            raise AttributeError("the model file names no features")
        return np.asarray(self._names, dtype=object)

    @property
    def classes_(self) -> NDArray[Any]:
        if self.task_type != CLASSIFICATION or self._classes is None:
            raise AttributeError("a regressor has no classes")
        return self._classes

    @property
    def predict_proba(self) -> Any:
        if self.task_type != CLASSIFICATION:
            raise AttributeError("a regressor has no predict_proba")
        return self._probabilities

    def predict(self, x: Any) -> NDArray[Any]:
        if self.task_type == CLASSIFICATION:
            proba = self._probabilities(x)
            return np.asarray(self.classes_[np.argmax(proba, axis=1)])
        return np.asarray(self._values(x), dtype=np.float64).reshape(-1)

    def predict_scored(self, x: Any) -> tuple[NDArray[Any], NDArray[np.float64]]:
        """A classifier's labels and class probabilities from one pass of the model over `x`:
        the labels `predict` gives (the most probable class) and what `predict_proba` gives."""
        if self.task_type != CLASSIFICATION:
            raise AttributeError("a regressor has no class probabilities")
        proba = self._probabilities(x)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)]), proba

    def params(self) -> dict[str, object]:
        """The hyperparameters the file records (JSON-ready), used again by retraining."""
        return {}

    def artifact(self) -> bytes:
        """The model in its own format, as registered."""
        raise NotImplementedError

    def refit(self, x: Any, y: Any, sample_weight: Any, seed: int) -> NativeModel:
        """A new model of the same kind fitted on (x, y) with the recorded parameters."""
        raise BadInput(f"a {self.framework} model cannot be refitted by signoff")

    def _probabilities(self, x: Any) -> NDArray[np.float64]:
        raise NotImplementedError

    def _values(self, x: Any) -> NDArray[Any]:
        raise NotImplementedError


def two_columns(positive: NDArray[Any]) -> NDArray[np.float64]:
    """Binary scores P(class 1) as the (rows, 2) matrix predict_proba returns."""
    p = np.asarray(positive, dtype=np.float64).reshape(-1)
    return np.column_stack([1.0 - p, p])


def check_labels(model: NativeModel, labels: NDArray[Any], source: str) -> None:
    """A booster's classes are 0..k-1: the training labels must be those numbers."""
    classes = model.classes_
    unknown = sorted(
        {v.item() if hasattr(v, "item") else v for v in labels} - set(classes.tolist())
    )
    if unknown:
        shown = ", ".join(repr(v) for v in unknown[:5])
        raise BadInput(
            f"{source} predicts the classes {', '.join(str(c) for c in classes.tolist())}, but "
            f"the training target has {shown}; encode the labels as 0..{len(classes) - 1}"
        )


def native_artifact(model: Any) -> bytes | None:
    """An in-memory XGBoost, LightGBM or ONNX model in its own file format (None for others)."""
    import tempfile
    from pathlib import Path

    if isinstance(model, NativeModel):
        return model.artifact()
    library = type(model).__module__.split(".")[0]
    if library == "xgboost" and hasattr(model, "save_model"):
        with tempfile.TemporaryDirectory(prefix="signoff-xgb-") as scratch:
            path = Path(scratch) / "model.json"  # the suffix picks XGBoost's JSON format
            model.save_model(path)
            return path.read_bytes()
    if library == "lightgbm":
        booster = getattr(model, "booster_", model)
        if hasattr(booster, "model_to_string"):
            return str(booster.model_to_string()).encode("utf-8")
    if library == "onnx" and hasattr(model, "SerializeToString"):
        return bytes(model.SerializeToString())
    return None
