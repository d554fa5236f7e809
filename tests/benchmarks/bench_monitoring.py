"""Benchmark: drift over a prediction log in DuckDB SQL versus pandas and numpy, and ingest rate.

Run it as a script (``python tests/benchmarks/bench_monitoring.py [--rows 1000000 10000000]``)
or under pytest (``pytest tests/benchmarks/bench_monitoring.py -s``). DuckDB writes seeded
prediction logs of N rows x 20 numeric features over eight weeks (two features drift in the
second half) and a 20k-row training sample; a store registers a model on the sample (so its
profile is the reference) and ingests each log through `ingest_predictions` (the ingest rate:
Parquet for every size, and CSV for the smallest). Then, in fresh Python processes so that each
peak RSS is its own (interpreter and imports included), the product path `evaluate_drift`
(digest check of the stored log, then one grouped DuckDB scan) and a pandas/numpy
implementation of the same statistics (pd.read_parquet, then per window and feature
searchsorted counts combined by the same functions) compute PSI, KS, null and range shares per
7-day window. It prints times, the ratio, peak RSS, and asserts only that both agree.
"""

from __future__ import annotations

import argparse
import json
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
SIZES = (1_000_000, 10_000_000)
TRAIN_ROWS = 20_000
SHIFTED = (3, 9)
WEEKS = 8
START = "2026-09-07"  # a Monday: the windows are the eight weeks
PASSPHRASE = "bench passphrase"


def _column_sql(i: int, shift: str) -> str:
    """Four shapes in turn: normal, log-normal, uniform, exponential (Box-Muller normals)."""
    normal = "sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"
    shape = [
        f"{normal} * {1 + i} + {10 * i}",
        f"exp(0.75 * {normal})",
        "random() * 200 - 100",
        "-5 * ln(1 - random())",
    ][i % 4]
    if i in SHIFTED:
        shape = f"({shape}) + {shift}"
    return f"{shape} AS num_{i:02d}"


def make_log(path: Path, rows: int, *, fmt: str = "parquet", seed: float = 0.5) -> Path:
    """`rows` predictions over eight weeks; SHIFTED features drift up to +0.5 in weeks 5-8."""
    import duckdb

    half = rows // 2
    shift = f"(CASE WHEN i >= {half} THEN 0.5 * (i - {half}) / {half} ELSE 0 END)"
    step = WEEKS * 7 * 86_400e6 / rows
    select = (
        f"TIMESTAMP '{START}' + to_microseconds(CAST(i * {step} AS BIGINT)) AS timestamp, "
        "1 AS version, CASE WHEN random() < 0.2 THEN 1 ELSE 0 END AS prediction, "
        "random() AS score, " + ", ".join(_column_sql(i, shift) for i in range(COLUMNS))
    )
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SELECT setseed({seed})")
        options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
        con.execute(f"COPY (SELECT {select} FROM range({rows}) t(i)) TO '{path}' ({options})")
    finally:
        con.close()
    return path


def make_store(workdir: Path, names: list[str]) -> Path:
    """A store with a team and one model per name, all fitted on the same training sample."""
    import duckdb
    from sklearn.linear_model import LogisticRegression

    from audit.keys import KeyStore, Signer
    from console import api
    from console.identity.genesis import init_store
    from console.identity.users import add_user
    from console.store.db import Store

    sample = make_log(workdir / "sample.parquet", TRAIN_ROWS, seed=0.25)
    train = (
        duckdb.connect()
        .execute(f"SELECT * EXCLUDE (timestamp, version, prediction, score) FROM '{sample}'")
        .df()
    )
    train["target"] = (train["num_00"] > train["num_00"].median()).astype(int)
    features = [c for c in train.columns if c.startswith("num_")]
    estimator = LogisticRegression(max_iter=500).fit(train[features], train["target"])
    keys = KeyStore(workdir / "keys")
    signers = {}
    for name in ("ada", "dana", "rel"):
        keys.create(name, PASSPHRASE.encode())
        signers[name] = Signer(name, keys.load_private(name, PASSPHRASE.encode()))
    store = Store(workdir / "home")
    init_store(store, signers["ada"])
    add_user(store, signers["ada"], "dana", "author", signers["dana"].public_key)
    add_user(store, signers["ada"], "rel", "release-manager", signers["rel"].public_key)
    for name in names:
        api.register_model(store, signers["dana"], name, estimator, train, target="target")
    store.dispose()
    return workdir / "home"


