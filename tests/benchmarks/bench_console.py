"""Console speed at scale: first paint, screen switches and audit paging on a big store.

A generated store with 10,000 models, 100,000 versions and 1,000,000 audit events, every model
in dev, a third in staging and a tenth in production (rows written straight with DuckDB SQL:
the console only reads them, signatures are not checked).

"Painted" is the moment Textual hands a frame of the screen to the terminal driver (the same
hook for our app and for a bare Textual app with one label, in the same run). A switch is
timed from the key press to the new screen's first frame ("shown"), and to the last frame drawn
before the console says it has settled with its data: the app's own signal
(`console.tui.settling.settled`, what the console tests wait on), never a sleep. Meanwhile a
task on the event loop records the longest stall of the UI, and the switch's CPU time is
counted (the whole process, and the UI thread alone): on a loaded machine a wall time also
counts the waits for a core, CPU time does not. Startup is also timed from a fresh process,
imports included, as a person launching `signoff` waits for it.

Same-run references, so a loaded machine can still be read: first paint against a bare
Textual app with one label; each switch against a bare Textual app switching to a screen whose
thread worker hands it 50 rows for a table (no store), measured the same way, before and after
the console's switches (`reference`); and the store's floor, opening it and counting the log,
as every screen's first read does (`store floor`).

Keep the generated store for the next run with `BENCH_STORE=DIR` (building it takes a while);
`BENCH_ONLY=switches` prints the switches and their references only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Label

from console.auditing.trail import audit_size, list_events
from console.store.db import Store
from console.tui.app import make_app
from console.tui.settling import settled
from tests.conftest import make_team

MODELS = int(os.environ.get("BENCH_MODELS", "10000"))
VERSIONS = int(os.environ.get("BENCH_VERSIONS", "100000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
SIZE = (120, 40)
KEYS = ["m", "i", "a", "e", "l", "u", "o", "d", "m"]
ROOT = Path(__file__).resolve().parents[2]


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
        # Every model in dev, a third in staging, a tenth in production, each by a promotion.
        con.execute(
            "INSERT INTO stages (model, stage, version, updated_at) "
            "SELECT printf('model-%05d', i), s.stage, s.version, '2026-01-02T00:00:00.000000Z' "
            "FROM range(?) t(i), (VALUES ('dev', 3, 1), ('staging', 2, 3), "
            "('production', 1, 10)) s(stage, version, every) WHERE i % s.every = 0",
            [MODELS],
        )
        con.execute(
            "INSERT INTO deployments (id, model, stage, kind, version, replaced_version, "
            "request_id, actor, occurred_at, break_glass, reason, event_seq) "
            "SELECT row_number() OVER (), model, stage, 'promotion', version, NULL, NULL, 'rel', "
            "updated_at, false, '', 0 FROM stages"
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


class BareTable(Screen[None]):
    """A screen as plain as Textual makes one: a table filled by a thread worker."""

    def compose(self) -> ComposeResult:
        yield Label("rows")
        yield DataTable()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Seq", "When", "Actor", "Action", "Subject")
        self.call_after_refresh(self.load)

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        rows = [
            (str(i), "2026-01-01 00:00:00", "dana", "version.registered", f"m:{i}")
            for i in range(50)
        ]
        self.app.call_from_thread(self.query_one(DataTable).add_rows, rows)


class BareSwitch(App[None]):
    """The reference switch: a key pushes a `BareTable`."""

    BINDINGS = [Binding("t", "table", "Table")]

    def compose(self) -> ComposeResult:
        yield Label("hello")

    def action_table(self) -> None:
        self.push_screen(BareTable())


def _frames(app: App[Any]) -> list[tuple[float, str]]:
    """Record (time, screen class) of every frame the app hands to its driver."""
    frames: list[tuple[float, str]] = []
    display = app._display

    def record(screen: Any, renderable: Any) -> None:
        frames.append((time.perf_counter(), type(screen).__name__))
        display(screen, renderable)

    app._display = record  # type: ignore[method-assign]
    return frames


async def _first_paint(factory: Callable[[], App[Any]], screen: str) -> float:
    started = time.perf_counter()
    app = factory()
    frames = _frames(app)
    async with app.run_test(size=SIZE):
        await settled(app)
    return next(t for t, name in frames if name == screen) - started


class StallWatch:
    """The longest gap between ticks of a task on the UI's event loop; and the most CPU time
    of the UI thread one step of the loop took (`busiest`): the stall a quiet machine would
    see, where the gap also counts waits for the GIL and for a core on a busy one."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.busiest = 0.0
        self._last: float | None = None

    def reset(self) -> None:
        self.longest, self.busiest, self._last = 0.0, 0.0, None

    @contextlib.contextmanager
    def callbacks(self) -> Iterator[None]:
        """Time (in UI-thread CPU) every callback the event loop runs, meanwhile."""
        run = asyncio.events.Handle._run

        def timed(handle: asyncio.events.Handle) -> None:
            started = time.thread_time()
            try:
                run(handle)
            finally:
                self.busiest = max(self.busiest, time.thread_time() - started)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign, assignment]
        try:
            yield
        finally:
            asyncio.events.Handle._run = run  # type: ignore[method-assign]

    async def run(self) -> None:
        while True:
            now = time.perf_counter()
            if self._last is not None:
                self.longest = max(self.longest, now - self._last)
            self._last = now
            await asyncio.sleep(0.002)


