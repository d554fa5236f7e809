"""Benchmark: `signoff import mlflow` of N registered-model versions (default 100): versions/s.

Run it as a script (``python tests/benchmarks/bench_mlflow_import.py [--versions N]
[--profile]``) or under pytest (``pytest tests/benchmarks/bench_mlflow_import.py -s``;
BENCH_VERSIONS sets N). `tests/mlflow_stores.py` writes an MLflow 3 file store and SQLite store
of N versions of one registered model from the committed fixture, each version with its own run
and its own XGBoost model.

For each store it times the whole command as a user runs it, `signoff import mlflow SOURCE --as
dana`, as a new process on a fresh store (a team, no demo), in wall-clock seconds and in the
child's CPU seconds (the steadier figure on a shared machine), then the same command again
(every version skipped). Then it runs the import in process on another fresh store with each
step timed (reading the MLflow store, loading and checking the model, profiling the training
data, training metrics, storing, signing, the transaction): CPU seconds given to the innermost
step running. ``--profile`` also prints that run's cProfile (its overhead then inflates the
steps). It only prints.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: make `console`, `tests` importable
    sys.path.insert(0, str(REPO))

from tests.mlflow_stores import (  # noqa: E402 (after the path is set)
    Template,
    train_models,
    write_file_store,
    write_sqlite_store,
)

VERSIONS = 100


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _fresh_team(home: Path, keys: Path) -> Any:
    from tests.conftest import PASSPHRASE, make_team

    os.environ["SIGNOFF_PASSPHRASE"] = PASSPHRASE
    return make_team(home, keys)


def run_cli(source: Path, home: Path, keys: Path) -> tuple[float, float, list[str]]:
    """`signoff import mlflow SOURCE --as dana` as a new process: wall s, child CPU s, lines."""
    from tests.conftest import PASSPHRASE

    env = dict(os.environ, SIGNOFF_KEYS=str(keys), SIGNOFF_PASSPHRASE=PASSPHRASE)
    env["PYTHONPATH"] = str(REPO)
    for name in ("SIGNOFF_DB", "SIGNOFF_USER", "SIGNOFF_HOME"):
        env.pop(name, None)
    argv = [sys.executable, "-m", "console", "import", "mlflow", str(source)]
    argv += ["--home", str(home), "--as", "dana"]
    cpu, wall = _child_cpu(), time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, _child_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stderr or done.stdout}")
    return wall, cpu, done.stdout.splitlines()


class Steps:
    """CPU and wall seconds per step, each second given to the innermost timed call running."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}
        self._stack: list[list[float]] = []
        self._undo: list[tuple[object, str, object]] = []

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)
        stack = self._stack

        def timed(*args: Any, **kwargs: Any) -> Any:
            inner = [0.0, 0.0]
            stack.append(inner)
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                stack.pop()
                self.cpu[label] = self.cpu.get(label, 0.0) + cpu - inner[0]
                self.wall[label] = self.wall.get(label, 0.0) + wall - inner[1]
                if stack:
                    stack[-1][0] += cpu
                    stack[-1][1] += wall

        self._undo.append((owner, name, original))
        setattr(owner, name, timed)

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()


READ = "reading the MLflow store"
LOAD = "loading + checking the model"
PROFILE = "profiling + reading the training data"
METRICS = "training metrics"
STORE = "storing the artifact"
SIGN = "signing the audit event"
RECORD = "transaction (checks, rows, commit)"
SKIP = "already-registered check"


