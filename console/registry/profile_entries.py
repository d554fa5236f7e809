"""One column's entry in a dataset profile, built from its statistics: the shape drift checks read."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from console.analytics import ident
from console.registry.dataset_files import count_of

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
