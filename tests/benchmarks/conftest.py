"""Collects bench_*.py when pytest is pointed at tests/benchmarks, so `make bench` finds them.

pytest only collects test_*.py by default, so `pytest tests/benchmarks` found nothing. The
benchmarks are collected only when the command line names this directory or a file in it, so
`make test` (which runs `pytest tests`) never runs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent


def _names_benchmarks(config: pytest.Config) -> bool:
    base = config.invocation_params.dir
    for arg in config.args:
        path = (base / arg.split("::")[0]).resolve()
        if path == BENCH_DIR or BENCH_DIR in path.parents:
            return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if (
        file_path.suffix == ".py"
        and file_path.name.startswith("bench_")
        and not parent.session.isinitpath(file_path)  # named files are collected anyway
        and _names_benchmarks(parent.config)
    ):
        module: pytest.Module = pytest.Module.from_parent(parent, path=file_path)
        return module
    return None
