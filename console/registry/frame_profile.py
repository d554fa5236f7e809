"""Profile Parquet bytes already in memory (the Python API's frame) without a file round trip.

`profile_dataset` reads a file; a training script's frame is written to Parquet in memory for its
digest, and profiling those bytes from a file again costs more than the 500-row frame's queries.
Here DuckDB scans the Arrow table read from the same bytes. Only where that gives the very
profile the file would (columns whose Arrow type DuckDB names as its Parquet reader does, few
enough rows for one serial scan) is it used; anything else is profiled from a scratch file
exactly as the CLI does.
"""

from __future__ import annotations

import io
import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from console.errors import BadInput
from console.registry.dataset_files import count_of, dataset_connection, dataset_rows, kind_of
from console.registry.profile_entries import _Column
from console.registry.profiling import SERIAL_ROWS, _profile_columns, profile_dataset

_VIEW = "signoff_frame"
BINS, TOP_K = 10, 50  # `profile_dataset`'s defaults, which registration profiles with
_names = itertools.count()


def _plain(arrow_type: Any) -> bool:
    """An Arrow type DuckDB maps to the same type from an Arrow scan as from a Parquet file."""
    import pyarrow as pa  # type: ignore[import-untyped]

    return bool(
        pa.types.is_integer(arrow_type)
        or pa.types.is_float32(arrow_type)
        or pa.types.is_float64(arrow_type)
        or pa.types.is_boolean(arrow_type)
        or pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
    )


def _below_in(table: Any) -> Callable[[_Column, list[float]], list[int]]:
    """How many of a column's values lie below each edge, counted in numpy on the table.

    The same count as the SQL `count_if(CAST(x AS DOUBLE) < edge)`: integers become the nearest
    double as DuckDB's cast makes them, a null (NaN here) or NaN is below no edge, -inf below all.
    Counts are whole numbers, so no rounding can tell the two ways apart.
    """
    import numpy as np

    def below(column: _Column, edges: list[float]) -> list[int]:
        values = table.column(column.name).to_numpy(zero_copy_only=False)
        doubles = np.asarray(values, dtype=np.float64)
        return [int(np.count_nonzero(doubles < edge)) for edge in edges]

    return below


def read_table(data: bytes, name: Path) -> Any:
    """The Arrow table the Parquet bytes hold, or BadInput naming the data."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        return pq.read_table(io.BytesIO(data))
    except Exception as exc:
        raise BadInput(f"cannot read {name} as parquet: {str(exc).splitlines()[0][:200]}") from exc


def profile_parquet_bytes(
    data: bytes,
    name: Path,
    *,
    table: Any | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    scratch: Path | None = None,
) -> dict[str, object]:
    """`profile_dataset` of a Parquet file holding `data`, named `name` in messages.

    `table` is `data` already read with pyarrow (read here if not given); `scratch` a directory
    for the file the fallback writes (a temporary one if not given).
    """
    table = read_table(data, name) if table is None else table
    rows = int(table.num_rows)
    if 0 < rows <= SERIAL_ROWS and all(_plain(field.type) for field in table.schema):
        return _profile_table(table, rows, name, con)
    with tempfile.TemporaryDirectory(prefix="signoff-frame-", dir=scratch) as tmp:
        path = Path(tmp) / name.name
        path.write_bytes(data)
        return profile_dataset(path, con=con)


def _profile_table(
    table: Any, rows: int, name: Path, con: duckdb.DuckDBPyConnection | None
) -> dict[str, object]:
    """The serial profile of a small Arrow table: one thread, as a one-row-group file scans."""
    view = f"{_VIEW}_{next(_names)}"
    with dataset_connection(con) as db:
        threads = count_of(
            dataset_rows(db, "SELECT current_setting('threads')", name, "settings")[0][0]
        )
        db.register(view, table)
        try:
            # A small scan gains nothing from threads; DuckDB's thread setting is the database's,
            # so it is put back however the profile ends.
            db.execute("SET threads = 1")
            described = dataset_rows(
                db, f"DESCRIBE SELECT * FROM {view}", name, "reading its columns"
            )
            columns = [_Column(str(r[0]), str(r[1]), kind_of(str(r[1]))) for r in described]
            profiles = _profile_columns(
                db, name, view, columns, rows, BINS, TOP_K, 1, below=_below_in(table)
            )
        finally:
            db.execute(f"SET threads = {max(1, threads)}")
            db.unregister(view)
    return {"format": "parquet", "row_count": rows, "columns": profiles}
