"""Profile a training dataset in DuckDB SQL: the reference that later drift checks compare to."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from console.analytics import (
    MEMORY_LIMIT_BYTES,
    double,
    mib,
    quiet,
)
from console.errors import BadInput
from console.registry.dataset_files import (
    Cursor,
    count_of,
    dataset_connection,
    dataset_rows,
    format_of,
    kind_of,
    materialize_csv,
    no_rows,
    parquet_columns,
    relation_sql,
)
from console.registry.profile_entries import (
    QUANTILES,
    _base_entry,
    _Column,
    _counted_entry,
    _levels,
    _numeric_entry,
    _set_counts,
    _sorted_column_task,
)

__all__ = ["QUANTILES", "profile_dataset"]


# Memory DuckDB may use on a connection this module opens while it parses and counts; it spills to a
# temporary directory beyond that. Exact quantiles must hold a whole numeric column, in buffers that
# grow by doubling (about 24 bytes a row at peak), so the limit is raised for that phase to what the
# columns computed at once need, within half the machine's memory.
BASE_MEMORY_BYTES = MEMORY_LIMIT_BYTES
_QUANTILE_BYTES_PER_ROW = 24
_HISTOGRAM_TERMS = 256
# Numeric columns whose moments (mean, std) one scan computes when the columns are sorted in numpy.
_MOMENTS_COLUMNS = 64
# Up to this many rows the dataset is profiled on one cursor, without a thread pool, and the
# numeric columns' statistics in one query (their quantile buffers are small together).
SERIAL_ROWS = 50_000

T = TypeVar("T")


# --------------------------------------------------------------------------------------------------
# Small helpers


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - non-POSIX systems
        return 4 << 30


def _quantile_plan(row_count: int, threads: int) -> tuple[int, int]:
    """How many columns to compute at once, and the memory limit that needs (bytes)."""
    need = max(1, row_count * _QUANTILE_BYTES_PER_ROW)
    budget = max(BASE_MEMORY_BYTES, _physical_memory() // 2)
    workers = max(1, min(threads, (budget - BASE_MEMORY_BYTES) // need))
    return workers, min(budget, BASE_MEMORY_BYTES + workers * need)


# --------------------------------------------------------------------------------------------------
# Profiling


def _moments_task(
    columns: Sequence[_Column], source: str, path: Path
) -> Callable[[Cursor], list[tuple[object, ...]]]:
    """Mean and sample standard deviation of the finite values of each column, in one scan."""
    terms = []
    for column in columns:
        x = f"CAST({column.ident} AS DOUBLE)"
        v = f"CASE WHEN isfinite({x}) THEN {x} END"
        terms.append(f"avg({v}), stddev_samp({v})")
    sql = f"SELECT {', '.join(terms)} FROM {source}"

    def run(cursor: Cursor) -> list[tuple[object, ...]]:
        row = dataset_rows(cursor, sql, path, "profiling the numeric columns")[0]
        return [tuple(row[2 * i : 2 * i + 2]) for i in range(len(columns))]

    return run


def _numeric_stats_sql(column: _Column, source: str, levels: Sequence[float]) -> str:
    x = f"CAST({column.ident} AS DOUBLE)"
    level_list = "[" + ", ".join(repr(level) for level in levels) + "]"
    return (
        "SELECT count(x), count_if(isnan(x)), count(v), min(v), max(v), avg(v), stddev_samp(v), "
        f"quantile_cont(v, {level_list}) "
        f"FROM (SELECT {x} AS x, CASE WHEN isfinite({x}) THEN {x} END AS v FROM {source})"
    )


def _numeric_stats_many_sql(
    columns: Sequence[_Column], source: str, levels: Sequence[float]
) -> str:
    """`_numeric_stats_sql` of several columns in one scan: the same aggregates side by side."""
    level_list = "[" + ", ".join(repr(level) for level in levels) + "]"
    inner, outer = [], []
    for i, column in enumerate(columns):
        x = f"CAST({column.ident} AS DOUBLE)"
        inner.append(f"{x} AS x{i}, CASE WHEN isfinite({x}) THEN {x} END AS v{i}")
        outer.append(
            f"count(x{i}), count_if(isnan(x{i})), count(v{i}), min(v{i}), max(v{i}), avg(v{i}), "
            f"stddev_samp(v{i}), quantile_cont(v{i}, {level_list})"
        )
    return f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {source})"


def _split_stats(rows: list[tuple[object, ...]], count: int) -> list[tuple[object, ...]]:
    """The one row of `_numeric_stats_many_sql` as one 8-value row per column."""
    row = rows[0]
    return [tuple(row[8 * i : 8 * i + 8]) for i in range(count)]


def _categorical_sql(column: _Column, source: str, top_k: int) -> str:
    ident = column.ident
    return (
        "SELECT value, n, count(*) OVER () AS distinct_values, sum(n) OVER () AS non_null FROM ("
        f"SELECT CAST({ident} AS VARCHAR) AS value, count(*) AS n FROM {source} "
        f"WHERE {ident} IS NOT NULL GROUP BY ALL"
        f") ORDER BY n DESC, value ASC LIMIT {max(top_k, 1)}"
    )


def _run_parallel(
    con: duckdb.DuckDBPyConnection,
    tasks: Sequence[Callable[[duckdb.DuckDBPyConnection], T]],
    workers: int,
) -> list[T]:
    """Run each task on its own cursor of `con`, a few at a time; results in task order.

    With one worker they run one after another on `con` itself (a new cursor costs a
    connection and its settings, more than a small dataset's query).
    """
    if workers <= 1 or len(tasks) <= 1:
        return [task(con) for task in tasks]

    def run(task: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        cursor = quiet(con.cursor())
        try:
            return task(cursor)
        finally:
            cursor.close()

    with ThreadPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
        return list(pool.map(run, tasks))


def profile_dataset(
    path: Path,
    *,
    bins: int = 10,
    top_k: int = 50,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, object]:
    """The dataset's reference profile, computed in DuckDB straight from the file; JSON-ready.

    Numeric columns get min/max/mean/std (sample), named quantiles and an equal-frequency histogram
    whose edges are min, the 1/bins..(bins-1)/bins quantiles and max, with duplicates removed; bin i
    counts values in [edge_i, edge_i+1), the last bin is closed. NaN counts as null; +-infinity is
    counted in "infinite_count" and left out of the statistics and histogram, so the histogram
    counts sum to row_count - null_count - infinite_count. Categorical and boolean columns get their
    distinct count, the top_k most frequent values (ties broken by value) and the rest as
    "other_count". Datetime columns get min and max as ISO text.
    """
    path = Path(path)
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise BadInput(f"bins must be a positive whole number, not {bins!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise BadInput(f"top_k must be zero or a positive whole number, not {top_k!r}")
    with (
        tempfile.TemporaryDirectory(prefix="signoff-profile-") as tmp,
        dataset_connection(con, Path(tmp)) as db,
    ):
        fmt = format_of(path)
        if fmt == "csv":
            source, described = materialize_csv(db, path, Path(tmp))
        else:
            source, described = relation_sql(path, fmt), parquet_columns(db, path)
        columns = [_Column(name, dtype, kind_of(dtype)) for name, dtype in described]
        row_count = count_of(
            dataset_rows(db, f"SELECT count(*) FROM {source}", path, "counting rows")[0][0]
        )
        if row_count == 0:
            raise no_rows(path)
        sort_numeric = False
        if row_count <= SERIAL_ROWS:
            workers = 1  # a thread pool costs more than scanning a small dataset
        else:
            threads = count_of(
                dataset_rows(db, "SELECT current_setting('threads')", path, "settings")[0][0]
            )
            workers, memory = _quantile_plan(row_count, max(1, threads))
            if con is None:
                dataset_rows(
                    db,
                    f"SET memory_limit = '{mib(memory)}'",
                    path,
                    "setting DuckDB's memory limit",
                )
            else:
                workers = max(1, threads)
            # Sorting a column in numpy needs its rows fetched (8 bytes each) and held (8 more):
            # where the plan has room for a DuckDB quantile per worker; beyond it, DuckDB's own
            # quantile_cont runs, within its memory limit and spilling.
            sort_numeric = (
                workers * row_count * _QUANTILE_BYTES_PER_ROW <= memory - BASE_MEMORY_BYTES
            )
        profiles = _profile_columns(
            db, path, source, columns, row_count, bins, top_k, workers, sort_numeric=sort_numeric
        )
    return {"format": fmt, "row_count": row_count, "columns": profiles}


def _profile_columns(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source: str,
    columns: Sequence[_Column],
    row_count: int,
    bins: int,
    top_k: int,
    workers: int,
    below: Callable[[_Column, list[float]], list[int]] | None = None,
    sort_numeric: bool = False,
) -> list[dict[str, object]]:
    """Each column's profile; `below(column, edges)`, if given, counts the values under each edge
    (as `_fill_histograms` does in SQL) for data the caller holds in memory. With `sort_numeric`
    each numeric column is fetched and sorted in numpy, one per worker at a time, instead."""
    levels = _levels(bins)
    numeric = [c for c in columns if c.kind == "numeric"]
    counted = [c for c in columns if c.kind in ("categorical", "boolean")]
    dated = [c for c in columns if c.kind == "datetime"]

    Rows = list[tuple[object, ...]]

    def task(sql: str, doing: str) -> Callable[[duckdb.DuckDBPyConnection], Rows]:
        return lambda cursor: dataset_rows(cursor, sql, path, doing)

    sorted_counts: dict[str, list[int]] = {}
    if sort_numeric:
        moments = [
            _moments_task(numeric[i : i + _MOMENTS_COLUMNS], source, path)
            for i in range(0, len(numeric), _MOMENTS_COLUMNS)
        ]
        numeric_tasks: list[Callable[[Cursor], object]] = [
            *moments,
            *(_sorted_column_task(c, source, path, levels, bins) for c in numeric),
        ]
    elif row_count <= SERIAL_ROWS and len(numeric) > 1:
        stats_sql = _numeric_stats_many_sql(numeric, source, levels)
        together = task(stats_sql, "profiling the numeric columns")
        numeric_tasks = [lambda cursor: _split_stats(together(cursor), len(numeric))]
    else:
        numeric_tasks = [
            task(_numeric_stats_sql(c, source, levels), f"profiling column {c.name!r}")
            for c in numeric
        ]
    tasks = [*numeric_tasks] + [
        task(_categorical_sql(c, source, top_k), f"counting values of {c.name!r}") for c in counted
    ]
    if dated:
        dated_sql = ", ".join(
            f"count({c.ident}), CAST(min({c.ident}) AS VARCHAR), CAST(max({c.ident}) AS VARCHAR)"
            for c in dated
        )
        tasks.append(task(f"SELECT {dated_sql} FROM {source}", "profiling datetime columns"))
    results: list[Any] = _run_parallel(con, tasks, workers=workers)
    if sort_numeric:
        means = [pair for batch in results[: len(moments)] for pair in batch]
        stats_rows = []
        for column, pair, found in zip(numeric, means, results[len(moments) :], strict=False):
            total, nans, finite, low, high, quantiles, counts = found
            stats_rows.append([(total, nans, finite, low, high, *pair, quantiles)])
            sorted_counts[column.name] = counts
        results = stats_rows + results[len(numeric_tasks) :]
    elif len(numeric_tasks) == 1 and len(numeric) > 1:
        results = [[row] for row in results[0]] + results[1:]

    out: dict[str, dict[str, object]] = {}
    histogram_parts: list[tuple[_Column, list[float], int]] = []
    for column, stats in zip(numeric, results[: len(numeric)], strict=True):
        entry, edges = _numeric_entry(column, stats[0], row_count, levels, bins)
        out[column.name] = entry
        if len(edges) > 1:
            histogram_parts.append((column, edges, count_of(stats[0][2])))
    for column, values in zip(
        counted, results[len(numeric) : len(numeric) + len(counted)], strict=True
    ):
        out[column.name] = _counted_entry(column, values, row_count, top_k)
    if dated:
        row = results[-1][0]
        for i, column in enumerate(dated):
            non_null = count_of(row[3 * i])
            out[column.name] = _base_entry(column, row_count - non_null, row_count) | {
                "min": None if row[3 * i + 1] is None else str(row[3 * i + 1]),
                "max": None if row[3 * i + 2] is None else str(row[3 * i + 2]),
            }
    if sort_numeric:
        for column, _, finite_count in histogram_parts:
            _set_counts(out, column, sorted_counts[column.name], finite_count)
    elif below is None:
        _fill_histograms(con, path, source, histogram_parts, out, workers)
    else:
        for column, edges, finite_count in histogram_parts:
            _set_counts(out, column, below(column, edges[:-1]), finite_count)
    return [out[c.name] for c in columns]


def _fill_histograms(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source: str,
    parts: Sequence[tuple[_Column, list[float], int]],
    out: dict[str, dict[str, object]],
    workers: int,
) -> None:
    """Count the numeric columns' bins as differences of "values below edge" counts.

    One scan counts many columns at once; very wide files take a few scans, so that no single
    query evaluates more than a few hundred aggregates.
    """
    batches: list[list[tuple[_Column, list[float], int]]] = [[]]
    terms = 0
    for part in parts:
        if batches[-1] and terms + len(part[1]) > _HISTOGRAM_TERMS:
            batches.append([])
            terms = 0
        batches[-1].append(part)
        terms += len(part[1])

    def count(batch: list[tuple[_Column, list[float], int]]) -> Callable[[Cursor], None]:
        sql = "SELECT " + ", ".join(
            # Below the finite minimum there is only -inf; its count is subtracted from the rest.
            f"count_if(CAST({column.ident} AS DOUBLE) < {double(edge)})"
            for column, edges, _ in batch
            for edge in edges[:-1]
        )

        def run(cursor: Cursor) -> None:
            row = dataset_rows(cursor, f"{sql} FROM {source}", path, "counting histogram bins")[0]
            at = 0
            for column, edges, finite_count in batch:
                below = [count_of(v) for v in row[at : at + len(edges) - 1]]
                at += len(edges) - 1
                _set_counts(out, column, below, finite_count)

        return run

    _run_parallel(con, [count(batch) for batch in batches if batch], workers)
