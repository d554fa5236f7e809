"""A dataset file as DuckDB reads it: its format, its columns and their kinds, one relation.

CSV or Parquet, told apart by the file's first bytes; a CSV file is parsed with DuckDB's sniffer
and, for profiling, once into temporary Parquet that later passes read. Every refusal is one
BadInput line saying what is wrong with the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from console.analytics import connect, literal, mib, one_line, path_literal, quiet, rows
from console.errors import BadInput
from console.files import unreadable

# Cells a CSV reader should take as missing (pandas' common defaults). "NaN"/"nan" are left out on
# purpose: DuckDB reads them as a float NaN, which the profile counts as null anyway, and listing
# them makes the sniffer give up on numeric columns that also hold "inf".
_CSV_NULLS: tuple[str, ...] = ("", "NA", "N/A", "n/a", "NULL", "null", "None", "#N/A", "<NA>")

_SNIFF_BYTES = 1 << 16
_CSV_BUFFER = 4 << 20
_ROW_GROUP = 16_384
_ROW_GROUP_BYTES = 16 << 20

_NUMERIC_TYPES = frozenset(
    {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
        "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
        "FLOAT", "DOUBLE", "BIGNUM", "VARINT",
    }
)  # fmt: skip
_DATETIME_TYPES = frozenset({"DATE", "TIME", "TIME_NS", "TIME WITH TIME ZONE"})
# Compressed files DuckDB's CSV reader can open (by extension); their bytes are binary by nature.
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")

Cursor = duckdb.DuckDBPyConnection


def count_of(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


def kind_of(dtype: str) -> str:
    """How the profile treats a DuckDB type: numeric, boolean, datetime or categorical."""
    upper = dtype.upper()
    if "[" in upper or upper.startswith(("STRUCT", "MAP", "UNION")):
        return "categorical"
    if upper in _NUMERIC_TYPES or upper.startswith("DECIMAL"):
        return "numeric"
    if upper == "BOOLEAN":
        return "boolean"
    if upper in _DATETIME_TYPES or upper.startswith("TIMESTAMP"):
        return "datetime"
    return "categorical"


@contextmanager
def dataset_connection(
    con: duckdb.DuckDBPyConnection | None, temp_dir: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Our own connection, or a cursor of the caller's: its session settings stay theirs."""
    own = connect(temp_dir) if con is None else quiet(con.cursor())
    try:
        yield own
    finally:
        own.close()


def dataset_rows(con: Cursor, sql: str, path: Path, doing: str) -> list[tuple[object, ...]]:
    return rows(
        con, sql, f"{path}: {doing}", memory_hint="free memory or profile a smaller dataset"
    )


def dataset_column(con: Cursor, sql: str, path: Path, doing: str) -> Any:
    """The one column the query returns, as a numpy array; errors as `dataset_rows` gives them."""
    import numpy as np

    try:
        result = con.execute(sql).fetchnumpy()
    except duckdb.OutOfMemoryException as exc:
        raise BadInput(
            f"{path}: {doing} ran out of memory ({one_line(exc)}); "
            "free memory or profile a smaller dataset"
        ) from exc
    except duckdb.Error as exc:
        raise BadInput(f"{path}: {doing} failed: {one_line(exc)}") from exc
    except MemoryError as exc:
        raise BadInput(
            f"{path}: {doing} ran out of memory; free memory or profile a smaller dataset"
        ) from exc
    return np.asarray(next(iter(result.values())))


def relation_sql(path: Path, fmt: str, *, sample_all: bool = False) -> str:
    """The DuckDB table function that reads the file, e.g. ``read_parquet('data.parquet')``.

    CSV files are read with a header and DuckDB's dialect/type sniffing; `sample_all` makes the
    sniffer look at every row instead of a sample, for files whose types only show late.
    """
    quoted = path_literal(Path(path))
    if fmt == "parquet":
        return f"read_parquet({quoted})"
    if fmt == "csv":
        return _csv_sql(quoted, sample_all=sample_all)
    raise BadInput(f"unknown dataset format {fmt!r}; expected 'csv' or 'parquet'")


def _csv_sql(quoted: str, *, sample_all: bool = False, buffer_size: int | None = None) -> str:
    nulls = ", ".join(literal(token) for token in _CSV_NULLS)
    # skip=0: the header is the first line; never let the sniffer drop leading rows as preamble.
    options = f"header=true, auto_detect=true, skip=0, nullstr=[{nulls}]"
    if sample_all:
        options += ", sample_size=-1"
    if buffer_size is not None:
        options += f", buffer_size={buffer_size}"
    return f"read_csv({quoted}, {options})"


def _check_file(path: Path) -> bytes:
    """The first bytes of a readable, non-empty regular file, or BadInput saying what is wrong."""
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            raise BadInput(f"{path} is not a regular file; give the path of a CSV or Parquet file")
        with path.open("rb") as handle:  # a missing path or a directory: unreadable says which
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise unreadable(path, exc) from exc
    if not head:
        raise BadInput(f"dataset file {path} is empty: it has no rows")
    return head


