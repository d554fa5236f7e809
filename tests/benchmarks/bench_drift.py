"""Benchmark: drift against a training profile, in DuckDB SQL versus pandas and numpy.

Run it as a script (``python tests/benchmarks/bench_drift.py [--rows 1000000 10000000]``) or under
pytest (``pytest tests/benchmarks/bench_drift.py -s``). DuckDB itself writes a seeded 1M-row
training Parquet file (profiled with console.registry.profiling, not timed) and, for each size, a current
file of N rows x 20 numeric columns with two columns shifted. Each implementation then computes
the same statistics (null, range and per-edge counts, then PSI on the profile's bins and the
binned KS test) in a fresh Python process, so that each peak RSS is its own (interpreter and
imports included). It prints the best time of the repeats; it asserts only that both agree.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COLUMNS = 20
REFERENCE_ROWS = 1_000_000
SIZES = (1_000_000, 10_000_000)
SHIFTED = (3, 9)  # columns moved by +0.5 in the current data
_READ_SECONDS: list[float] = []  # the pandas child's time in pd.read_parquet


def _column_sql(i: int, shift: float) -> str:
    """Four shapes in turn: normal, log-normal, uniform, exponential (Box-Muller for normals)."""
    normal = "sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"
    shape = [
        f"{normal} * {1 + i} + {10 * i}",
        f"exp(0.75 * {normal})",
        "random() * 200 - 100",
        "-5 * ln(1 - random())",
    ][i % 4]
    if shift and i in SHIFTED:
        shape = f"({shape}) + {shift}"
    return f"{shape} AS num_{i:02d}"


def make_parquet(path: Path, rows: int, *, seed: float, shift: float) -> Path:
    """Write `rows` x COLUMNS random doubles with DuckDB itself (seeded)."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SELECT setseed({seed})")
        select = ", ".join(_column_sql(i, shift) for i in range(COLUMNS))
        con.execute(f"COPY (SELECT {select} FROM range({rows})) TO '{path}' (FORMAT parquet)")
    finally:
        con.close()
    return path


def _statistics(measures: list[Any]) -> dict[str, float | None]:
    """PSI and KS p-value per column, combined from the counts by console.validation.drift."""
    from console.validation.drift import drift_checks
    from console.validation.thresholds import DEFAULTS

    out: dict[str, float | None] = {}
    for check in drift_checks(measures, DEFAULTS):
        out[check.name] = check.value
        statistic = check.detail.get("statistic")
        if isinstance(statistic, float):
            out[f"{check.name}.statistic"] = statistic
    return out


def duckdb_drift(data: Path, profile_path: Path) -> dict[str, float | None]:
    """The product path: one DuckDB scan of the file (console.validation.reference)."""
    from console.validation.reference import measure_file, parse_profile

    reference = parse_profile(profile_path.read_text())
    measures = measure_file(data, "parquet", reference, list(reference))
    return _statistics(list(measures.columns.values()))


def pandas_drift(data: Path, profile_path: Path) -> dict[str, float | None]:
    """The same counts from a pandas frame with numpy (searchsorted + bincount per column)."""
    import numpy as np
    import pandas as pd

    from console.validation.reference import ColumnMeasure, NumericCounts, parse_profile

    reference = parse_profile(profile_path.read_text())
    started = time.perf_counter()
    frame = pd.read_parquet(data)
    _READ_SECONDS.append(time.perf_counter() - started)
    measures = []
    for name, ref in reference.items():
        values = frame[name].to_numpy(dtype=np.float64)
        finite_mask = np.isfinite(values)
        finite = values[finite_mask]
        edges = np.asarray(ref.edges)
        slot = np.searchsorted(edges, finite, side="right")  # v < e_i  <=>  slot <= i
        below = np.cumsum(np.bincount(slot, minlength=edges.size + 1))[: edges.size - 1]
        counts = NumericCounts(
            finite=int(finite.size),
            below_edge=[int(b) for b in below],
            above_max=int(np.count_nonzero(finite > edges[-1])),
        )
        nulls = int(np.isnan(values).sum())
        measures.append(ColumnMeasure(ref, "DOUBLE", "numeric", nulls, numeric=counts))
    return _statistics(measures)


def _worker(which: str, data: Path, profile: Path, out: Path) -> None:
    """Child process: compute once, then write the statistics, the time and the peak RSS."""
    run = duckdb_drift if which == "duckdb" else pandas_drift
    # Imports are not what is measured: load them before the clock starts (RSS includes them).
    import duckdb  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    import console.validation.drift
    import console.validation.reference  # noqa: F401

    started = time.perf_counter()
    result = run(data, profile)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    read = _READ_SECONDS[0] if _READ_SECONDS else None
    out.write_text(
        json.dumps({"seconds": seconds, "read": read, "peak_kib": peak_kib, "result": result})
    )


