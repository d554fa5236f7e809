"""One column's entry in a dataset profile, built from its statistics: the shape drift checks read.

A large numeric column's statistics come from its values sorted in numpy, computed here exactly as
DuckDB's quantile_cont and count_if would, so that the profile does not depend on which way ran.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from console.analytics import ident, rows
from console.registry.dataset_files import Cursor, count_of, dataset_column

# The quantiles every numeric column reports, by the name they carry in the profile.
QUANTILES: dict[str, float] = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.50,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}


def _finite(value: object) -> float | None:
    """A plain float for JSON, or None for NULL, NaN and infinities."""
    if value is None or isinstance(value, bool):
        return None
    if not isinstance(value, (int, float)):
        value = float(str(value))
    result = float(value)
    return result if math.isfinite(result) else None


@dataclass(frozen=True)
class _Column:
    name: str
    dtype: str
    kind: str

    @property
    def ident(self) -> str:
        return ident(self.name)


def _levels(bins: int) -> list[float]:
    """Every quantile level one stats query computes: the named ones plus the inner bin edges."""
    inner = {i / bins for i in range(1, bins)}
    return sorted(inner | set(QUANTILES.values()))


def _edges(minimum: float, maximum: float, inner: Sequence[float | None]) -> list[float]:
    """Equal-frequency bin edges: min, the inner quantiles, max; sorted with duplicates removed."""
    values = {minimum, maximum}
    values.update(
        min(max(q, minimum), maximum) for q in inner if q is not None and math.isfinite(q)
    )
    return sorted(values)


def _base_entry(column: _Column, null_count: int, row_count: int) -> dict[str, object]:
    return {
        "name": column.name,
        "dtype": column.dtype,
        "kind": column.kind,
        "null_count": null_count,
        "null_rate": null_count / row_count,
    }


def _numeric_entry(
    column: _Column, stats: tuple[object, ...], row_count: int, levels: Sequence[float], bins: int
) -> tuple[dict[str, object], list[float]]:
    non_null, nans, finite = count_of(stats[0]), count_of(stats[1]), count_of(stats[2])
    entry = _base_entry(column, row_count - non_null + nans, row_count)
    entry["infinite_count"] = non_null - nans - finite
    raw = stats[7]
    found = list(raw) if isinstance(raw, list) else [None] * len(levels)
    by_level = dict(zip(levels, (_finite(v) for v in found), strict=True))
    minimum, maximum = _finite(stats[3]), _finite(stats[4])
    entry.update(
        {
            "min": minimum,
            "max": maximum,
            "mean": _finite(stats[5]),
            "std": _finite(stats[6]),
            "quantiles": {name: by_level[level] for name, level in QUANTILES.items()},
        }
    )
    edges: list[float] = []
    if finite and minimum is not None and maximum is not None:
        edges = _edges(minimum, maximum, [by_level[i / bins] for i in range(1, bins)])
    if len(edges) == 1:
        # A constant column: one closed bin [c, c] holding every value.
        entry["histogram"] = {"edges": [edges[0], edges[0]], "counts": [finite]}
    elif edges:
        entry["histogram"] = {"edges": edges, "counts": []}  # counts filled by _fill_histograms
    else:
        entry["histogram"] = {"edges": [], "counts": []}
    return entry, edges


def _counted_entry(
    column: _Column, rows: Sequence[tuple[object, ...]], row_count: int, top_k: int
) -> dict[str, object]:
    distinct = count_of(rows[0][2]) if rows else 0
    non_null = count_of(rows[0][3]) if rows else 0
    frequencies = {str(row[0]): count_of(row[1]) for row in rows[:top_k]}
    entry = _base_entry(column, row_count - non_null, row_count)
    entry.update(
        {
            "distinct": distinct,
            "frequencies": frequencies,
            "other_count": non_null - sum(frequencies.values()),
        }
    )
    return entry


def _set_counts(
    out: dict[str, dict[str, object]], column: _Column, below: list[int], finite_count: int
) -> None:
    """The bins' counts from the counts of values below each edge but the last."""
    cumulative = [b - below[0] for b in below] + [finite_count]
    histogram = out[column.name]["histogram"]
    assert isinstance(histogram, dict)
    histogram["counts"] = [b - a for a, b in itertools.pairwise(cumulative)]


