"""Reads the file a version is validated on, refusing any input the checks could not use."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from console.errors import BadInput

# More groups than this is a continuous column; fairness needs it banded first (e.g. age_band).
MAX_GROUPS = 50
MISSING_GROUP = "(missing)"


@dataclass(frozen=True)
class ValidationData:
    """The rows to validate on: the columns the model, the target and the sensitive need."""

    path: Path
    name: str
    format: str
    sha256: str
    columns: list[str]  # every column of the file, in file order
    frame: pd.DataFrame  # features, target and sensitive column only

    @property
    def rows(self) -> int:
        return len(self.frame)


def count_rows(path: Path) -> int:
    """The file's data rows, counted by DuckDB (BadInput if it is not a CSV or Parquet file)."""
    from console.analytics import connect, count
    from console.registry.dataset_files import detect_format, relation_sql

    fmt = detect_format(path)
    con = connect()
    try:
        return count(con, f"SELECT count(*) FROM {relation_sql(path, fmt)}", f"reading {path}")
    finally:
        con.close()


def read_validation_data(
    path: Path,
    *,
    features: list[str],
    target: str,
    sensitive: Sequence[str],
    source: str,
    optional: tuple[str, ...] = (),
) -> ValidationData:
    """Detect the format, hash the bytes, and read the needed columns, checking each is there.

    `optional` columns (e.g. a champion's features) are read when the file has them.
    """
    from console.files import input_sha256
    from console.registry.dataset_files import detect_format

    path = Path(path)
    fmt = detect_format(path)
    digest = input_sha256(path)
    columns = _header(path, fmt)
    if target not in columns:
        raise BadInput(
            f"target column {target!r} is not in {path.name} (columns: {_listing(columns)}); "
            "pass --target with the label column"
        )
    if target in features:
        raise BadInput(f"--target {target!r} is one of {source}'s input features; name the label")
    missing = [f for f in features if f not in columns]
    if missing:
        raise BadInput(
            f"{path.name} lacks {source}'s feature columns {_listing(missing, 8)}; "
            "validate on data with every feature the model was trained on"
        )
    for column in sensitive:
        if column not in columns:
            raise BadInput(
                f"sensitive column {column!r} is not in {path.name} (columns: {_listing(columns)})"
            )
        if column == target:
            raise BadInput(f"--sensitive {column!r} is the target; name a group column")
    if len(set(sensitive)) != len(sensitive):
        raise BadInput("--sensitive names the same column twice; name each attribute once")
    extra = [c for c in optional if c in columns]
    wanted = list(dict.fromkeys([*features, target, *sensitive, *extra]))
    frame = _read(path, fmt, wanted)
    return ValidationData(path, path.name, fmt, digest, columns, frame)


def check_target(
    frame: pd.DataFrame, target: str, task: str, classes: list[Any] | None, source: str
) -> None:
    """The target has no gaps and fits the model: numeric for a regressor, known classes otherwise."""
    y = frame[target]
    gaps = int(y.isna().sum())
    if gaps:
        raise BadInput(
            f"target column {target!r} has {gaps} empty values; drop or fill those rows first"
        )
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if task == "regression":
        if not numeric:
            raise BadInput(
                f"target column {target!r} is not numeric (e.g. {_example(y)}), "
                f"but {source} is a regressor; pass the numeric label column"
            )
        return
    if classes is None:
        return
    numeric_classes = all(
        isinstance(c, int | float | np.integer | np.floating) and not isinstance(c, bool)
        for c in classes
    )
    if numeric_classes and not numeric:
        raise BadInput(
            f"target column {target!r} is not numeric (e.g. {_example(y)}), but {source} "
            f"predicts the classes {_listing([str(c) for c in classes])}; recode the target"
        )
    unknown = pd.Index(pd.unique(y))
    unknown = unknown[pd.Index(classes).get_indexer(unknown) < 0]
    if len(unknown):
        raise BadInput(
            f"target column {target!r} holds labels {source} never predicts "
            f"({_listing([str(v) for v in unknown[:5]])}); its classes are "
            f"{_listing([str(c) for c in classes])}"
        )


def sensitive_groups(frame: pd.DataFrame, sensitive: str) -> pd.Series:
    """The sensitive column as group labels (missing values form their own group)."""
    column = frame[sensitive]
    return _distinct_enough(column.astype(str).where(column.notna(), MISSING_GROUP), sensitive)


def intersection_groups(frame: pd.DataFrame, sensitive: Sequence[str]) -> pd.Series:
    """Each row's groups of every sensitive column joined (`female & <30`): the intersection."""
    labels = [
        frame[c].astype(str).where(frame[c].notna(), MISSING_GROUP).to_numpy(dtype=str)
        for c in sensitive
    ]
    joined = pd.Series(
        [" & ".join(parts) for parts in zip(*labels, strict=True)], index=frame.index
    )
    return _distinct_enough(joined, intersection_name(sensitive))


def intersection_name(sensitive: Sequence[str]) -> str:
    """How the intersection of several attributes is named in checks and reports."""
    return "&".join(sensitive)


def sensitive_columns(recorded: str | None) -> list[str]:
    """The attributes a run recorded in its `sensitive` field (comma-separated when several)."""
    return [c.strip() for c in recorded.split(",") if c.strip()] if recorded else []


def _distinct_enough(groups: pd.Series, sensitive: str) -> pd.Series:
    distinct = groups.unique()
    if len(distinct) < 2:
        only = distinct[0] if len(distinct) else "nothing"
        raise BadInput(
            f"sensitive column {sensitive!r} has a single group ({only!r}); fairness compares "
            "at least two groups, so validate on data with more than one"
        )
    if len(distinct) > MAX_GROUPS:
        raise BadInput(
            f"sensitive column {sensitive!r} has {len(distinct)} distinct values; band it into "
            f"at most {MAX_GROUPS} groups first (e.g. age into age_band)"
        )
    return groups


def _header(path: Path, fmt: str) -> list[str]:
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            return [str(name) for name in pq.read_schema(path).names]
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except Exception as exc:  # any reader failure is the file's
        raise BadInput(f"cannot read the columns of {path.name} as {fmt}: {_first(exc)}") from exc


def _read(path: Path, fmt: str, columns: list[str]) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "parquet":
                return pd.read_parquet(path, columns=columns)
            return pd.read_csv(path, usecols=columns)
    except MemoryError as exc:
        raise BadInput(f"{path.name} does not fit in memory; validate on a sample of it") from exc
    except Exception as exc:  # any reader failure is the file's
        raise BadInput(f"cannot read {path.name} as {fmt}: {_first(exc)}") from exc


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def _listing(names: list[str], limit: int = 12) -> str:
    return ", ".join(names[:limit]) + (" …" if len(names) > limit else "")


def _example(series: pd.Series) -> str:
    values = series.dropna()
    return repr(str(values.iloc[0])) if len(values) else "nothing"