def _signer(workdir: Path, name: str) -> Any:
    from audit.keys import KeyStore, Signer

    keys = KeyStore(workdir / "keys")
    return Signer(name, keys.load_private(name, PASSPHRASE.encode()))


def ingest(workdir: Path, model: str, log: Path) -> float:
    """Seconds to ingest the log through the product path (checks, COPY, digest, event)."""
    from console.monitoring.ingest import ingest_predictions
    from console.store.db import open_store

    store = open_store(workdir / "home")
    started = time.perf_counter()
    ingest_predictions(store, _signer(workdir, "rel"), model, log, allow_backfill="benchmark")
    seconds = time.perf_counter() - started
    store.dispose()
    return seconds


# ---- the two implementations, each in its own process ---------------------------------------


def _flatten(windows: list[Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for window in windows:
        for feature, stats in window.result["features"].items():
            for key in ("psi", "ks_statistic", "null_rate", "out_of_range_share"):
                value = stats.get(key)
                out[f"{window.start[:10]}.{feature}.{key}"] = (
                    float(value) if isinstance(value, int | float) else None
                )
    return out


def duckdb_drift(home: Path, model: str) -> tuple[dict[str, float | None], float]:
    """The product path; returns the statistics and the seconds spent verifying digests."""
    from console.monitoring.drift import evaluate_drift
    from console.store.artifacts import ArtifactStore
    from console.store.db import open_store

    spent = [0.0]
    original = ArtifactStore.verified_path

    def timed(self: ArtifactStore, digest: str) -> Path:
        started = time.perf_counter()
        try:
            return original(self, digest)
        finally:
            spent[0] += time.perf_counter() - started

    ArtifactStore.verified_path = timed  # type: ignore[method-assign]
    evaluation = evaluate_drift(open_store(home), model)
    return _flatten(evaluation.windows), spent[0]


def pandas_drift(home: Path, model: str) -> dict[str, float | None]:
    """The same counts from pandas and numpy, combined by the same statistics functions."""
    import numpy as np
    import pandas as pd

    from console.monitoring.drift_statistics import feature_statistics
    from console.monitoring.logs import log_batches
    from console.monitoring.windows import WindowResult, store_time
    from console.registry.views import get_dataset, get_model
    from console.store.artifacts import ArtifactStore
    from console.store.db import open_store
    from console.validation.reference import ColumnMeasure, NumericCounts, parse_profile

    store = open_store(home)
    version = get_model(store, model).versions[-1]
    profile = parse_profile(get_dataset(store, version.train_dataset_sha256).profile)
    [batch] = log_batches(store, model)
    path = ArtifactStore(store.artifacts_dir).path_for(batch.artifact_sha256)
    features = [str(c["name"]) for c in version.input_schema]
    frame = pd.read_parquet(path, columns=["ts", "version", *features])
    frame = frame[frame["version"] == version.number]
    origin = np.datetime64("2000-01-03T00:00:00")
    week = np.timedelta64(7 * 24 * 3600 * 10**6, "us")
    codes = (frame["ts"].to_numpy().astype("datetime64[us]") - origin) // week
    windows = []
    for code, index in pd.Series(codes).groupby(codes).indices.items():
        rows = len(index)
        result: dict[str, object] = {}
        for name in features:
            ref = profile[name]
            values = frame[name].to_numpy()[index]
            finite = values[np.isfinite(values)]
            infinite = int(np.isinf(values).sum())
            edges = np.asarray(ref.edges)
            slot = np.searchsorted(edges, finite, side="right")  # v < e_i  <=>  slot <= i
            below = np.cumsum(np.bincount(slot, minlength=edges.size + 1))[: edges.size - 1]
            counts = NumericCounts(
                int(finite.size), [int(b) for b in below], int((finite > edges[-1]).sum())
            )
            measure = ColumnMeasure(
                ref, "DOUBLE", "numeric", rows - finite.size - infinite, numeric=counts
            )
            result[name] = feature_statistics(measure, rows)
        start = (origin + int(str(code)) * week).astype("datetime64[us]").astype(object)
        windows.append(
            WindowResult(
                "drift", model, 1, store_time(start), "", rows, "", {"features": result}, [], ""
            )
        )
    return _flatten(windows)


def _worker(which: str, home: Path, model: str, out: Path) -> None:
    """Child process: import first (not timed), compute once, write result, time and peak RSS."""
    import duckdb  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    import console.monitoring.drift
    import console.store.db  # noqa: F401

    verify = None
    started = time.perf_counter()
    if which == "duckdb":
        result, verify = duckdb_drift(home, model)
    else:
        result = pandas_drift(home, model)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    out.write_text(
        json.dumps({"seconds": seconds, "verify": verify, "peak_kib": peak_kib, "result": result})
    )


def _run_child(which: str, home: Path, model: str, out: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", which]
    subprocess.run([*command, str(home), model, str(out)], check=True, env=env, cwd=REPO)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _gap(a: dict[str, float | None], b: dict[str, float | None]) -> float:
    assert a.keys() == b.keys(), sorted(set(a) ^ set(b))[:5]
    worst = 0.0
    for key, x in a.items():
        y = b[key]
        assert (x is None) == (y is None), key
        if x is not None and y is not None:
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    return worst


def _short(rows: int) -> str:
    return f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows // 1_000}k"


def run_benchmark(workdir: Path, sizes: tuple[int, ...] = SIZES) -> list[dict[str, float]]:
    names = [f"bench-{_short(rows).lower()}" for rows in sizes]
    started = time.perf_counter()
    home = make_store(workdir, [*names, "bench-csv"])
    print(
        f"store: a model per log, fitted on {TRAIN_ROWS} rows, in {time.perf_counter() - started:.1f} s"
    )
    csv_rows = min(sizes)
    csv = make_log(workdir / "log.csv", csv_rows, fmt="csv", seed=0.75)
    seconds = ingest(workdir, "bench-csv", csv)
    print(
        f"ingest {_short(csv_rows)} rows from CSV ({csv.stat().st_size / 1e6:.0f} MB): "
        f"{seconds:.1f} s, {csv_rows / seconds:,.0f} rows/s"
    )
    csv.unlink()
    results = []
    for rows, name in zip(sizes, names, strict=True):
        started = time.perf_counter()
        log = make_log(workdir / f"log-{rows}.parquet", rows)
        size_mb = log.stat().st_size / 1e6
        print(
            f"prediction log: {_short(rows)} x {COLUMNS} parquet, {size_mb:.0f} MB, written by "
            f"DuckDB in {time.perf_counter() - started:.1f} s"
        )
        seconds = ingest(workdir, name, log)
        print(
            f"ingest {_short(rows)} rows from Parquet: {seconds:.1f} s, {rows / seconds:,.0f} rows/s"
        )
        log.unlink()
        duck = _run_child("duckdb", home, name, workdir / "duckdb.json")
        pand = _run_child("pandas", home, name, workdir / "pandas.json")
        gap = _gap(duck["result"], pand["result"])
        duck_mb, pand_mb = duck["peak_kib"] / 1024, pand["peak_kib"] / 1024
        ratio = pand["seconds"] / duck["seconds"]
        query = duck["seconds"] - (duck["verify"] or 0.0)
        print(
            f"drift {_short(rows)} x {COLUMNS}, {WEEKS} weekly windows: duckdb "
            f"{duck['seconds']:.2f} s (sha256 check {duck['verify']:.2f} s, query {query:.2f} s), "
            f"pandas {pand['seconds']:.2f} s, ratio {ratio:.1f}x ({pand['seconds'] / query:.1f}x "
            f"on the query; goal >= 10x); peak RSS duckdb {duck_mb:.0f} MB, pandas {pand_mb:.0f} MB"
        )
        print(f"  same statistics: worst relative gap {gap:.1e}")
        results.append(
            {"rows": rows, "duckdb_s": duck["seconds"], "pandas_s": pand["seconds"],
             "duckdb_mb": duck_mb, "pandas_mb": pand_mb, "gap": gap}
        )  # fmt: skip
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(
            f"memory from {_short(int(first['rows']))} to {_short(int(last['rows']))} rows: duckdb "
            f"{first['duckdb_mb']:.0f} -> {last['duckdb_mb']:.0f} MB, pandas "
            f"{first['pandas_mb']:.0f} -> {last['pandas_mb']:.0f} MB"
        )
    return results


def test_monitoring_benchmark(tmp_path: Path) -> None:
    sizes = tuple(int(s) for s in os.environ.get("BENCH_ROWS", "").split(",") if s) or SIZES
    for result in run_benchmark(tmp_path, sizes):  # correctness only: the same statistics
        assert result["gap"] < 1e-9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--worker", nargs=4, metavar=("WHICH", "HOME", "MODEL", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        which, home, model, out = args.worker
        _worker(which, Path(home), model, Path(out))
        return 0
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        run_benchmark(Path(tmp), tuple(args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