@contextlib.contextmanager
def timed_steps() -> Iterator[Steps]:
    import console.files
    import console.registry.profiling
    from console.registry import mlflow_import as mi
    from console.registry import mlflow_store as ms
    from console.registry import register as reg
    from console.store.artifacts import ArtifactStore

    steps = Steps()
    targets: list[tuple[object, str, str]] = [
        (mi, "open_mlflow_store", READ),
        (ms.FileStore, "versions", READ),
        (ms.FileStore, "run", READ),
        (ms.SqliteStore, "versions", READ),
        (ms.SqliteStore, "run", READ),
        (mi, "read_yaml", READ),
        (mi, "_model_folder", READ),
        (mi, "_training_data", READ),
        (mi, "load_artifact", LOAD),
        (mi, "describe", LOAD),
        (reg, "load_artifact", LOAD),
        (reg, "describe", LOAD),
        (reg, "check_labels", LOAD),
        (console.registry.profiling, "profile_dataset", PROFILE),
        (console.files, "input_sha256", PROFILE),
        (reg, "_read_frame", PROFILE),
        (reg, "_check_columns", PROFILE),
        (reg, "training_metrics", METRICS),
        (ArtifactStore, "put_bytes_in", STORE),
        (reg, "append_event", SIGN),
        (mi, "register_version", RECORD),
        (mi, "_registered_as", SKIP),
    ]
    for owner, name, label in targets:
        steps.wrap(owner, name, label)
    try:
        yield steps
    finally:
        steps.restore()


def run_in_process(source: Path, team: Any, profile: bool) -> tuple[float, float, Steps]:
    """The import through the service, each step timed (or under cProfile, printed)."""
    from console.registry.mlflow_import import import_mlflow

    with timed_steps() as steps:
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        outcomes = import_mlflow(team.store, team["dana"], source)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    if any(o.version is None for o in outcomes):
        raise RuntimeError("a fresh store skipped a version")
    return wall, cpu, steps


def bench(workdir: Path, versions: int = VERSIONS, profile: bool = False) -> dict[str, float]:
    """Versions imported per second (wall) for each store kind, printed with the details."""
    template = Template.read()
    models = train_models(versions, template.train_csv)
    stores = {
        "file store": write_file_store(workdir / "stores", template, models),
        "SQLite store": write_sqlite_store(workdir / "stores", template, models),
    }
    rates: dict[str, float] = {}
    for kind, source in stores.items():
        slug = kind.split()[0].lower()
        home, keys = workdir / f"home-{slug}", workdir / f"keys-{slug}"
        _fresh_team(home, keys)
        wall, cpu, lines = run_cli(source, home, keys)
        imported = sum("imported (xgboost)" in line for line in lines)
        if imported != versions:
            raise RuntimeError(f"{imported} of {versions} imported: {lines[:3]}")
        again_wall, again_cpu, again = run_cli(source, home, keys)
        skipped = sum("skipped: already registered" in line for line in again)
        rates[kind] = versions / wall
        print(
            f"`signoff import mlflow` of {versions} versions ({kind}), one new process: "
            f"{wall:.2f} s wall, {cpu:.2f} s CPU: {versions / wall:.1f} versions/s "
            f"({versions / cpu:.1f} per CPU s)"
        )
        print(
            f"  the same again ({skipped} skipped): {again_wall:.2f} s wall, {again_cpu:.2f} s CPU"
        )
        team = _fresh_team(workdir / f"home-{slug}-steps", workdir / f"keys-{slug}-steps")
        in_wall, in_cpu, steps = run_in_process(source, team, profile)
        print(
            f"  in process (import_mlflow): {in_wall:.2f} s wall, {in_cpu:.2f} s CPU "
            f"({versions / in_wall:.1f} versions/s); CPU per step, per version:"
        )
        for label in (READ, LOAD, PROFILE, METRICS, STORE, SIGN, RECORD, SKIP):
            seconds = steps.cpu.get(label, 0.0)
            share = seconds / in_cpu if in_cpu else 0.0
            print(f"    {label:<40} {1000 * seconds / versions:7.1f} ms {share:6.1%}")
        other = in_cpu - sum(steps.cpu.values())
        print(f"    {'other':<40} {1000 * other / versions:7.1f} ms {other / in_cpu:6.1%}")
    with contextlib.suppress(OSError):
        print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return rates


def test_bench_mlflow_import() -> None:
    versions = int(os.environ.get("BENCH_VERSIONS", VERSIONS))
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as scratch:
        rates = bench(Path(scratch), versions)
    assert all(rate > 0 for rate in rates.values())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--versions", type=int, default=VERSIONS)
    parser.add_argument("--profile", action="store_true", help="Print cProfile's top calls.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as scratch:
        bench(Path(scratch), args.versions, args.profile)
