"""Console speed at scale: first paint, screen switches and audit paging on a big store.

A generated store with 10,000 models, 100,000 versions and 1,000,000 audit events (rows
written straight with DuckDB SQL: the console only reads them, signatures are not checked).
Prints ratios against a bare Textual app measured the same way in the same run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
from textual.app import App, ComposeResult
from textual.widgets import Label

from console.auditing import list_events
from console.store.db import Store
from console.tui.app import make_app
from tests.conftest import make_team

MODELS = int(os.environ.get("BENCH_MODELS", "10000"))
VERSIONS = int(os.environ.get("BENCH_VERSIONS", "100000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
SIZE = (120, 40)


def build_big_store(root: Path) -> Store:
    team = make_team(root / "home", root / "keys")
    team.store.dispose()
    con = duckdb.connect(str(root / "home" / "signoff.duckdb"))
    try:
        con.execute(
            "INSERT INTO models SELECT printf('model-%05d', i), 'team-' || (i % 40), "
            "'generated', ['low','medium','high'][1 + i % 3], '', "
            "'2026-01-01T00:00:00.000000Z', 'dana' FROM range(?) t(i)",
            [MODELS],
        )
        con.execute(
            "INSERT INTO model_versions (model, number, artifact_sha256, artifact_format, "
            "trusted_pickle, trusted_types, framework, estimator_class, task_type, input_schema, "
            "params, metrics, train_dataset_sha256, target, parent_number, code_ref, author, "
            "created_at, tags, description) "
            "SELECT printf('model-%05d', i % ?), 1 + i // ?, sha256(i::VARCHAR), 'skops', false, "
            "'[]', 'scikit-learn', 'sklearn.linear_model.LogisticRegression', 'classification', "
            "'[]', '{}', '{\"accuracy\":0.9}', sha256('d'), 'y', NULL, NULL, 'dana', "
            "'2026-01-01T00:00:00.000000Z', '{}', '' FROM range(?) t(i)",
            [MODELS, MODELS, VERSIONS],
        )
        start = con.execute("SELECT max(seq) + 1 FROM audit_events").fetchone()[0]  # type: ignore[index]
        con.execute(
            "INSERT INTO audit_events SELECT ? + i, '2026-01-01T00:00:00.000000Z', 'dana', "
            "'k', 'version.registered', printf('model-%05d:1', i % ?), printf('model-%05d', i % ?), "
            "'{}'::BLOB, '{}'::BLOB, 'p', 'h', 'sig'::BLOB FROM range(?) t(i)",
            [start, MODELS, MODELS, EVENTS],
        )
    finally:
        con.close()
    return Store(root / "home")


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Label("hello")


async def _first_paint(factory: object) -> tuple[float, float]:
    """Seconds to a running, painted app; and until its workers finished loading data."""
    started = time.perf_counter()
    app = factory()  # type: ignore[operator]
    async with app.run_test(size=SIZE) as pilot:
        painted = time.perf_counter() - started
        await app.workers.wait_for_complete()
        await pilot.pause()
        loaded = time.perf_counter() - started
    return painted, loaded


async def _switches(store: Store) -> dict[str, tuple[float, float]]:
    timings: dict[str, tuple[float, float]] = {}
    app = make_app(store, user="rita")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        for key in ["m", "i", "a", "l", "u", "d", "m"]:
            started = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            shown = time.perf_counter() - started
            await app.workers.wait_for_complete()
            await pilot.pause()
            timings[f"{key} -> {type(app.screen).__name__}"] = (
                shown,
                time.perf_counter() - started,
            )
    return timings


def test_console_at_scale() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        store = build_big_store(Path(scratch))
        print(
            f"\ngenerated {MODELS} models, {VERSIONS} versions, {EVENTS} events in "
            f"{time.perf_counter() - started:.1f} s"
        )
        bare = [asyncio.run(_first_paint(Bare)) for _ in range(3)]
        ours = [asyncio.run(_first_paint(lambda: make_app(store, user="rita"))) for _ in range(3)]
        bare_paint = statistics.median(b[0] for b in bare)
        our_paint = statistics.median(o[0] for o in ours)
        our_loaded = statistics.median(o[1] for o in ours)
        print(
            f"first paint: dashboard {our_paint * 1000:.0f} ms vs bare Textual app "
            f"{bare_paint * 1000:.0f} ms: ratio {our_paint / bare_paint:.2f}x (goal <= 2x); "
            f"dashboard data loaded at {our_loaded * 1000:.0f} ms"
        )
        for name, (shown, loaded) in asyncio.run(_switches(store)).items():
            print(
                f"switch {name}: shown in {shown * 1000:.0f} ms (goal <= 150 ms), "
                f"data loaded in {loaded * 1000:.0f} ms"
            )
        size = EVENTS
        pages = []
        for before in (None, size // 2, 200):
            t0 = time.perf_counter()
            for _ in range(5):
                list_events(store, before=before, limit=50)
            pages.append((before, (time.perf_counter() - t0) / 5))
        print(
            "audit log page of 50: "
            + ", ".join(
                f"{'newest' if b is None else f'before seq {b}'} {t * 1000:.1f} ms"
                for b, t in pages
            )
            + " (constant per page: keyset pagination)"
        )
        filtered = time.perf_counter()
        list_events(store, model="model-00042", limit=50)
        print(f"audit log page filtered by model: {(time.perf_counter() - filtered) * 1000:.1f} ms")


if __name__ == "__main__":
    test_console_at_scale()
