"""Benchmark: the registry's in-process throughput on a PostgreSQL team store and on the DuckDB file.

Run it as a script (``python tests/benchmarks/bench_team_registry.py [--versions N]``) or under
pytest (``pytest tests/benchmarks/bench_team_registry.py -s``). A throwaway PostgreSQL server is
started from the system's binaries. Two figures per backend, in the same run:

- versions/s: `api.register_model` of a fitted estimator with the profile of its 500-row frame
  (artifact written, dataset profiled, one signed event, one transaction);
- stage moves/s: request, approve and promote of each version to a stage (three signed
  transactions, the quorum and the stage holder proven against the log before the promotion).

Each log is verified at the end. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

VERSIONS = 60
ROWS = 500
SEED = 20261204
POLICY = """
version = 1
stages = ["dev"]

[stage.dev]
approvals = 1
approver_roles = ["reviewer"]
gates = []
"""


def _frame_and_models(count: int) -> tuple[Any, list[Any]]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(SEED)
    frame = pd.DataFrame(rng.normal(size=(ROWS, 5)), columns=[f"x{i}" for i in range(5)])
    frame["y"] = (frame["x0"] + rng.normal(scale=0.5, size=ROWS) > 0).astype(int)
    features = frame.drop(columns="y")
    models = [
        LogisticRegression(C=1.0 + n / 10, max_iter=300).fit(features, frame["y"])
        for n in range(count)
    ]
    return frame, models


def _run(root: Path, url: str | None, count: int) -> dict[str, float]:
    from console import api
    from console.auditing.trail import verify_store
    from console.release.decisions import decide
    from console.release.deployments import promote
    from console.release.policy import set_policy
    from console.release.requests import request_promotion
    from tests.conftest import make_team

    team = make_team(root / "home", root / "keys", url=url)
    set_policy(team.store, team["ada"], POLICY, "bench-policy.toml")
    frame, models = _frame_and_models(count)
    started = time.perf_counter()
    for model in models:
        api.register_model(team.store, team["dana"], "bench", model, frame, target="y")
    registering = time.perf_counter() - started
    started = time.perf_counter()
    for version in range(1, count + 1):
        opened = request_promotion(team.store, team["dana"], "bench", version, "dev", "bench")
        decide(team.store, team["rita"], opened.id, "approve", "bench")
        promote(team.store, team["rel"], opened.id)
    moving = time.perf_counter() - started
    assert verify_store(team.store).ok
    team.store.dispose()
    return {"versions_s": count / registering, "moves_s": count / moving}


def bench(count: int = VERSIONS) -> dict[str, dict[str, float]]:
    import psycopg

    from tests.postgres_server import running_server

    root = Path(tempfile.mkdtemp(prefix="bench-team-registry-"))
    figures: dict[str, dict[str, float]] = {}
    with running_server(port=54341) as server:
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench_registry")
        figures["postgresql"] = _run(root / "pg", server.url("bench_registry"), count)
        figures["duckdb"] = _run(root / "duckdb", None, count)
    pg, dk = figures["postgresql"], figures["duckdb"]
    print(f"\nregistry in-process, {count} versions of a {ROWS}-row frame (2 cores)")
    print(f"{'':>26}  {'postgresql':>10}  {'duckdb file':>11}  {'ratio':>6}")
    for key, label in (("versions_s", "versions/s (with profile)"), ("moves_s", "stage moves/s")):
        print(f"{label:>26}  {pg[key]:>10.1f}  {dk[key]:>11.1f}  {pg[key] / dk[key]:>5.2f}x")
    return figures


def test_team_registry_throughput() -> None:
    figures = bench(count=30)
    assert all(value > 0 for f in figures.values() for value in f.values())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=VERSIONS)
    bench(parser.parse_args().versions)
