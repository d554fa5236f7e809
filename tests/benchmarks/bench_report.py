"""Benchmark: a compliance report of a model whose audit trail holds 10,000 (or more) events.

Run under pytest (``pytest -q -s tests/benchmarks/bench_report.py``: 10,000 events) or as a
script (``python tests/benchmarks/bench_report.py --events 10000 100000``). For each size it
builds a store, then makes the report in a child process of its own and prints its seconds,
pages and pages/s, the share of time spent reading (the log read, verified, the model's rows
proven, the evidence read), laying out (the story and the first pass, which draws nothing) and
writing (the pass that draws the pages, and saving), and the child's peak memory. References
measured in the same run: verifying the same log alone, and the peak memory of the smallest
report. Goals (issue 18): 10,000 events <= 3 s; 100,000 events <= 30 s with peak memory within
1.5x of the 10,000-event report. Nothing here asserts on time, only on correctness.
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

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: make `audit`, `console`, `tests` importable
    sys.path.insert(0, str(REPO))

EVENTS = 10_000
MODEL = "tumour"


def build_store(root: Path, events: int) -> float:
    """A team store whose model has `events` events after its registration; seconds taken."""
    from console.auditing.log import append_uncatalogued_event
    from tests.conftest import make_team
    from tests.workflow_helpers import record_validation, register_versions

    team = make_team(root / "home", root / "keys")
    register_versions(team, 1, model=MODEL)
    record_validation(team, MODEL, 1)
    started = time.perf_counter()
    with team.store.session() as session:
        for n in range(events):
            append_uncatalogued_event(
                session,
                team["rel"],
                "monitoring.observed",
                f"{MODEL}:1",
                {"model": MODEL, "version": 1, "batch": n, "rows": 1000 + n % 97},
                ts=team.store.clock(),
                model=MODEL,
            )
    team.store.dispose()
    return time.perf_counter() - started


def report_in_this_process(home: Path) -> dict[str, float | int]:
    """The child's part: verify the log (the reference), then make the report, timing phases."""
    from console.api import open_store
    from console.auditing.trail import verify_store
    from reports.compliance import build_report

    store = open_store(home)
    started = time.perf_counter()
    verification = verify_store(store)
    verify_seconds = time.perf_counter() - started
    assert verification.ok
    marks: dict[str, float] = {}

    def progress(label: str, _fraction: float) -> None:
        if label == "evidence read":
            marks.setdefault("evidence read", time.perf_counter())
        elif label.startswith("laying out (pass 2"):  # the first pass draws nothing
            marks.setdefault("drawing", time.perf_counter())

    cpu_started = _cpu()
    started = time.perf_counter()
    result = build_report(
        store, MODEL, 1, "eu-ai-act", since=None, as_of=None, generated_by="aud", progress=progress
    )
    ended = time.perf_counter()
    cpu = _cpu() - cpu_started
    assert result.pdf_bytes.startswith(b"%PDF-") and result.log_size == verification.size
    # Reading ends once the evidence is read; the story and the first pass are laying out.
    reading = marks.get("evidence read", started) - started
    layout_end = marks.get("drawing", ended)
    return {
        "seconds": ended - started,
        "pages": result.pages,
        "log_size": result.log_size,
        "verify_seconds": verify_seconds,
        "reading": reading,
        "laying_out": layout_end - started - reading,
        "writing": ended - layout_end,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_seconds": cpu,
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the verifier's workers): a
    measure that other load on the machine disturbs far less than the wall clock."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def run(events: int = EVENTS, keep: Path | None = None) -> dict[str, float | int]:
    """Build a store of `events` model events and report on it in a child process.

    With `keep`, the store is built once in `keep/<events>` and reused by later runs
    (appending 100,000 events takes minutes); its appending time is then 0.
    """
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) if keep is None else keep / str(events)
        appended = 0.0
        if not (root / "home").exists():
            appended = build_store(root, events)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        child = subprocess.run(
            [sys.executable, __file__, "--report-only", str(root / "home")],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        figures: dict[str, float | int] = json.loads(child.stdout.strip().splitlines()[-1])
    figures["appended_seconds"] = appended
    figures["events"] = events
    return figures


def show(figures: dict[str, float | int], reference_mib: float) -> None:
    seconds = float(figures["seconds"])
    share = {k: 100 * float(figures[k]) / seconds for k in ("reading", "laying_out", "writing")}
    print(
        f"\nreport of {MODEL} with {figures['events']} model events (log size "
        f"{figures['log_size']}): {seconds:.2f} s, {figures['pages']} pages, "
        f"{int(figures['pages']) / seconds:.1f} pages/s; "
        f"{seconds / float(figures['verify_seconds']):.1f}x a verification of the same log "
        f"({float(figures['verify_seconds']):.2f} s); CPU {float(figures['cpu_seconds']):.2f} s\n"
        f"   time: reading {share['reading']:.0f}%, laying out {share['laying_out']:.0f}%, "
        f"writing {share['writing']:.0f}%; peak memory {float(figures['peak_mib']):.0f} MiB "
        f"({float(figures['peak_mib']) / reference_mib:.2f}x the first report's); "
        f"appending the events took {float(figures['appended_seconds']):.1f} s"
    )


def test_report_of_a_model_with_ten_thousand_events() -> None:
    figures = run()
    show(figures, float(figures["peak_mib"]))
    assert int(figures["pages"]) > 100 and float(figures["seconds"]) > 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[EVENTS])
    parser.add_argument("--keep", type=Path, help="build each store once in this folder, reuse it")
    parser.add_argument("--report-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report_only is not None:
        print(json.dumps(report_in_this_process(args.report_only)))
        sys.exit(0)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    reference: float | None = None
    for count in args.events:
        measured = run(count, args.keep)
        reference = reference or float(measured["peak_mib"])
        show(measured, reference)