def _console(store: Store, url: str | None = None) -> App[Any]:
    """The console as `signoff` starts it: on the home of a DuckDB file, or on a home and the
    `--db` URL of a team store (either opens after the first frame)."""
    return make_app(store.home, user="rita", url=url)


@dataclass(frozen=True)
class Switch:
    """One key press: to the new screen's first frame, to its last before it settled, the
    longest stall and loop step meanwhile, and the CPU time it took (process, UI thread)."""

    key: str
    screen: str
    shown: float
    settled: float
    stall: float
    busy: float
    cpu: float
    ui_cpu: float


async def _switches(app: App[Any], keys: list[str]) -> list[Switch]:
    rows = []
    frames = _frames(app)
    watch = StallWatch()
    with watch.callbacks():
        async with app.run_test(size=SIZE) as pilot:
            await settled(app)
            task = asyncio.create_task(watch.run())
            for key in keys:
                frames.clear()
                watch.reset()
                cpu, ui_cpu = time.process_time(), time.thread_time()
                started = time.perf_counter()
                await pilot.press(key)
                await settled(app)
                cpu, ui_cpu = time.process_time() - cpu, time.thread_time() - ui_cpu
                name = type(app.screen).__name__
                mine = [t for t, screen in frames if screen == name]
                rows.append(
                    Switch(
                        key,
                        name,
                        mine[0] - started,
                        mine[-1] - started,
                        watch.longest,
                        watch.busiest,
                        cpu,
                        ui_cpu,
                    )
                )
            task.cancel()
    return rows


def _reference(runs: int = 3) -> list[Switch]:
    return [asyncio.run(_switches(BareSwitch(), ["t"]))[0] for _ in range(runs)]


def _store_floor(store: Store, runs: int = 5) -> tuple[float, float]:
    """Median wall and CPU seconds to open the store and count the log: every load's floor."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu, started = time.process_time(), time.perf_counter()
        with store.reading():
            audit_size(store)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


CHILD = """
import sys
from textual.app import App

screen, home = sys.argv[1], sys.argv[2]
display = App._display
def first_frame(self, shown, renderable):
    display(self, shown, renderable)
    if type(shown).__name__ == screen:
        print("painted", flush=True)
        self.exit()
App._display = first_frame
run = App.run
App.run = lambda self, **_: run(self, headless=True, size=(120, 40))
if screen == "Screen":
    from textual.widgets import Label
    class Bare(App):
        def compose(self):
            yield Label("hello")
    Bare().run()
else:
    from console.cli import main
    sys.argv = ["signoff", "--home", home, "--as", "rita"]
    main()
"""


def _process_start(screen: str, home: Path, env: dict[str, str] | None = None) -> float:
    """Seconds from spawning Python to the first frame of `screen`, imports included."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, screen, str(home)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    elapsed = time.perf_counter() - started
    child.wait(timeout=60)
    assert line.strip() == "painted", line
    return elapsed


