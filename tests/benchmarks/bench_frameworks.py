"""Benchmark: validating an XGBoost model on 1M rows, against XGBoost's own predict plus
scikit-learn's metrics on the same rows in the same run (the overhead of signoff's suite).

Run it as a script (``python tests/benchmarks/bench_frameworks.py [--rows N]``) or under pytest
(``pytest tests/benchmarks/bench_frameworks.py -s``). It registers a seeded XGBoost classifier
(JSON format) in a fresh store, writes an N-row Parquet holdout, times `run_validation` (every
check: performance with bootstrap intervals, data, drift, robustness, reproducibility,
latency) and the reference, and prints the ratio (goal <= 1.5), in wall-clock and in CPU
seconds (the CPU ratio is the steadier figure on a shared machine), and each phase of the run
as `run_validation` reports it. It only prints.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: make `console`, `tests` importable
    sys.path.insert(0, str(REPO))

ROWS = 1_000_000
FEATURES = [f"x{i}" for i in range(8)]
SEED = 20_240_611


def _table(rows: int, seed: int):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, len(FEATURES)))
    logit = x[:, 0] - 0.8 * x[:, 1] + 0.5 * x[:, 2] * x[:, 3] + rng.normal(scale=0.8, size=rows)
    frame = pd.DataFrame(x, columns=FEATURES)
    frame["default"] = (logit > 0.5).astype("int64")
    return frame


class Clock:
    """Wall-clock and CPU (all threads of this process) seconds since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def reference(model_path: Path, data: Path) -> tuple[float, float]:
    """Wall and CPU seconds for XGBoost's predict and scikit-learn's metrics on the same file."""
    import numpy as np
    import pandas as pd
    import xgboost as xgb
    from sklearn import metrics as skm

    clock = Clock()
    frame = pd.read_parquet(data)
    model = xgb.XGBClassifier()
    model.load_model(model_path)
    y = frame["default"].to_numpy()
    proba = model.predict_proba(frame[FEATURES])
    predicted = np.argmax(proba, axis=1)
    skm.accuracy_score(y, predicted)
    skm.balanced_accuracy_score(y, predicted)
    skm.precision_score(y, predicted)
    skm.recall_score(y, predicted)
    skm.f1_score(y, predicted)
    skm.roc_auc_score(y, proba[:, 1])
    skm.log_loss(y, proba)
    skm.brier_score_loss(y, proba[:, 1])
    skm.confusion_matrix(y, predicted)
    return clock.read()


def run_benchmark(workdir: Path, rows: int = ROWS) -> float:
    import xgboost as xgb

    from console.validation import run_validation
    from tests.conftest import PASSPHRASE, make_team

    os.environ.setdefault("SIGNOFF_PASSPHRASE", PASSPHRASE)
    team = make_team(workdir / "home", workdir / "keys")
    train = _table(20_000, SEED)
    model = xgb.XGBClassifier(n_estimators=100, max_depth=4, random_state=0, n_jobs=1)
    model.fit(train[FEATURES], train["default"])
    model_path = workdir / "model.json"
    model.save_model(model_path)
    train_path = workdir / "train.parquet"
    train.to_parquet(train_path, index=False)
    from console.registry.register import RegisterRequest, register_version

    register_version(
        team.store,
        team["dana"],
        RegisterRequest(
            model="credit-xgb",
            artifact=model_path.read_bytes(),
            artifact_source=str(model_path),
            train_data=train_path,
            target="default",
        ),
    )
    holdout = workdir / "holdout.parquet"
    _table(rows, SEED + 1).to_parquet(holdout, index=False)

    base, base_cpu = reference(model_path, holdout)
    marks: list[tuple[str, float, float]] = []

    def mark(label: str, _fraction: float) -> None:
        marks.append((label, time.perf_counter(), time.process_time()))

    clock = Clock()
    view = run_validation(
        team.store, team["dana"], "credit-xgb", 1, holdout, "default", progress=mark
    )
    suite, suite_cpu = clock.read()
    ratio = suite / base
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"XGBoost validation on {rows:,} rows: signoff {suite:.2f} s ({len(view.checks)} checks, "
        f"status {view.status}); xgboost predict + sklearn metrics {base:.2f} s; "
        f"ratio {ratio:.2f}x (goal <= 1.5x)"
    )
    print(
        f"  CPU: signoff {suite_cpu:.2f} s, reference {base_cpu:.2f} s, "
        f"ratio {suite_cpu / base_cpu:.2f}x; load average {load}"
    )
    phases = [("setup (version, policy, champion)", clock.wall, clock.cpu), *marks]
    for (label, wall, cpu), (_, wall_end, cpu_end) in itertools.pairwise(phases):
        print(f"  {label:<34} {wall_end - wall:7.2f} s wall {cpu_end - cpu:7.2f} s CPU")
    return ratio


def test_bench_frameworks() -> None:
    rows = int(os.environ.get("BENCH_ROWS", ROWS))
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as scratch:
        assert run_benchmark(Path(scratch), rows) > 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as scratch:
        run_benchmark(Path(scratch), args.rows)
