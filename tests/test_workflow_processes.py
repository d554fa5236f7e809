"""Workflow under real processes: concurrent approvals and `kill -9` in the middle of a promotion."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from console.auditing.trail import verify_store
from console.release.decisions import decide
from console.release.requests import get_request, list_requests, request_promotion
from tests.conftest import PASSPHRASE, Team
from tests.workflow_helpers import record_validation, register_versions, use_policy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def flow(team: Team, tmp_path: Path) -> Team:
    register_versions(team, 2)
    use_policy(team, tmp_path)
    for version in (1, 2):
        record_validation(team, "tumour", version)
    return team


def _cli(team: Team, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SIGNOFF_HOME": str(team.home),
        "SIGNOFF_KEYS": str(team.keys),
        "SIGNOFF_PASSPHRASE": PASSPHRASE,
        "SIGNOFF_LOCK_TIMEOUT": "30",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "console", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_approving_at_once_lose_nothing(flow: Team) -> None:
    first = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    decide(flow.store, flow["rita"], first.id, "approve", "ok")
    from console.release.deployments import promote

    promote(flow.store, flow["rel"], first.id)
    staged = request_promotion(flow.store, flow["dana"], "tumour", 1, "staging", "go")
    flow.store.dispose()
    procs = [
        _cli(flow, "approve", str(staged.id), "--comment", "ok", "--as", name)
        for name in ("rita", "raj")
    ]
    results = [
        (
            p.wait(timeout=120),
            p.stdout.read() if p.stdout else "",
            p.stderr.read() if p.stderr else "",
        )
        for p in procs
    ]
    assert all(code == 0 for code, _, _ in results), results
    view = get_request(flow.store, staged.id)
    assert sorted(view.counted) == ["raj", "rita"]
    assert view.ready
    assert verify_store(flow.store).ok


def test_a_process_that_waits_too_long_for_the_lock_is_told_so(flow: Team) -> None:
    view = request_promotion(flow.store, flow["dana"], "tumour", 1, "dev", "go")
    flow.store.dispose()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)",
            str(flow.home / "signoff.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        env_timeout = {"SIGNOFF_LOCK_TIMEOUT": "1"}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "console",
                "approve",
                str(view.id),
                "--comment",
                "ok",
                "--as",
                "rita",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "SIGNOFF_HOME": str(flow.home),
                "SIGNOFF_KEYS": str(flow.keys),
                "SIGNOFF_PASSPHRASE": PASSPHRASE,
                **env_timeout,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 2 and "busy" in proc.stderr and "Traceback" not in proc.stderr
    finally:
        holder.kill()
        holder.wait()
    assert get_request(flow.store, view.id).approvals == []


def _consistent(team: Team) -> None:
    """The stage equals the replay of its deployments, each deployment has its event, and the
    log verifies."""
    team.store.dispose()
    con = duckdb.connect(str(team.home / "signoff.duckdb"), read_only=True)
    try:
        deployments = con.execute(
            "SELECT d.version, d.kind, d.event_seq, e.action FROM deployments d "
            "LEFT JOIN audit_events e ON e.seq = d.event_seq WHERE d.stage = 'dev' ORDER BY d.id"
        ).fetchall()
        stage = con.execute(
            "SELECT version FROM stages WHERE model = 'tumour' AND stage = 'dev'"
        ).fetchone()
        promoted = con.execute(
            "SELECT count(*) FROM promotion_requests WHERE status = 'promoted'"
        ).fetchone()
        executed = con.execute(
            "SELECT count(*) FROM audit_events WHERE action = 'promotion.executed'"
        ).fetchone()
    finally:
        con.close()
    assert all(action == "promotion.executed" for _, _, _, action in deployments)
    expected = deployments[-1][0] if deployments else None
    assert (stage[0] if stage else None) == expected
    assert promoted == executed == (len(deployments),)
    result = verify_store(team.store)
    assert result.ok, result.first


def _promote_in_child(team: Team, request_id: int) -> int:
    """Fork a process that runs `promote` (imports already paid), return its pid."""
    from console.release.deployments import promote
    from console.store.db import Store

    team.store.dispose()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            promote(Store(team.home), team["rel"], request_id)
        except BaseException:  # noqa: BLE001 - any failure is an exit code here
            code = 1
        os._exit(code)
    return pid


def test_kill_9_during_promote_leaves_a_consistent_store(flow: Team) -> None:
    rng = random.Random(1234)
    kills = completed = 0
    durations: list[float] = []
    for round_number in range(50):
        open_ready = [v for v in list_requests(flow.store, pending=True) if v.ready]
        if open_ready:
            request_id = open_ready[0].id
        else:
            version = 2 if _dev_version(flow) == 1 else 1
            view = request_promotion(flow.store, flow["dana"], "tumour", version, "dev", "round")
            decide(flow.store, flow["rita"], view.id, "approve", "ok")
            request_id = view.id
        started = time.monotonic()
        pid = _promote_in_child(flow, request_id)
        if round_number > 0:
            # Aim the kill anywhere inside a typical promotion, sometimes just after it.
            time.sleep(rng.uniform(0, sorted(durations)[len(durations) // 2] * 1.2))
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished == 0:
                os.kill(pid, signal.SIGKILL)
                kills += 1
                os.waitpid(pid, 0)
                _consistent(flow)
                continue
        else:
            os.waitpid(pid, 0)  # calibrate: how long does a promotion take here?
        completed += 1
        durations.append(time.monotonic() - started)
        _consistent(flow)
    assert kills > 0 and completed > 0, (kills, completed)


def _dev_version(team: Team) -> int | None:
    from console.registry.views import get_model

    return get_model(team.store, "tumour").stages.get("dev")
