"""Incidents: the alerts of one version and window grouped, listed and resolved together.

Most tests run on a copy of the demo store, where credit-risk v2 drifts in production and
opens 12 drift and decay alerts over four weekly windows (four incidents).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from textual.widgets import DataTable
from textual.worker import WorkerCancelled, WorkerFailed

from console.monitoring.incidents import group_incidents, list_incidents
from console.monitoring.views import AlertView, list_alerts
from console.store.db import Store
from tests.conftest import Runner, one_line_error

Unchanged = Callable[[Path], Callable[[], None]]
MODEL = "credit-risk"


@pytest.fixture
def home(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from fixtures.demo import DEMO_PASSPHRASE

    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    return demo_home


def _alert(
    id: int,
    start: str,
    kind: str = "drift.psi",
    subject: str = "income",
    value: float | None = 0.5,
    threshold: float | None = 0.25,
    status: str = "open",
    version: int = 2,
    model: str = MODEL,
) -> AlertView:
    return AlertView(
        id=id, model=model, version=version, kind=kind, subject=subject,
        window_start=start, window_end=start + "+7d", window_id=1, value=value,
        threshold=threshold, detail={}, status=status, opened_at="", opened_by="raj",
        event_seq=id, resolved_at=None, resolved_by=None, resolution="", resolved_seq=None,
    )  # fmt: skip


def sql(home: Path, statement: str) -> object:
    con = duckdb.connect(str(home / "signoff.duckdb"))
    try:
        row = con.execute(statement).fetchone()
        return None if row is None else row[0]
    finally:
        con.close()


def last_event(home: Path) -> tuple[str, dict[str, Any]]:
    """The action and payload of the newest audit event."""
    con = duckdb.connect(str(home / "signoff.duckdb"), read_only=True)
    try:
        row = con.execute(
            "SELECT action, payload FROM audit_events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    payload: dict[str, Any] = json.loads(bytes(row[1]))
    return str(row[0]), payload


def cli_json(signoff: Runner, home: Path, *args: object) -> dict[str, Any]:
    result = signoff(*args, "--json", "--home", home)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


# ---- grouping, pure ----------------------------------------------------------------------------


def test_an_incident_is_one_version_and_window_numbered_by_its_lowest_alert() -> None:
    alerts = [
        _alert(7, "w1", "performance.decay", "accuracy", 0.06, 0.05),
        _alert(3, "w1", "drift.psi", "income", 1.0, 0.25),  # 4x its threshold: the worst
        _alert(4, "w1", "drift.ks", "income", 0.2, 0.1, status="resolved"),
        _alert(5, "w2", "drift.ks", "age", 0.2, 0.1, status="resolved"),
        _alert(6, "w1", "drift.psi", "income", 2.0, 0.25, version=3),  # another version
        _alert(8, "w1", "quality.missing", "age", None, None),  # no number: never the worst
    ]
    incidents = group_incidents(alerts)
    assert [(i.id, i.version, i.window_start) for i in incidents] == [
        (3, 2, "w1"),
        (5, 2, "w2"),
        (6, 3, "w1"),
    ]
    first = incidents[0]
    assert first.alert_ids == [3, 4, 7, 8]
    assert [a.id for a in first.open_alerts] == [3, 7, 8]
    assert first.kinds == ["drift.ks", "drift.psi", "performance.decay", "quality.missing"]
    assert first.subjects == ["income", "accuracy", "age"]
    assert first.worst.id == 3 and first.is_open
    assert "4 alert(s)" in first.summary() and "worst drift.psi income 1 vs 0.25" in first.summary()
    assert incidents[1].status == "resolved"  # every alert in it resolved
    assert group_incidents([]) == []


# ---- on the demo store ---------------------------------------------------------------------------


def test_the_demo_episode_is_four_incidents_holding_every_alert(
    home: Path, signoff: Runner
) -> None:
    alerts = list_alerts(Store(home), MODEL, status="open")
    data = cli_json(signoff, home, "monitor", "incidents", MODEL)
    incidents = data["incidents"]
    assert isinstance(incidents, list) and 1 < len(incidents) < len(alerts)
    listed = sorted(a for i in incidents for a in i["alerts"])
    assert listed == sorted(a.id for a in alerts)  # every alert in exactly one incident
    for incident in incidents:
        members = [a for a in alerts if a.id in incident["alerts"]]
        assert incident["incident"] == min(incident["alerts"])
        assert {(a.version, a.window_start, a.window_end) for a in members} == {
            (incident["version"], incident["window_start"], incident["window_end"])
        }
        assert set(incident["kinds"]) == {a.kind for a in members}
    mixed = [i for i in incidents if "performance.decay" in i["kinds"] and len(i["kinds"]) > 1]
    assert mixed, "drift and decay of one window are one incident"
    text = signoff("monitor", "incidents", "--home", home).output
    assert text.splitlines()[0].split()[:4] == ["INCIDENT", "VERSION", "WINDOW", "ALERTS"]
    assert len(text.splitlines()) == len(incidents) + 1


def test_an_incident_is_resolved_with_one_signed_event(home: Path, signoff: Runner) -> None:
    # The last open incident of several alerts (the demo's age band has its own fairness bound,
    # so some weeks hold one fairness alert alone).
    incident = [i for i in list_incidents(Store(home), MODEL, status="open") if len(i.alerts) > 1][
        -1
    ]
    assert len(incident.alerts) > 1
    events = sql(home, "SELECT count(*) FROM audit_events")
    result = signoff(
        "monitor", "resolve", "--incident", incident.id, "--reason", "income field fixed (INC-7)",
        "--as", "raj", "--home", home,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"resolved incident {incident.id}: {len(incident.alerts)} alert(s)" in result.output
    assert sql(home, "SELECT count(*) FROM audit_events") == events + 1  # type: ignore[operator]
    action, payload = last_event(home)
    assert action == "monitoring.alerts_resolved"
    assert payload["alerts"] == incident.alert_ids and payload["incident"] == incident.id
    assert payload["reason"] == "income field fixed (INC-7)" and payload["role"] == "risk-officer"
    after = {i.id: i for i in list_incidents(Store(home), MODEL)}
    assert after[incident.id].status == "resolved"
    assert all(a.resolution == "income field fixed (INC-7)" for a in after[incident.id].alerts)
    assert len({a.resolved_seq for a in after[incident.id].alerts}) == 1
    shown = signoff("monitor", "incidents", MODEL, "--home", home).output
    assert f"\n{incident.id} " not in shown  # no longer listed as open
    assert f"\n{incident.id} " in signoff("monitor", "incidents", "--all", "--home", home).output
    assert signoff("audit", "verify", "--home", home).exit_code == 0


def test_several_ids_are_resolved_together_and_the_log_proves_them(
    home: Path, signoff: Runner
) -> None:
    ids = [a.id for a in list_alerts(Store(home), MODEL, status="open")][:3]
    data = cli_json(
        signoff, home, "monitor", "resolve", *ids, "--reason", "seasonal", "--as", "raj"
    )
    assert data["incident"] is None and [a["id"] for a in data["alerts"]] == ids
    assert signoff("audit", "verify", "--home", home).exit_code == 0
    # A resolved alert set open again in the table is a difference the log names.
    sql(
        home,
        f"UPDATE monitoring_alerts SET status = 'open', resolved_seq = NULL WHERE id = {ids[1]}",
    )
    result = signoff("audit", "verify", "--home", home)
    assert result.exit_code == 1 and "monitoring_alerts" in result.output, result.output


def test_a_bad_resolution_is_refused_whole(
    home: Path, signoff: Runner, unchanged: Unchanged
) -> None:
    incidents = list_incidents(Store(home), MODEL, status="open")
    first = incidents[0].alerts[0].id
    big = next(i for i in incidents if len(i.alerts) > 1)
    signoff("monitor", "resolve", first, "--reason", "seen", "--as", "raj", "--home", home)
    # An alert of another model, planted in the table, so that one request mixes two models.
    sql(
        home,
        "INSERT INTO monitoring_alerts SELECT 999, 'diabetes-regressor', 1, kind, subject, "
        "window_start, window_end, window_id, value, threshold, detail, 'open', opened_at, "
        f"opened_by, event_seq, NULL, NULL, '', NULL FROM monitoring_alerts WHERE id = {big.id}",
    )
    check = unchanged(home)
    cases = {
        "no alert 4242": (big.id, 4242),
        "resolved already": (big.id, first),
        "several models": (big.id, 999),
        "needs --reason": (big.id,),
        "not both": ("--incident", big.id, big.alert_ids[0]),
        f"belongs to incident {big.id}": ("--incident", big.alert_ids[1]),
        "--incident N": (),
    }
    for expected, args in cases.items():
        reason = "" if expected == "needs --reason" else "ok"
        result = signoff(
            "monitor", "resolve", *args, "--reason", reason, "--as", "raj", "--home", home
        )
        assert expected in one_line_error(result, 2), (expected, result.output)
        check()
    result = signoff("monitor", "resolve", "--incident", big.id, "--reason", "x", "--as", "rel",
                     "--home", home)  # fmt: skip
    assert "needs the role risk-officer or admin" in one_line_error(result, 3)
    check()
    done = list_incidents(Store(home), MODEL, status="resolved")
    assert [i.id for i in done] == ([incidents[0].id] if len(incidents[0].alerts) == 1 else [])


# ---- the console ---------------------------------------------------------------------------------


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _rows(table: DataTable[Any]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_the_console_shows_incidents_not_alert_rows(home: Path) -> None:
    from console.tui.app import make_app
    from tests.conftest import demo_store

    incidents = list_incidents(Store(home), status="open")
    alerts = list_alerts(Store(home), status="open")
    assert len(incidents) < len(alerts)
    app = make_app(demo_store(home), user="raj")
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        failing = _rows(app.screen.query_one("#failing", DataTable))
        listed = [row for row in failing if row[1].startswith("incident ")]
        assert [row[1] for row in listed] == [f"incident {i.id}" for i in reversed(incidents)]
        for row, incident in zip(listed, reversed(incidents), strict=True):
            assert row[2].startswith(f"{len(incident.alerts)} alert(s): {incident.subjects[0]}")
        assert not [row for row in failing if row[1] == "alert"]
        await pilot.press("o")
        await _settle(pilot)
        shown = _rows(app.screen.query_one("#monitoring-alert-table", DataTable))
        # The monitoring screen lists the latest window first (fairness alerts recorded after
        # later weeks' drift alerts give older windows higher numbers).
        latest = sorted(incidents, key=lambda i: (i.window_start, i.id), reverse=True)
        assert [row[0] for row in shown] == [str(i.id) for i in latest]
        assert [row[2] for row in shown] == [str(len(i.alerts)) for i in latest]


# ---- ingest: rows dated in the version's serving range -----------------------------------------


def _week_log(home: Path, tmp_path: Path, stamps: list[str] | None, suffix: str) -> Path:
    """The demo's last logged week again (new request ids), optionally re-dated row by row."""
    import pandas as pd

    frame = pd.read_csv(sorted((home / "demo-data").glob(f"{MODEL}-predictions-*.csv"))[-1])
    frame = frame.head(200)
    frame["request_id"] = frame["request_id"] + suffix
    if stamps is not None:
        frame["timestamp"] = [stamps[i % len(stamps)] for i in range(len(frame))]
    path = tmp_path / f"log{suffix}.csv"
    frame.to_csv(path, index=False)
    return path


