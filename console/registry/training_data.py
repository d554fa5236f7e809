"""The training data a registration reads before its transaction: profile, digest, frame, columns."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.errors import BadInput
from console.registry.session_memory import ProfiledFrames, ReadData

if TYPE_CHECKING:
    import duckdb

    from console.registry.register import RegisterRequest


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _read_data(
    request: RegisterRequest,
    profiler: duckdb.DuckDBPyConnection | None,
    frames: ProfiledFrames | None,
) -> tuple[dict[str, object], str, Any]:
    """The training data's profile, its digest and the frame, from its file or Parquet bytes."""
    from console.files import input_sha256
    from console.registry.frame_profile import profile_parquet_bytes, read_table
    from console.registry.profiling import profile_dataset

    if request.train_parquet is None:
        profile = profile_dataset(request.train_data, con=profiler)
        digest = input_sha256(request.train_data)
        return profile, digest, _read_frame(request.train_data, str(profile["format"]))
    data = request.train_parquet
    digest = _sha(data)  # the digest the file of these bytes has
    known = frames.get(digest) if frames is not None else None
    if known is None:
        table = read_table(data, request.train_data)
        profile = profile_parquet_bytes(data, request.train_data, table=table, con=profiler)
        known = ReadData(profile, _read_frame(request.train_data, "parquet", data))
        if frames is not None:
            frames.put(digest, known)
    return known.profile, digest, known.frame


def _read_frame(path: Path, fmt: str, data: bytes | None = None) -> Any:
    """The data as a DataFrame: the file at `path`, or its Parquet bytes `data` if given."""
    import io

    import pandas as pd

    try:
        if data is not None:
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except Exception as exc:
        raise BadInput(f"cannot read {path} as {fmt}: {exc}") from exc


def _check_columns(
    frame: Any, names: list[str] | None, n_features: int | None, target: str, path: Path
) -> list[str]:
    columns = [str(c) for c in frame.columns]
    if target not in columns:
        raise BadInput(
            f"target column {target!r} is not in {path.name} (columns: {', '.join(columns[:12])})"
        )
    if names is None:
        features = [c for c in columns if c != target]
        if n_features is not None and len(features) != n_features:
            raise BadInput(
                f"{path.name} has {len(features)} feature columns but the estimator expects "
                f"{n_features}"
            )
        return features
    missing = [n for n in names if n not in columns]
    if missing:
        raise BadInput(
            f"{path.name} lacks the estimator's features {', '.join(missing[:8])}"
            + (" …" if len(missing) > 8 else "")
        )
    if target in names:
        raise BadInput(f"the target {target!r} is one of the estimator's input features")
    return list(names)
