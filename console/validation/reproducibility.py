"""Reloads the artifact and checks its predictions are bit-identical; records the environment.

The environment (Python, platform, package versions) lets a later run tell a changed result from
a changed machine.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any

import pandas as pd

from console.registry.views import VersionView, load_version_estimator
from console.store.db import Store
from console.validation.checks import FAIL, PASS, Check
from console.validation.prediction import Predictions, predict
from console.validation.run_details import ReproducibilityRecord

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


def reproducibility_check(
    store: Store,
    version: VersionView,
    frame: pd.DataFrame,
    features: list[str],
    first: Predictions,
    data_name: str,
) -> Check:
    """reproducibility.predictions: a second load from the store predicts the same bytes."""
    source = f"{version.model}:{version.number}"
    estimator: Any = load_version_estimator(store, version)  # digest verified again
    second = predict(estimator, frame, features, source=source, data_name=data_name)
    a, b = first.digest(), second.digest()
    same = a == b
    detail = ReproducibilityRecord(
        artifact_sha256=version.artifact_sha256,
        loads=2,
        first=a,
        second=b,
        environment=environment(),
        note=(
            f"identical predictions, sha256 {a.predictions_sha256[:16]}…"
            if same
            else "two loads of the same artifact predicted differently"
        ),
    )
    return Check(
        "reproducibility.predictions", "reproducibility", PASS if same else FAIL, None, None, detail
    )
