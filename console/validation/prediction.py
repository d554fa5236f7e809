"""Runs a version's estimator on a frame, turning its failures into one line a user can act on."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from console.errors import BadInput


@dataclass(frozen=True)
class Predictions:
    """What the estimator said: labels or values, and class probabilities when it has them."""

    predicted: NDArray[Any]
    proba: NDArray[np.float64] | None  # (rows, classes), classifiers with predict_proba
    scores: NDArray[np.float64] | None  # decision_function, binary classifiers without proba

    def digest(self) -> dict[str, str | None]:
        """sha256 of each output's bytes (dtype and shape included), to compare runs exactly."""
        return {
            "predictions_sha256": array_sha256(self.predicted),
            "probabilities_sha256": array_sha256(self.proba) if self.proba is not None else None,
        }


def array_sha256(array: NDArray[Any]) -> str:
    data = np.ascontiguousarray(array)
    if data.dtype == object:
        data = data.astype(str)
    digest = hashlib.sha256(f"{data.dtype.str}{data.shape}".encode())
    digest.update(data.tobytes())
    return digest.hexdigest()


def predict(
    estimator: Any,
    frame: pd.DataFrame,
    features: list[str],
    *,
    source: str,
    data_name: str,
    with_proba: bool = True,
) -> Predictions:
    """The estimator's outputs on `frame[features]`; BadInput names the columns it choked on."""
    x = frame[features]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predicted = np.asarray(estimator.predict(x))
            proba = scores = None
            if with_proba and hasattr(estimator, "predict_proba"):
                proba = np.asarray(estimator.predict_proba(x), dtype=np.float64)
            elif with_proba and hasattr(estimator, "decision_function"):
                raw = np.asarray(estimator.decision_function(x), dtype=np.float64)
                scores = raw if raw.ndim == 1 else None
    except Exception as exc:  # sklearn raises ValueError/TypeError; any failure is the input's
        raise _explain(exc, x, source, data_name) from exc
    if predicted.shape[0] != len(frame):
        raise BadInput(f"{source} returned {predicted.shape[0]} predictions for {len(frame)} rows")
    return Predictions(predicted, proba, scores)


def _explain(exc: Exception, x: pd.DataFrame, source: str, data_name: str) -> BadInput:
    with_nan = [str(c) for c in x.columns if x[c].isna().any()]
    if with_nan:
        shown = ", ".join(with_nan[:8]) + (" …" if len(with_nan) > 8 else "")
        return BadInput(
            f"{source} cannot take missing values, and {data_name} has them in {shown}; "
            "fill or drop those rows and validate again"
        )
    text = str(exc).strip().splitlines()
    first = text[0][:200] if text else type(exc).__name__
    return BadInput(
        f"{source} cannot predict on {data_name} ({first}); check the feature columns' values"
    )
