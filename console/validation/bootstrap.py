"""Seeded bootstrap 95% intervals, vectorised over numpy index matrices (resamples x rows).

Every statistic of a run sees the same resamples, so paired differences (challenger minus
champion) are paired. Above `MAX_ROWS` rows each resample draws `MAX_ROWS` rows (an m-out-of-n
bootstrap) and the spread around the full-sample estimate is scaled by sqrt(m / n): the metrics
here are all root-n consistent, so this keeps the interval's width right at a bounded cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from console.validation.check_detail import LEVEL, Interval

RESAMPLES = 200
SEED = 20_240_611
MAX_ROWS = 100_000
# Index-matrix elements per chunk: bounds memory (a chunk of int64 indices is 32 MB).
CHUNK_ELEMENTS = 4_000_000

Indices = NDArray[np.intp]
Floats = NDArray[np.float64]
Keys = NDArray[np.int32] | NDArray[np.int64]
# A statistic maps a (resamples, rows) index matrix to one value per resample.
Statistic = Callable[[Indices], Floats]


@dataclass(frozen=True)
class BootstrapPlan:
    """How the resamples are drawn; recorded in the report so a run can be reproduced."""

    rows: int
    resamples: int = RESAMPLES
    seed: int = SEED

    @property
    def draw(self) -> int:
        return min(self.rows, MAX_ROWS)

    @property
    def scale(self) -> float:
        return math.sqrt(self.draw / self.rows) if self.rows else 1.0

    def describe(self) -> dict[str, object]:
        return {
            "resamples": self.resamples,
            "seed": self.seed,
            "rows": self.rows,
            "rows_per_resample": self.draw,
            "scale": self.scale,
            "level": LEVEL,
        }

    def run(self, statistics: Mapping[str, Statistic]) -> dict[str, Floats]:
        """Each statistic's value on every resample (NaN where a resample leaves it undefined)."""
        out = {name: np.full(self.resamples, np.nan) for name in statistics}
        if self.rows == 0 or not statistics:
            return out
        rng = np.random.default_rng(self.seed)
        chunk = max(1, min(self.resamples, CHUNK_ELEMENTS // self.draw))
        for start in range(0, self.resamples, chunk):
            stop = min(start + chunk, self.resamples)
            index = rng.integers(0, self.rows, size=(stop - start, self.draw), dtype=np.intp)
            for name, statistic in statistics.items():
                out[name][start:stop] = statistic(index)
        return out

    def interval(self, estimate: float | None, draws: Floats) -> Interval | None:
        """The percentile interval around `estimate`, or None when too few resamples defined it."""
        if estimate is None or not math.isfinite(estimate):
            return None
        valid = draws[np.isfinite(draws)]
        if valid.size < self.resamples // 2:
            return None
        tail = (1.0 - LEVEL) / 2.0
        low, high = np.quantile(valid - estimate, [tail, 1.0 - tail])
        return Interval(estimate + self.scale * float(low), estimate + self.scale * float(high))


# ---- statistics over per-row values ----------------------------------------------------------


def mean_of(values: Floats) -> Statistic:
    """The mean of a per-row quantity (accuracy from 0/1 correctness, a loss, an error)."""
    return lambda index: np.asarray(values[index].mean(axis=1), dtype=np.float64)


def confusion_counts(
    true_codes: Indices, pred_codes: Indices, k: int
) -> Callable[[Indices], Floats]:
    """Per resample, the k x k confusion matrix (rows true, columns predicted), as floats."""
    wide = true_codes * k + pred_codes
    # The narrowest type for the cell codes: a resample's gather then reads a table that stays
    # in cache (1 MB for a million rows in int8 rather than 8 MB in int64).
    narrow = np.int8 if k * k <= 127 else np.int16 if k * k <= 32_767 else np.intp
    cells = wide.astype(narrow)
    # Five metrics read the same matrices: count once per chunk of resamples.
    last: list[tuple[Indices, Floats]] = []

    def counts(index: Indices) -> Floats:
        if last and last[0][0] is index:
            return last[0][1]
        c = index.shape[0]
        drawn = cells[index]
        flat = np.empty((c, k * k), dtype=np.int64)
        for r in range(c):
            flat[r] = np.bincount(drawn[r], minlength=k * k)
        result = flat.reshape(c, k, k).astype(np.float64)
        last[:] = [(index, result)]
        return result

    return counts


def auc_of(positive: NDArray[np.bool_], scores: Floats) -> Statistic:
    """ROC AUC per resample with ties counted half, like sklearn (Mann-Whitney on sorted keys).

    Each row's key is its score's rank among the distinct scores, times two, plus its label, so
    one sort per resample orders it by score with negatives before positives of the same score.
    A positive's position minus its place among positives counts the negatives at or below its
    score; tied (negative, positive) pairs, found where a negative directly precedes a positive
    of the same score, are then taken back by half. All counts are whole numbers, exact in
    float64, so the values are those of the dense per-score counting this replaced, bit for bit,
    at a cost that grows with the rows drawn rather than with the number of distinct scores.
    """
    return _auc_statistic(_rank_keys(positive, scores)[1])


def _auc_statistic(key: Keys) -> Statistic:
    """auc_of's statistic over precomputed (2 rank + label) keys."""

    def auc(index: Indices) -> Floats:
        c, m = index.shape
        ordered = key[index]
        ordered.sort(axis=1)
        pos = (ordered & 1).astype(np.float64)
        n_pos = pos.sum(axis=1)
        rank_sum = pos @ np.arange(1, m + 1, dtype=np.float64)
        at_or_below = rank_sum - n_pos * (n_pos + 1.0) / 2.0
        # 2L directly followed by 2L + 1: a negative, then a positive, of the same score.
        rows, cols = np.nonzero((ordered[:, 1:] ^ ordered[:, :-1]) == 1)
        tied = np.zeros(c, dtype=np.float64)
        if rows.size:
            cols += 1  # the first positive of each such score
            bounds = np.searchsorted(rows, np.arange(c + 1))
            for r in np.flatnonzero(np.diff(bounds)):
                line, first = ordered[r], cols[bounds[r] : bounds[r + 1]]
                low = np.searchsorted(line, line[first] - 1, side="left")
                high = np.searchsorted(line, line[first], side="right")
                tied[r] = float(((first - low) * (high - first)).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            value = (at_or_below - 0.5 * tied) / (n_pos * (m - n_pos))
        return np.asarray(value, dtype=np.float64)

    return auc


def ranked_auc(positive: NDArray[np.bool_], scores: Floats) -> tuple[float, Statistic]:
    """ROC AUC on all rows, and the statistic giving it per resample (auc_of), from one ranking
    of the scores: the Mann-Whitney count with ties half, like sklearn's trapezoid, but counted
    exactly in integers and divided once (equal to sklearn's value to its rounding, ~1e-15).
    NaN when a class is missing."""
    rank, key = _rank_keys(positive, scores)
    levels = int(rank.max()) + 1 if rank.size else 0
    labels = np.asarray(positive, dtype=bool).reshape(-1)
    pos = np.bincount(rank[labels], minlength=levels)
    neg = np.bincount(rank[~labels], minlength=levels)
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    below = np.cumsum(neg) - neg
    # Twice the count of (negative, positive) pairs ordered right, ties counted half.
    twice = int((pos * (2 * below + neg)).sum())
    value = twice / (2.0 * n_pos * n_neg) if n_pos and n_neg else float("nan")
    return value, _auc_statistic(key)


def _rank_keys(positive: NDArray[np.bool_], scores: Floats) -> tuple[Indices, Keys]:
    """Each row's score rank among the distinct scores, and its sort key: 2 rank + label."""
    _levels, inverse = np.unique(scores, return_inverse=True)
    rank = np.asarray(inverse, dtype=np.int64).reshape(-1)
    wide = 2 * rank + np.asarray(positive, dtype=np.int64).reshape(-1)
    # 32-bit keys sort about twice as fast; they hold up to 2**30 distinct scores.
    key = wide.astype(np.int32) if wide.size < 2**30 else wide
    return rank, key


def r2_of(y: Floats, predicted: Floats) -> Statistic:
    """R^2 per resample from the resampled sums of squares."""
    squared_error = (y - predicted) ** 2

    def r2(index: Indices) -> Floats:
        sample = y[index]
        sse = squared_error[index].sum(axis=1)
        sst = ((sample - sample.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(1.0 - sse / sst, dtype=np.float64)

    return r2


def difference(first: Statistic, second: Statistic) -> Statistic:
    """first - second on the same resamples: a paired comparison."""
    return lambda index: first(index) - second(index)
