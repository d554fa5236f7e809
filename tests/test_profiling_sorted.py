"""Large datasets' numeric columns are profiled from values sorted in numpy: the same profile as
DuckDB's quantile_cont and count_if give, to the last bit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

import console.registry.profiling as profiling
from console.analytics import connect
from console.registry.profile_entries import _fused, _interpolate, _sorted_stats

ROWS = profiling.SERIAL_ROWS + 4_321  # past the serial path, so the sorting path runs


def _awkward_table(rows: int = ROWS, seed: int = 5) -> pa.Table:
    """Numbers with ties, nulls, NaN and infinities; integers, huge integers, float32, a constant,
    an all-null column, a column with only infinities, and text."""
    rng = np.random.default_rng(seed)
    wild = rng.normal(3.0, 2.0, rows).round(3)
    wild[::97] = np.nan
    wild[5::211] = np.inf
    wild[7::307] = -np.inf
    gaps = rng.random(rows) < 0.05
    only_inf = np.where(rng.random(rows) < 0.5, np.inf, -np.inf)
    return pa.table(
        {
            "wild": pa.array(wild, mask=gaps),
            "ties": pa.array(rng.integers(0, 4, rows).astype(float)),
            "whole": pa.array(rng.integers(-50, 50, rows)),
            "huge": pa.array(rng.integers(2**60, 2**62, rows)),  # not exact as doubles
            "small": pa.array(rng.normal(size=rows).astype("float32")),
            "skewed": pa.array(rng.lognormal(0.0, 2.0, rows)),
            "constant": pa.array(np.full(rows, 2.5)),
            "empty": pa.array([None] * rows, type=pa.float64()),
            "only_inf": pa.array(only_inf),
            "label": pa.array(rng.choice(["a", "b", "c"], rows)),
        }
    )


def _in_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave no memory for sorting in numpy, so every quantile is DuckDB's quantile_cont."""
    monkeypatch.setattr(profiling, "_physical_memory", lambda: 0)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_sorted_columns_give_the_sql_profile_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    table = _awkward_table()
    path = tmp_path / f"data{suffix}"
    if suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
    sorted_way = profiling.profile_dataset(path)
    _in_sql(monkeypatch)
    sql_way = profiling.profile_dataset(path)
    # The mean and std are DuckDB's sums both ways; summed across threads they may differ in the
    # last bits from run to run, so they are compared to 1e-12 and all the rest exactly.
    for ours, theirs in zip(sorted_way["columns"], sql_way["columns"], strict=True):  # type: ignore[call-overload]
        for key in ("mean", "std"):
            if ours.get(key) is not None or theirs.get(key) is not None:
                assert ours[key] == pytest.approx(theirs[key], rel=1e-12, abs=1e-300), key
                ours[key] = theirs[key]
    assert sorted_way == sql_way


def test_a_column_of_only_nulls_and_infinities_has_no_statistics(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(_awkward_table(), path)
    columns = {c["name"]: c for c in profiling.profile_dataset(path)["columns"]}  # type: ignore[attr-defined]
    assert columns["empty"]["null_count"] == ROWS
    assert columns["only_inf"]["infinite_count"] == ROWS
    for name in ("empty", "only_inf"):
        assert columns[name]["histogram"] == {"edges": [], "counts": []}
        assert columns[name]["min"] is None and columns[name]["quantiles"]["p50"] is None
    assert columns["constant"]["histogram"] == {"edges": [2.5, 2.5], "counts": [ROWS]}


def test_interpolation_rounds_as_this_duckdb_does() -> None:
    """The probe's answer holds for many pairs and levels, not only for the probe's own values."""
    rng = np.random.default_rng(11)
    con = connect()
    fused = _fused(con)
    try:
        for _ in range(200):
            lo = round(float(rng.normal(0.0, 10.0 ** rng.uniform(-3, 3))), int(rng.integers(0, 9)))
            hi = lo + float(rng.uniform(0.0, 50.0))
            level = float(rng.choice([0.01, 0.05, 0.1, 0.3, 0.7, 0.9, 0.95, 0.99]))
            found = con.execute(
                f"SELECT quantile_cont(x, {level!r}) "
                f"FROM (VALUES ({lo!r}::DOUBLE), ({hi!r}::DOUBLE)) AS t(x)"
            ).fetchall()[0][0]
            assert found == _interpolate(lo, hi, level, fused), (lo, hi, level)
    finally:
        con.close()


def test_sorted_stats_counts_and_ranks() -> None:
    con = connect()
    try:
        fused = _fused(con)
    finally:
        con.close()
    values = np.sort(np.array([np.nan, -np.inf, 1.0, 2.0, 2.0, 3.0, np.inf, np.nan, 10.0]))
    total, nans, finite, low, high, quantiles, below = _sorted_stats(values, [0.5], 2, fused)
    assert (total, nans, finite, low, high) == (9, 2, 5, 1.0, 10.0)
    assert quantiles == [2.0]
    assert below == [0, 1]  # edges 1.0, 2.0, 10.0: none below 1.0, one below 2.0
    assert math.isnan(values[-1])  # NaN sorts last, after +inf