def _interpolate(lo: float, hi: float, d: float, fused: bool) -> float:
    """lo * (1 - d) + hi * d as DuckDB's quantile_cont computes it; `fused`: its build adds the
    two products with one rounding (a fused multiply-add), as x86-64 and ARM builds do."""
    if not fused:
        return lo * (1.0 - d) + hi * d
    return float(Fraction(lo) * Fraction(1.0 - d) + Fraction(hi * d))


def _sorted_stats(
    values: Any, levels: Sequence[float], bins: int, fused: bool
) -> tuple[int, int, int, float | None, float | None, list[float | None], list[int]]:
    """What the stats query and the histogram pass compute, from a column's non-null values as
    doubles, sorted (NaN last): counts (non-null, NaN, finite), min, max, the quantiles at
    `levels` (R-7, as quantile_cont) and the count of values below each histogram edge but the
    last. Any finite value's rank is found by bisection, so nothing is scanned twice."""
    import numpy as np

    total = int(values.size)
    low = int(np.searchsorted(values, -math.inf, side="right"))
    high = int(np.searchsorted(values, math.inf, side="left"))
    nans = total - int(np.searchsorted(values, math.inf, side="right"))
    finite = values[low:high]
    n = high - low
    if n == 0:
        return total, nans, 0, None, None, [None] * len(levels), []
    quantiles: list[float | None] = []
    for level in levels:
        rank = (n - 1) * level
        below, above = math.floor(rank), math.ceil(rank)
        lo = float(finite[below])
        quantiles.append(
            lo if below == above else _interpolate(lo, float(finite[above]), rank - below, fused)
        )
    minimum, maximum = float(finite[0]), float(finite[-1])
    by_level = dict(zip(levels, quantiles, strict=True))
    edges = _edges(minimum, maximum, [by_level[i / bins] for i in range(1, bins)])
    counts = [int(c) for c in np.searchsorted(finite, edges[:-1], side="left")]
    return total, nans, n, minimum, maximum, quantiles, counts if len(edges) > 1 else []


# Whether this DuckDB build rounds its quantile interpolation once, found on first use.
_ROUNDING: dict[str, bool] = {}


def _fused(cursor: Cursor) -> bool:
    """Whether this DuckDB interpolates quantiles with a fused multiply-add (one rounding): a
    probe whose two ways of rounding give different doubles, asked once of DuckDB itself."""
    if "fused" not in _ROUNDING:
        lo, hi, level = 83.189, 106.892, 0.3
        found = rows(
            cursor,
            f"SELECT quantile_cont(x, {level}) "
            f"FROM (VALUES ({lo!r}::DOUBLE), ({hi!r}::DOUBLE)) AS t(x)",
            "checking how DuckDB rounds quantiles",
        )[0][0]
        _ROUNDING["fused"] = found == _interpolate(lo, hi, level, True)
    return _ROUNDING["fused"]


def _sorted_column_task(
    column: _Column, source: str, path: Path, levels: Sequence[float], bins: int
) -> Callable[[Cursor], tuple[object, ...]]:
    """A column's counts, min, max, quantiles and histogram, from its values sorted in numpy
    (sorting a million doubles costs less than DuckDB's quantile, and answers every rank)."""
    sql = (
        f"SELECT x FROM (SELECT CAST({column.ident} AS DOUBLE) AS x FROM {source}) "
        "WHERE x IS NOT NULL"
    )

    def run(cursor: Cursor) -> tuple[object, ...]:
        values = dataset_column(cursor, sql, path, f"reading column {column.name!r}")
        values.sort()
        return _sorted_stats(values, levels, bins, _fused(cursor))

    return run