def _ratio(ours: list[float], bare: list[float]) -> tuple[float, float, float]:
    o, b = statistics.median(ours), statistics.median(bare)
    return o * 1000, b * 1000, o / b


def test_console_at_scale() -> None:
    kept = os.environ.get("BENCH_STORE")
    with contextlib.ExitStack() as stack:
        root = Path(kept) if kept else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if kept and (root / "home" / "signoff.duckdb").exists():
            store = Store(root / "home")  # built by an earlier run with the same sizes
            print(f"\nreusing the store in {root}")
        else:
            started = time.perf_counter()
            store = build_big_store(root)
            print(
                f"\ngenerated {MODELS} models, {VERSIONS} versions, {EVENTS} events in "
                f"{time.perf_counter() - started:.1f} s"
            )
        report(store, switches_only=os.environ.get("BENCH_ONLY") == "switches")


def report(store: Store, env: dict[str, str] | None = None, *, switches_only: bool = False) -> None:
    """Print first paint (in process and from a new process) against a bare Textual app, each
    screen switch, and the audit log's pages, on `store` (`env` reaches a new process's CLI)."""
    url = (env or {}).get("SIGNOFF_DB")
    if switches_only:
        _print_switches(store, url)
        return
    bare, ours = [], []
    for _ in range(7):  # interleaved, so both see the same machine
        bare.append(asyncio.run(_first_paint(Bare, "Screen")))
        ours.append(asyncio.run(_first_paint(lambda: _console(store, url), "DashboardScreen")))
    o, b, r = _ratio(ours, bare)
    print(
        f"first paint in process: dashboard {o:.0f} ms vs bare Textual app {b:.0f} ms: "
        f"ratio {r:.2f}x (goal <= 2x; median of 7)"
    )
    bare, ours = [], []
    for _ in range(5):
        bare.append(_process_start("Screen", store.home, env))
        ours.append(_process_start("DashboardScreen", store.home, env))
    o, b, r = _ratio(ours, bare)
    print(
        f"first paint from a new process (imports included): `signoff` {o:.0f} ms vs "
        f"bare Textual app {b:.0f} ms: ratio {r:.2f}x (median of 5)"
    )
    _print_switches(store, url)
    _print_pages(store)


def _print_switches(store: Store, url: str | None = None) -> None:
    floor, floor_cpu = _store_floor(store)
    before = _reference()
    ours = asyncio.run(_switches(_console(store, url), KEYS))
    reference = before + _reference()
    bare = statistics.median(r.settled for r in reference)
    print(
        f"reference: a bare Textual app's switch to a 50-row table filled by a thread worker: "
        f"shown in {statistics.median(r.shown for r in reference) * 1000:.0f} ms, settled in "
        f"{bare * 1000:.0f} ms, {statistics.median(r.cpu for r in reference) * 1000:.0f} ms "
        f"CPU (median of {len(reference)}, before and after the console's)"
    )
    print(
        f"store floor: open the store and count the log {floor * 1000:.0f} ms, "
        f"{floor_cpu * 1000:.0f} ms CPU (median of 5)"
    )
    for row in ours:
        print(
            f"switch {row.key} -> {row.screen}: shown in {row.shown * 1000:.0f} ms (goal <= 150 "
            f"ms), settled with data in {row.settled * 1000:.0f} ms (goal <= 500 ms; "
            f"{row.settled / bare:.1f}x the reference), {row.cpu * 1000:.0f} ms CPU "
            f"({row.ui_cpu * 1000:.0f} ms on the UI thread), longest UI stall "
            f"{row.stall * 1000:.0f} ms (goal <= 100 ms; longest loop step "
            f"{row.busy * 1000:.0f} ms of UI-thread CPU)"
        )


def _print_pages(store: Store) -> None:
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
            f"{'newest' if b is None else f'before seq {b}'} {t * 1000:.1f} ms" for b, t in pages
        )
        + " (constant per page: keyset pagination)"
    )
    filtered = time.perf_counter()
    list_events(store, model="model-00042", limit=50)
    print(f"audit log page filtered by model: {(time.perf_counter() - filtered) * 1000:.1f} ms")


if __name__ == "__main__":
    test_console_at_scale()
