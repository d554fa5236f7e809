"""Reloads the artifact and checks its predictions are bit-identical; records the environment.

Both loads predict the same rows: the whole file up to SAMPLE_ROWS rows, else SAMPLE_ROWS rows
evenly spaced through it (first and last included), the same rows on every run of the file.
A second load that decodes the artifact differently changes every prediction, so a sample
proves what the whole file would, at a cost that does not grow with the file.

The environment (Python, platform, package versions) lets a later run tell a changed result from
a changed machine.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from console.registry.views import VersionView, load_version_estimator
from console.store.db import Store
from console.validation.checks import FAIL, PASS, Check
from console.validation.prediction import Predictions, predict
from console.validation.run_details import ReproducibilityRecord

SAMPLE_ROWS = 10_000
PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy", "skops", "duckdb", "pyarrow", "joblib")


def environment() -> dict[str, object]:
    """Python, platform and the versions of the packages that shape predictions and checks."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": versions,
    }


def sample_rows(rows: int) -> np.ndarray | None:
    """The positions both loads predict: None for all rows, else SAMPLE_ROWS evenly spaced."""
    if rows <= SAMPLE_ROWS:
        return None
    return np.linspace(0, rows - 1, SAMPLE_ROWS).round().astype(np.intp)


def reproducibility_check(
    store: Store,
    version: VersionView,
    frame: pd.DataFrame,
    features: list[str],
    first: Predictions,
    data_name: str,
    estimator: Any,
) -> Check:
    """reproducibility.predictions: a second load from the store predicts the same bytes as the
    run's estimator (`first` is its predictions on all of `frame`)."""
    source = f"{version.model}:{version.number}"
    reloaded: Any = load_version_estimator(store, version)  # digest verified again
    positions = sample_rows(len(frame))
    if positions is not None:
        frame = frame.iloc[positions]
        first = predict(estimator, frame, features, source=source, data_name=data_name)
    second = predict(reloaded, frame, features, source=source, data_name=data_name)
    a, b = first.digest(), second.digest()
    same = a == b
    detail = ReproducibilityRecord(
        artifact_sha256=version.artifact_sha256,
        loads=2,
        rows=len(frame),
        first=a,
        second=b,
        environment=environment(),
        note=(
            f"identical predictions on {_rows(len(frame), positions is not None)}, "
            f"sha256 {a.predictions_sha256[:16]}…"
            if same
            else "two loads of the same artifact predicted differently"
        ),
    )
    return Check(
        "reproducibility.predictions", "reproducibility", PASS if same else FAIL, None, None, detail
    )


def _rows(count: int, sampled: bool) -> str:
    return f"{count:,} evenly spaced rows" if sampled else f"all {count:,} rows"
