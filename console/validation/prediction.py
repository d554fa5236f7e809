"""Runs a version's estimator on a frame, turning its failures into one line a user can act on."""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from console.errors import BadInput
from console.validation.run_details import PredictionDigest


@dataclass(frozen=True)
class Predictions:
    """What the estimator said: labels or values, and class probabilities when it has them."""

    predicted: NDArray[Any]
    proba: NDArray[np.float64] | None  # (rows, classes), classifiers with predict_proba
    scores: NDArray[np.float64] | None  # decision_function, binary classifiers without proba

    def digest(self) -> PredictionDigest:
        """sha256 of each output's bytes (dtype and shape included), to compare runs exactly."""
        return PredictionDigest(
            array_sha256(self.predicted),
            array_sha256(self.proba) if self.proba is not None else None,
        )


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
            predicted, proba, scores = _outputs(estimator, x, with_proba)
    except Exception as exc:  # sklearn raises ValueError/TypeError; any failure is the input's
        raise _explain(exc, x, source, data_name) from exc
    if predicted.shape[0] != len(frame):
        raise BadInput(f"{source} returned {predicted.shape[0]} predictions for {len(frame)} rows")
    return Predictions(predicted, proba, scores)


def _outputs(
    estimator: Any, x: pd.DataFrame, with_proba: bool
) -> tuple[NDArray[Any], NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """(labels or values, probabilities, decision scores), the last two None when not asked
    for or not given."""
    if with_proba and _scores_in_one_pass(estimator):
        labels, proba = estimator.predict_scored(x)
        return np.asarray(labels), np.asarray(proba, dtype=np.float64), None
    predicted = np.asarray(estimator.predict(x))
    if with_proba and hasattr(estimator, "predict_proba"):
        return predicted, np.asarray(estimator.predict_proba(x), dtype=np.float64), None
    if with_proba and hasattr(estimator, "decision_function"):
        raw = np.asarray(estimator.decision_function(x), dtype=np.float64)
        return predicted, None, raw if raw.ndim == 1 else None
    return predicted, None, None


def _scores_in_one_pass(estimator: Any) -> bool:
    """A native classifier gives its labels and probabilities from one pass (predict_scored);
    a scikit-learn estimator's own `predict` may differ from the argmax of its probabilities
    (SVC), so it is called for each."""
    from console.registry.native import CLASSIFICATION, NativeModel

    return isinstance(estimator, NativeModel) and estimator.task_type == CLASSIFICATION


_NOT_A_NUMBER = re.compile(r"could not convert string to float: (['\"])(.*)\1", re.DOTALL)


def _explain(exc: Exception, x: pd.DataFrame, source: str, data_name: str) -> BadInput:
    """Blame the column the estimator choked on, never a bystander with missing values."""
    message = str(exc)
    found = _NOT_A_NUMBER.search(message)
    named = found.group(2) if found is not None else None
    texts = {c: _text_in_numbers(x[c], named) for c in x.columns}
    holding = {str(c): value for c, value in texts.items() if value is not None}
    if holding:
        first = next(iter(holding.values()))
        return BadInput(
            f"{source} needs numbers, and {data_name} has text in {_shown(list(holding))} "
            f"(e.g. {first!r}); fix those values and validate again"
        )
    with_nan = [str(c) for c in x.columns if x[c].isna().any()]
    if with_nan and "nan" in message.lower():
        return BadInput(
            f"{source} cannot take missing values, and {data_name} has them in "
            f"{_shown(with_nan)}; fill or drop those rows and validate again"
        )
    text = message.strip().splitlines()
    first_line = text[0][:200] if text else type(exc).__name__
    return BadInput(
        f"{source} cannot predict on {data_name} ({first_line}); check the feature columns' values"
    )


def _text_in_numbers(column: pd.Series, named: str | None) -> str | None:
    """A text value in a column of numbers (or the one the error named), else None."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    values = column.dropna().astype(str)
    if named is not None and bool((values == named).any()):
        return named
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().any() and numbers.isna().any():
        return str(values[numbers.isna()].iloc[0])
    return None


def _shown(columns: list[str]) -> str:
    return ", ".join(columns[:8]) + (" …" if len(columns) > 8 else "")
