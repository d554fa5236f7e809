"""Benchmark: DuckDB dataset profiling against the same profile computed with pandas.

Run it as a script (``python tests/benchmarks/bench_profile.py [--rows N] [--repeat R]``) or under
pytest (``pytest tests/benchmarks -s``; BENCH_REPEAT sets the repeats). It writes a seeded 1M x 20
CSV and the same table as Parquet, then profiles each file with each implementation (pandas reads
the file with `read_csv` or `read_parquet`) in fresh Python processes, turn about, so that each
peak RSS is that implementation's own (interpreter and imports included). It prints the best time
and the highest peak of the repeats, and the CPU time, which shared machines disturb less.
It only reports; it asserts nothing about speed or memory, only that both profiles agree.
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
ROWS = 1_000_000
NUMERIC = 16
CATEGORICAL = 4
SEED = 20240611
BINS = 10
TOP_K = 50
# Same levels as console.registry.profiling.QUANTILES, restated so the pandas child needs no signoff import.
NAMED_QUANTILES = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}


def make_dataset(path: Path, rows: int = ROWS, seed: int = SEED) -> Path:
    """A CSV of `rows` rows: 16 float columns of assorted shapes and 4 string columns."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.csv as pacsv  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i in range(NUMERIC):
        shape = i % 4
        if shape == 0:
            values = rng.normal(10.0 * i, 1.0 + i, rows)
        elif shape == 1:
            values = rng.lognormal(0.0, 0.75, rows)
        elif shape == 2:
            values = rng.uniform(-100.0, 100.0, rows)
        else:
            values = rng.exponential(5.0, rows)
        values = values.round(6)
        mask = rng.random(rows) < 0.01 if i % 5 == 0 else None  # some columns have gaps
        columns[f"num_{i:02d}"] = pa.array(values, mask=mask)
    for j, cardinality in enumerate((5, 50, 500, 5000)[:CATEGORICAL]):
        labels = np.array([f"c{j}_{k:05d}" for k in range(cardinality)])
        weights = rng.zipf(1.5, cardinality).astype(float)
        picks = rng.choice(cardinality, size=rows, p=weights / weights.sum())
        mask = rng.random(rows) < 0.02 if j == 1 else None
        columns[f"cat_{j}"] = pa.array(labels[picks], mask=mask)
    table = pa.table(columns)
    pacsv.write_csv(table, path)
    pq.write_table(table, path.with_suffix(".parquet"))
    return path


def pandas_profile(path: Path, bins: int = BINS, top_k: int = TOP_K) -> dict[str, object]:
    """The profile console.registry.profiling computes, computed with pandas and numpy instead."""
    import numpy as np
    import pandas as pd

    fmt = "parquet" if path.suffix == ".parquet" else "csv"
    frame = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    inner = [i / bins for i in range(1, bins)]
    levels = sorted(set(inner) | set(NAMED_QUANTILES.values()))
    rows = len(frame)
    columns: list[dict[str, object]] = []
    for name in frame.columns:
        series = frame[name]
        entry: dict[str, object] = {"name": str(name)}
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            data = series.to_numpy(dtype=float, na_value=np.nan)
            nulls = int(np.isnan(data).sum())
            finite = data[np.isfinite(data)]
            entry.update(kind="numeric", null_count=nulls, null_rate=nulls / rows)
            entry["infinite_count"] = int(data.size - nulls - finite.size)
            if finite.size:
                q = dict(zip(levels, np.quantile(finite, levels).tolist(), strict=True))
                low, high = float(finite.min()), float(finite.max())
                edges = np.unique(np.clip([low, *(q[x] for x in inner), high], low, high))
                if edges.size > 1:
                    counts = np.histogram(finite, bins=edges)[0].tolist()
                    edge_list = edges.tolist()
                else:
                    counts, edge_list = [int(finite.size)], [low, low]
                entry.update(
                    min=low,
                    max=high,
                    mean=float(finite.mean()),
                    std=float(finite.std(ddof=1)) if finite.size > 1 else None,
                    quantiles={k: q[v] for k, v in NAMED_QUANTILES.items()},
                    histogram={"edges": edge_list, "counts": counts},
                )
        else:
            kind = "boolean" if pd.api.types.is_bool_dtype(series) else "categorical"
            counts_by_value = series.value_counts(dropna=True)
            table = pd.DataFrame(
                {"value": counts_by_value.index.astype(str), "n": counts_by_value.to_numpy()}
            ).sort_values(["n", "value"], ascending=[False, True], kind="stable")
            top = table.head(top_k)
            non_null = int(table["n"].sum())
            entry.update(
                kind=kind,
                null_count=rows - non_null,
                null_rate=(rows - non_null) / rows,
                distinct=len(table),
                frequencies=dict(zip(top["value"], (int(n) for n in top["n"]), strict=True)),
                other_count=non_null - int(top["n"].sum()),
            )
        columns.append(entry)
    return {"format": fmt, "row_count": rows, "columns": columns}