def no_rows(path: Path) -> BadInput:
    return BadInput(
        f"dataset file {path} has no rows; a dataset needs at least one row of data "
        "(a CSV file: a header line, then rows)"
    )


def format_of(path: Path) -> str:
    """ "parquet" or "csv" by the file's first bytes, after checking it is a readable file."""
    head = _check_file(path)
    if head.startswith(b"PAR1"):
        return "parquet"
    if b"\x00" in head and not head.startswith(_COMPRESSED_MAGIC):
        raise BadInput(
            f"{path} is neither Parquet nor a UTF-8 CSV file (it holds binary data); "
            "export the dataset as CSV with a header row or as Parquet"
        )
    return "csv"


def _not_csv(path: Path, exc: duckdb.Error) -> BadInput:
    return BadInput(
        f"{path} could not be read as CSV or Parquet ({one_line(exc)}); "
        "export the dataset as CSV with a header row or as Parquet"
    )


def parquet_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    source = relation_sql(path, "parquet")
    rows = dataset_rows(con, f"SELECT count(*) FROM {source}", path, "reading it as Parquet")
    if not rows or count_of(rows[0][0]) == 0:
        raise no_rows(path)
    return _describe(con, source, path)


def _detect(
    con: duckdb.DuckDBPyConnection, path: Path, *, want_columns: bool = True
) -> tuple[str, list[tuple[str, str]]]:
    """The file's format and its (name, DuckDB type) columns, or BadInput saying what is wrong.

    Without `want_columns` the columns of a CSV file come back empty (it saves a sniff).
    """
    fmt = format_of(path)
    if fmt == "parquet":
        return fmt, parquet_columns(con, path)
    source = relation_sql(path, fmt)
    columns: list[tuple[str, str]] = []
    try:
        if want_columns:
            described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            columns = [(str(r[0]), str(r[1])) for r in described]
        rows = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT 1)").fetchall()
    except duckdb.Error as exc:
        raise _not_csv(path, exc) from exc
    if not rows or count_of(rows[0][0]) == 0:
        raise no_rows(path)
    return fmt, columns


def detect_format(path: Path) -> str:
    """ "parquet" if the file starts with the Parquet magic bytes, "csv" if DuckDB sniffs it as CSV.

    Raises BadInput if the file is missing, a directory, unreadable, has no rows, or is neither.
    """
    path = Path(path)
    with dataset_connection(None) as con:
        return _detect(con, path, want_columns=False)[0]


def _describe(con: duckdb.DuckDBPyConnection, source: str, path: Path) -> list[tuple[str, str]]:
    rows = dataset_rows(con, f"DESCRIBE SELECT * FROM {source}", path, "reading its columns")
    return [(str(row[0]), str(row[1])) for row in rows]


def column_types(path: Path) -> dict[str, str]:
    """Each column's kind ("numeric", "categorical", "boolean" or "datetime"), in file order."""
    path = Path(path)
    with dataset_connection(None) as con:
        return {name: kind_of(dtype) for name, dtype in _detect(con, path)[1]}


def materialize_csv(
    con: duckdb.DuckDBPyConnection, path: Path, temp_dir: Path
) -> tuple[str, list[tuple[str, str]]]:
    """Parse the CSV once into a temporary Parquet file; later passes read only what they need.

    This is the only pass that sniffs and parses the CSV. Returns the Parquet source and the
    columns with the types DuckDB gave them (Parquet keeps every type the CSV sniffer picks).
    """
    target = temp_dir / "dataset.parquet"
    quoted = path_literal(path)

    def copy(sample_all: bool) -> None:
        # Small read buffers (still twice DuckDB's 2 MB longest line) and small row groups keep
        # the memory this pass needs low, also for wide files, at no cost in speed.
        source = _csv_sql(quoted, sample_all=sample_all, buffer_size=_CSV_BUFFER)
        con.execute(
            f"COPY (SELECT * FROM {source}) TO {literal(str(target))} "
            f"(FORMAT parquet, COMPRESSION uncompressed, ROW_GROUP_SIZE {_ROW_GROUP}, "
            f"ROW_GROUP_SIZE_BYTES '{mib(_ROW_GROUP_BYTES)}')"
        )

    try:
        try:
            copy(sample_all=False)
        except duckdb.ConversionException as exc:
            # The types sniffed from a sample of rows do not fit a later row: sniff every row.
            try:
                copy(sample_all=True)
            except duckdb.Error:
                raise exc from None
    except duckdb.Error as exc:
        if "sniffing" in str(exc).split("\n", 1)[0]:
            raise _not_csv(path, exc) from exc
        raise BadInput(f"{path}: reading it as CSV failed: {one_line(exc)}") from exc
    source = f"read_parquet({path_literal(target)})"
    return source, _describe(con, source, path)