def _served_from(home: Path) -> str:
    return str(
        sql(
            home,
            "SELECT min(occurred_at) FROM deployments WHERE model = 'credit-risk' "
            "AND stage = 'production' AND version = 2",
        )
    )


def test_rows_before_the_version_served_or_in_the_future_are_refused(
    home: Path, signoff: Runner, tmp_path: Path, unchanged: Unchanged
) -> None:
    from datetime import UTC, datetime, timedelta

    served = _served_from(home)  # the demo's weeks of traffic come before it: a backfill
    ingest = ["monitor", "ingest", MODEL, "--stage", "production", "--as", "rel", "--home", home]
    check = unchanged(home)
    old = _week_log(home, tmp_path, None, "-old")
    line = one_line_error(signoff(*ingest, "--predictions", old))
    assert "of 200 rows, 200 are dated before their version served production" in line
    assert f"v2 from {served[:10]} {served[11:16]}" in line and "--allow-backfill" in line
    soon = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = datetime.strptime(served, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(hours=1)
    fine = after.strftime("%Y-%m-%dT%H:%M:%SZ")
    mixed = _week_log(home, tmp_path, [fine, fine, fine, soon], "-soon")
    line = one_line_error(signoff(*ingest, "--predictions", mixed))
    assert "of 200 rows, 50 are dated after now (+5 min)" in line and soon in line
    line = one_line_error(signoff(*ingest, "--predictions", old, "--allow-backfill", " "))
    assert "--allow-backfill needs a reason" in line
    check()
    # Inside the range: stored with no backfill; outside it with a reason, recorded.
    good = _week_log(home, tmp_path, [fine], "-good")
    assert signoff(*ingest, "--predictions", good).exit_code == 0
    assert "backfill" not in last_event(home)[1]
    result = signoff(*ingest, "--predictions", old, "--allow-backfill", "replayed from the archive")
    assert result.exit_code == 0 and "backfill: 200 rows before serving" in result.output
    payload = last_event(home)[1]
    assert payload["backfill"] == {
        "reason": "replayed from the archive",
        "before_serving": 200,
        "after_now": 0,
    }
    assert signoff("audit", "verify", "--home", home).exit_code == 0