def duckdb_profile(path: Path) -> dict[str, object]:
    from console.registry.profiling import profile_dataset

    return profile_dataset(path, bins=BINS, top_k=TOP_K)


def selection_floor(path: Path, bins: int = BINS) -> dict[str, object]:
    """A floor under any exact profile: find each numeric column's quantiles once, the columns
    already in memory and without their nulls, one thread per column on as many threads as the
    machine has; by selection (numpy's partition at every rank the quantiles interpolate between,
    as `np.quantile` does) and by sorting (numpy's vectorised sort), the cheaper of which is the
    floor. Returns the wall and CPU seconds each took."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    arrays = []
    for name in table.column_names:
        if name.startswith("num_"):
            values = table.column(name).to_numpy(zero_copy_only=False).astype(float)
            arrays.append(values[~np.isnan(values)])
    levels = sorted({i / bins for i in range(1, bins)} | set(NAMED_QUANTILES.values()))

    def select(values: Any) -> Any:
        below = [math.floor(q * (values.size - 1)) for q in levels]  # interpolated from here
        ranks = sorted({r for b in below for r in (b, b + 1) if r < values.size})  # to the next
        return np.partition(values, ranks)

    result: dict[str, object] = {"columns": len(arrays)}
    for way, run in (("partition", select), ("sort", np.sort)):
        cpu, started = time.process_time(), time.perf_counter()
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(run, arrays))
        result[way] = {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu}
    return result


def parse_floor(path: Path) -> dict[str, object]:
    """Parsing the CSV alone, with pyarrow's multithreaded reader: the least any CSV profile
    pays before computing anything. Returns the wall and CPU seconds it took."""
    import pyarrow.csv as pacsv

    cpu, started = time.process_time(), time.perf_counter()
    table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(use_threads=True))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "rows": table.num_rows}


def _worker(which: str, data: Path, out: Path) -> None:
    """Child process: profile once, then write the profile, the time and this process's peak RSS."""
    run = {
        "duckdb": duckdb_profile,
        "pandas": pandas_profile,
        "floor": selection_floor,
        "parse": parse_floor,
    }[which]
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    profile = run(data)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    result = {"seconds": seconds, "cpu": cpu, "peak_kib": _peak_kib(), "profile": profile}
    out.write_text(json.dumps(result))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_kib() -> int:
    """This process's peak resident memory in KiB.

    On Linux, VmHWM: the high-water mark of this program's own address space. ru_maxrss of a child
    started by exec also counts the address space it replaced, a copy of the parent's, so a parent
    that made the dataset with numpy would lift every child's figure to its own size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux, bytes on macOS


def _run_child(which: str, data: Path, out: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        which,
        str(data),
        str(out),
    ]
    subprocess.run(command, check=True, env=env, cwd=REPO)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def compare(duck: dict[str, Any], pand: dict[str, Any]) -> dict[str, float]:
    """How far apart the two profiles are: worst relative float gap, worst bin-count gap."""
    assert duck["row_count"] == pand["row_count"]
    worst_float = 0.0
    worst_count = 0
    for d, p in zip(duck["columns"], pand["columns"], strict=True):
        assert d["name"] == p["name"] and d["kind"] == p["kind"], (d["name"], p["name"])
        assert d["null_count"] == p["null_count"], d["name"]
        if d["kind"] == "numeric":
            pairs = [(d[k], p[k]) for k in ("min", "max", "mean", "std")]
            pairs += [(d["quantiles"][k], p["quantiles"][k]) for k in NAMED_QUANTILES]
            pairs += list(zip(d["histogram"]["edges"], p["histogram"]["edges"], strict=True))
            for a, b in pairs:
                gap = abs(a - b) / max(abs(a), abs(b), 1e-300)
                worst_float = max(worst_float, gap)
            for a, b in zip(d["histogram"]["counts"], p["histogram"]["counts"], strict=True):
                worst_count = max(worst_count, abs(a - b))
        else:
            assert d["frequencies"] == p["frequencies"], d["name"]
            assert (d["distinct"], d["other_count"]) == (p["distinct"], p["other_count"])
    return {"float": worst_float, "count": float(worst_count)}


# The goals: from CSV, at least 3x faster than pandas at no more than a third of its
# peak memory; from Parquet, at least 10x faster.
GOALS = {"csv": 3.0, "parquet": 10.0}
MEMORY_GOAL = 0.33


def run_benchmark(workdir: Path, rows: int = ROWS, repeat: int = 3) -> dict[str, float]:
    """Make the dataset, profile each file `repeat` times each way, print and return the
    measurements (keys prefixed by the format for Parquet)."""
    data = workdir / "bench.csv"
    started = time.perf_counter()
    make_dataset(data, rows)
    size_mb = data.stat().st_size / 1e6
    parquet_mb = data.with_suffix(".parquet").stat().st_size / 1e6
    print(f"generated {data.name}: {rows:,} rows x {NUMERIC + CATEGORICAL} columns, ", end="")
    print(
        f"{size_mb:.0f} MB (Parquet {parquet_mb:.0f} MB) in {time.perf_counter() - started:.1f} s"
    )
    measured: dict[str, float] = {}
    for fmt, path in (("csv", data), ("parquet", data.with_suffix(".parquet"))):
        result = _measure(workdir, fmt, path, rows, repeat)
        prefix = "" if fmt == "csv" else "parquet_"
        measured.update({prefix + key: value for key, value in result.items()})
    floor = _run_child("floor", data.with_suffix(".parquet"), workdir / "floor.json")["profile"]
    way = min(("partition", "sort"), key=lambda w: float(floor[w]["cpu"]))
    least = floor[way]
    print(
        f"floor: the {floor['columns']} numeric columns' quantiles in memory on {os.cpu_count()}"
        f" threads: by selection (np.partition at their ranks) {floor['partition']['seconds']:.2f}"
        f" s, {floor['partition']['cpu']:.2f} s CPU; by sorting (np.sort)"
        f" {floor['sort']['seconds']:.2f} s, {floor['sort']['cpu']:.2f} s CPU; an exact profile"
        f" can be at most {measured['parquet_pandas_s'] / least['seconds']:.1f}x pandas from"
        f" Parquet ({measured['parquet_pandas_cpu'] / least['cpu']:.1f}x in CPU), before reading"
        " the file, its histograms or its categories"
    )
    parse = _run_child("parse", data, workdir / "parse.json")["profile"]
    parse_s, parse_cpu = parse["seconds"] + least["seconds"], parse["cpu"] + least["cpu"]
    print(
        f"floor: pyarrow's multithreaded CSV parse alone {parse['seconds']:.2f} s,"
        f" {parse['cpu']:.2f} s CPU; with the {way} above an exact profile can be at most"
        f" {measured['pandas_s'] / parse_s:.1f}x pandas from CSV"
        f" ({measured['pandas_cpu'] / parse_cpu:.1f}x in CPU): pandas / (parse + {way})"
    )
    measured["floor_s"] = least["seconds"]
    measured["parse_s"] = parse["seconds"]
    return measured


def _measure(workdir: Path, fmt: str, data: Path, rows: int, repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"duckdb": [], "pandas": []}
    cpus: dict[str, list[float]] = {"duckdb": [], "pandas": []}
    peaks: dict[str, list[int]] = {"duckdb": [], "pandas": []}
    last: dict[str, Any] = {}
    for _ in range(repeat):
        for which in ("duckdb", "pandas"):  # interleaved, so drifting machine load hits both
            result = _run_child(which, data, workdir / f"{which}.json")
            times[which].append(result["seconds"])
            cpus[which].append(result["cpu"])
            peaks[which].append(result["peak_kib"])
            last[which] = result["profile"]
    gaps = compare(last["duckdb"], last["pandas"])

    label = f"profile {_short(rows)} x {NUMERIC + CATEGORICAL} {fmt}"
    duck_s, pand_s = min(times["duckdb"]), min(times["pandas"])
    duck_cpu, pand_cpu = min(cpus["duckdb"]), min(cpus["pandas"])
    duck_mb, pand_mb = max(peaks["duckdb"]) / 1024, max(peaks["pandas"]) / 1024
    print(f"{fmt} runs (s): duckdb {_fmt(times['duckdb'])}; pandas {_fmt(times['pandas'])}")
    print(
        f"{fmt} cpu (s, all threads): duckdb {_fmt(cpus['duckdb'])}; pandas {_fmt(cpus['pandas'])}"
    )
    print(f"{fmt} peaks (MB): duckdb {_fmt_mb(peaks['duckdb'])}; pandas {_fmt_mb(peaks['pandas'])}")
    print(f"{fmt} profiles agree: worst relative float gap {gaps['float']:.1e}, ", end="")
    print(f"worst bin-count gap {gaps['count']:.0f}")
    print(
        f"{label}: duckdb {duck_s:.2f} s, pandas {pand_s:.2f} s, "
        f"speed ratio {pand_s / duck_s:.1f}x (goal >= {GOALS[fmt]:.0f}x); "
        f"CPU ratio {pand_cpu / duck_cpu:.1f}x"
    )
    print(
        f"{label}: peak RSS duckdb {duck_mb:.0f} MB, pandas {pand_mb:.0f} MB, "
        f"ratio {duck_mb / pand_mb:.2f}" + (f" (goal <= {MEMORY_GOAL})" if fmt == "csv" else "")
    )
    return {
        "duckdb_s": duck_s,
        "pandas_s": pand_s,
        "duckdb_mb": duck_mb,
        "pandas_mb": pand_mb,
        "duckdb_cpu": duck_cpu,
        "pandas_cpu": pand_cpu,
        **gaps,
    }


def _short(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _fmt_mb(values: list[int]) -> str:
    return ", ".join(f"{v / 1024:.0f}" for v in values)


def test_profile_benchmark(tmp_path: Path) -> None:
    result = run_benchmark(tmp_path, ROWS, repeat=int(os.environ.get("BENCH_REPEAT", "3")))
    # Correctness only: the two implementations must describe the same data the same way.
    assert result["float"] < 1e-9 and result["parquet_float"] < 1e-9
    assert math.isfinite(result["duckdb_s"]) and math.isfinite(result["pandas_s"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--worker", nargs=3, metavar=("WHICH", "DATA", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        which, data, out = args.worker
        _worker(which, Path(data), Path(out))
        return 0
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        run_benchmark(Path(tmp), args.rows, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
