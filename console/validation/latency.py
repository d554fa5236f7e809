"""Inference latency on the file's own rows: p50/p95 per batch of BATCH_ROWS and per row.

Timings depend on the machine and its load, so a p95 above the policy's bound warns rather than
fails. Single-row calls (what an online service sees) are timed too and recorded in the detail.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from console.validation.checks import PASS, WARN, Check
from console.validation.run_details import LatencyTiming, Percentiles

BATCH_ROWS = 1_000
CALLS = 30
SINGLE_CALLS = 20
BUDGET_SECONDS = 1.0  # per series: stop early (after MIN_CALLS calls) on a slow model
MIN_CALLS = 5


def _time_calls(estimator: Any, batches: list[pd.DataFrame], calls: int) -> list[float]:
    """Seconds per call, cycling through the batches after one untimed warm-up call."""
    seconds: list[float] = []
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.predict(batches[0])
        for i in range(calls):
            t0 = time.perf_counter()
            estimator.predict(batches[i % len(batches)])
            seconds.append(time.perf_counter() - t0)
            if i + 1 >= MIN_CALLS and time.perf_counter() - started > BUDGET_SECONDS:
                break
    return seconds


def latency_check(
    estimator: Any, frame: pd.DataFrame, features: list[str], thresholds: dict[str, float]
) -> Check:
    """latency.inference: per-row p95 (ms) within batches, against max_latency_p95_ms_per_row."""
    x = frame[features]
    size = min(BATCH_ROWS, len(x))
    batches = [x.iloc[i : i + size] for i in range(0, min(len(x), size * CALLS), size)]
    batches = [b for b in batches if len(b) == size] or batches[:1]
    batch_s = np.asarray(_time_calls(estimator, batches, CALLS))
    singles = [x.iloc[i : i + 1] for i in range(min(size, SINGLE_CALLS))]
    single_s = np.asarray(_time_calls(estimator, singles, SINGLE_CALLS))
    per_row_ms = batch_s * 1000.0 / size
    p95_row = float(np.percentile(per_row_ms, 95))
    limit = thresholds["max_latency_p95_ms_per_row"]
    detail = LatencyTiming(
        batch_rows=size,
        calls=int(batch_s.size),
        batch_ms=Percentiles(
            float(np.percentile(batch_s, 50) * 1000.0), float(np.percentile(batch_s, 95) * 1000.0)
        ),
        row_ms=Percentiles(float(np.percentile(per_row_ms, 50)), p95_row),
        single_row_ms=Percentiles(
            float(np.percentile(single_s, 50) * 1000.0),
            float(np.percentile(single_s, 95) * 1000.0),
            int(single_s.size),
        ),
        rule="<=",
        note=(
            f"p95 {p95_row * 1000:.1f} µs/row in batches of {size}, "
            f"{np.percentile(single_s, 95) * 1000:.2f} ms for one row"
        ),
    )
    status = PASS if p95_row <= limit else WARN
    return Check("latency.inference", "latency", status, p95_row, limit, detail)