def _run_child(which: str, data: Path, profile: Path, out: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", which]
    subprocess.run([*command, str(data), str(profile), str(out)], check=True, env=env, cwd=REPO)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _gap(a: dict[str, float | None], b: dict[str, float | None]) -> float:
    assert a.keys() == b.keys()
    worst = 0.0
    for key, x in a.items():
        y = b[key]
        assert (x is None) == (y is None), key
        if x is not None and y is not None:
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    return worst


def _short(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def run_benchmark(
    workdir: Path, sizes: tuple[int, ...] = SIZES, repeat: int = 1
) -> list[dict[str, float]]:
    from audit.canonical import canonical_json
    from console.registry.profiling import profile_dataset

    started = time.perf_counter()
    training = make_parquet(workdir / "train.parquet", REFERENCE_ROWS, seed=0.25, shift=0.0)
    profile = workdir / "profile.json"
    profile.write_bytes(canonical_json(profile_dataset(training)))
    print(
        f"training profile: {_short(REFERENCE_ROWS)} x {COLUMNS} parquet, "
        f"made and profiled in {time.perf_counter() - started:.1f} s"
    )
    results = []
    for rows in sizes:
        started = time.perf_counter()
        data = make_parquet(workdir / f"current-{rows}.parquet", rows, seed=0.5, shift=0.5)
        size_mb = data.stat().st_size / 1e6
        print(
            f"current data: {_short(rows)} x {COLUMNS} parquet, {size_mb:.0f} MB, "
            f"written by DuckDB in {time.perf_counter() - started:.1f} s"
        )
        times: dict[str, list[float]] = {"duckdb": [], "pandas": []}
        reads: list[float] = []
        peaks: dict[str, list[int]] = {"duckdb": [], "pandas": []}
        last: dict[str, Any] = {}
        for _ in range(repeat):
            for which in ("duckdb", "pandas"):  # interleaved, so drifting load hits both
                result = _run_child(which, data, profile, workdir / f"{which}.json")
                times[which].append(result["seconds"])
                if result["read"] is not None:
                    reads.append(result["read"])
                peaks[which].append(result["peak_kib"])
                last[which] = result["result"]
        gap = _gap(last["duckdb"], last["pandas"])
        shifted = [f"num_{i:02d}" for i in SHIFTED]
        psi = {c: last["duckdb"][f"drift.psi.{c}"] for c in ("num_00", *shifted)}
        duck_s, pand_s = min(times["duckdb"]), min(times["pandas"])
        duck_mb, pand_mb = max(peaks["duckdb"]) / 1024, max(peaks["pandas"]) / 1024
        print(
            f"  runs (s): duckdb {_fmt(times['duckdb'])}; pandas {_fmt(times['pandas'])} "
            f"(of which pd.read_parquet {_fmt(reads)})"
        )
        print(
            f"  same statistics: worst relative gap {gap:.1e}; PSI "
            + ", ".join(f"{c} {v:.3f}" for c, v in psi.items())
        )
        print(
            f"drift {_short(rows)} x {COLUMNS}: duckdb {duck_s:.2f} s, pandas {pand_s:.2f} s, "
            f"ratio {pand_s / duck_s:.1f}x (goal >= 10x); "
            f"peak RSS duckdb {duck_mb:.0f} MB, pandas {pand_mb:.0f} MB"
        )
        results.append(
            {"rows": rows, "duckdb_s": duck_s, "pandas_s": pand_s, "duckdb_mb": duck_mb,
             "pandas_mb": pand_mb, "gap": gap}
        )  # fmt: skip
        data.unlink()
    return results


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def test_drift_benchmark(tmp_path: Path) -> None:
    sizes = tuple(int(s) for s in os.environ.get("BENCH_ROWS", "").split(",") if s) or SIZES
    results = run_benchmark(tmp_path, sizes, repeat=int(os.environ.get("BENCH_REPEAT", "1")))
    for result in results:  # correctness only: both compute the same statistics
        assert result["gap"] < 1e-9
        assert math.isfinite(result["duckdb_s"]) and math.isfinite(result["pandas_s"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--worker", nargs=4, metavar=("WHICH", "DATA", "PROFILE", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        which, data, profile, out = args.worker
        _worker(which, Path(data), Path(profile), Path(out))
        return 0
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        run_benchmark(Path(tmp), tuple(args.rows), args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
