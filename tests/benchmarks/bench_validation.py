"""Benchmark: where the time of a validation run goes, on a 1M-row holdout.

Run it as a script (``python tests/benchmarks/bench_validation.py [--rows N] [--format csv]``)
or under pytest (``pytest tests/benchmarks/bench_validation.py -s``). It builds the demo store,
resamples the breast-cancer-classifier v3 holdout with replacement (seeded) to N rows, and runs
`run_validation` on it, timing each phase from the service's progress reports. It only prints.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

MODEL, VERSION, TARGET = "breast-cancer-classifier", 3, "malignant"
ROWS = 1_000_000
SEED = 20_240_611


def make_holdout(home: Path, path: Path, rows: int) -> Path:
    import pandas as pd

    source = home / "demo-data" / f"{MODEL}-v{VERSION}-holdout.csv"
    frame = pd.read_csv(source).sample(n=rows, replace=True, random_state=SEED)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, float_format="%.10g")
    return path


def run_benchmark(
    workdir: Path, rows: int = ROWS, formats: tuple[str, ...] = ("parquet", "csv")
) -> None:
    from audit.keys import KeyStore, Signer
    from console.store.db import open_store
    from console.validation import run_validation
    from fixtures.demo import DEMO_PASSPHRASE, build_demo

    home = workdir / "demo"
    build_demo(home, echo=lambda _line: None)
    signer = Signer(
        "dana", KeyStore(home / "demo-keys").load_private("dana", DEMO_PASSPHRASE.encode())
    )
    store = open_store(home)
    for fmt in formats:
        started = time.perf_counter()
        data = make_holdout(home, workdir / f"holdout.{fmt}", rows)
        print(
            f"holdout: {MODEL} v{VERSION} resampled to {rows:,} rows ({fmt}, "
            f"{data.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        marks: list[tuple[str, float]] = []

        def mark(label: str, _fraction: float, marks: list[tuple[str, float]] = marks) -> None:
            marks.append((label, time.perf_counter()))

        started = time.perf_counter()
        view = run_validation(
            store,
            signer,
            MODEL,
            VERSION,
            data,
            TARGET,
            progress=mark,
        )
        total = time.perf_counter() - started
        # Each report starts a phase; a phase lasts until the next report.
        phases = [("setup (version, policy, champion)", started), *marks]
        print(
            f"validation {MODEL}:{VERSION} on {rows:,} rows ({fmt}): {total:.2f} s, "
            f"status {view.status}, {len(view.checks)} checks"
        )
        for (label, at), (_, end) in itertools.pairwise(phases):
            if label == "done":
                continue
            seconds = end - at
            print(f"  {label:<34} {seconds:7.2f} s  {seconds / total:6.1%}")
        failed = [c.name for c in view.checks if c.status == "fail"]
        if failed:
            # Resampling 143 rows to a million repeats each row ~7000 times: drift tests see it.
            print(f"  failed (expected on resampled data): {', '.join(failed[:8])}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak RSS of this process so far: {peak:.0f} MB")
        data.unlink()
    store.dispose()


def test_validation_benchmark(tmp_path: Path) -> None:
    rows = int(os.environ.get("BENCH_VALIDATION_ROWS", str(ROWS)))
    run_benchmark(tmp_path, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument(
        "--format", dest="formats", action="append", choices=["parquet", "csv"], default=None
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        run_benchmark(Path(tmp), args.rows, tuple(args.formats or ("parquet", "csv")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
