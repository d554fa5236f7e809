"""Benchmark: a compliance report of a model whose audit trail holds 10,000 events.

Run under pytest (``pytest -q -s tests/benchmarks/bench_report.py``) or as a script
(``python tests/benchmarks/bench_report.py [--events N]``). Prints the seconds and pages of
the report, and the ratio against verifying the same log alone (a reference measured in the
same run: the report verifies the log too, then lays out every event of the model). Nothing
here asserts on time, only on correctness.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: make `audit`, `console`, `tests` importable
    sys.path.insert(0, str(REPO))

from console.auditing.log import append_uncatalogued_event  # noqa: E402
from console.auditing.trail import verify_store  # noqa: E402
from reports.compliance import build_report  # noqa: E402
from tests.conftest import make_team  # noqa: E402
from tests.workflow_helpers import record_validation, register_versions  # noqa: E402

EVENTS = 10_000
MODEL = "tumour"


def run(events: int = EVENTS) -> tuple[float, int, float]:
    """(report seconds, pages, report / verification ratio) for a model with `events` events."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
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
        appended = time.perf_counter() - started

        started = time.perf_counter()
        verification = verify_store(team.store)
        verify_seconds = time.perf_counter() - started
        assert verification.ok

        started = time.perf_counter()
        result = build_report(
            team.store, MODEL, 1, "eu-ai-act", since=None, as_of=None, generated_by="aud"
        )
        seconds = time.perf_counter() - started
        assert result.pdf_bytes.startswith(b"%PDF-") and result.log_size == verification.size
        team.store.dispose()
    ratio = seconds / verify_seconds
    print(
        f"\nreport of {MODEL} with {events} model events (log size {result.log_size}): "
        f"{seconds:.2f} s, {result.pages} pages, {result.pages / seconds:.1f} pages/s; "
        f"{ratio:.1f}x a verification of the same log ({verify_seconds:.2f} s); "
        f"appending the events took {appended:.1f} s"
    )
    return seconds, result.pages, ratio


def test_report_of_a_model_with_ten_thousand_events() -> None:
    seconds, pages, _ratio = run()
    assert pages > 100 and seconds > 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=EVENTS)
    run(parser.parse_args().events)
