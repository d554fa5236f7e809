"""Benchmark: signed write transactions per second from 1, 4 and 8 client processes, on a
PostgreSQL team store against the DuckDB file with the same clients.

Run it as a script (``python tests/benchmarks/bench_team_store.py [--seconds 5]``) or under
pytest (``pytest tests/benchmarks/bench_team_store.py -s``). A throwaway PostgreSQL server is
started from the system's binaries (tests/postgres_server.py). Each client is a forked process
with its own engine; a transaction is a real unit of work: `Store.session()` (on PostgreSQL the
store's write lock, on DuckDB the file's), the actor checked, one signed audit event appended,
commit. It prints transactions per second, the longest wait of any one transaction, busy
refusals, the PostgreSQL / DuckDB ratio, and checks that both logs verify.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CLIENTS = (1, 4, 8)
PASSPHRASE = b"bench passphrase"
FORK = multiprocessing.get_context("fork")


def _payload(n: int) -> dict[str, Any]:
    """A catalogued event (the log refuses any other): a report's record, the cheapest one."""
    return {
        "model": None, "version": None, "framework": None, "since": None,
        "log_size": n, "sha256": "0" * 64, "pages": 1, "bytes": 0,
    }  # fmt: skip


def _client(home: Path, url: str | None, signer: Any, seconds: float, results: Any) -> None:
    from console.auditing.log import append_event
    from console.errors import StoreBusy
    from console.identity.actor import require_actor
    from console.store.db import Store

    store = Store(home, url=url, lock_timeout=10)
    done, busy, longest = 0, 0, 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with store.session() as session:
                require_actor(session, signer)
                append_event(
                    session, signer, "report.generated", f"report:{done}", _payload(done),
                    ts=store.clock(),
                )  # fmt: skip
            done += 1
        except StoreBusy:
            busy += 1
        longest = max(longest, time.monotonic() - started)
    results.put((done, busy, longest))


def _run(
    home: Path, url: str | None, signer: Any, clients: int, seconds: float
) -> dict[str, float]:
    results = FORK.Queue()
    workers = [
        FORK.Process(target=_client, args=(home, url, signer, seconds, results))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join()
    done = sum(o[0] for o in outcomes)
    return {
        "tps": done / seconds,
        "busy": sum(o[1] for o in outcomes),
        "longest_s": max(o[2] for o in outcomes),
    }


def _store(home: Path, url: str | None, signer: Any) -> Any:
    from console.identity.genesis import init_store
    from console.store.db import Store

    store = Store(home, url=url)
    if url is not None:
        store.artifacts_dir = home / "artifacts"
    init_store(store, signer)
    store.dispose()
    return store


def bench(seconds: float = 5.0) -> dict[str, dict[int, dict[str, float]]]:
    import psycopg

    from audit.keys import KeyStore, Signer
    from console.auditing.trail import verify_store
    from tests.postgres_server import running_server

    root = Path(tempfile.mkdtemp(prefix="bench-team-"))
    keys = KeyStore(root / "keys")
    keys.create("ada", PASSPHRASE)
    signer = Signer("ada", keys.load_private("ada", PASSPHRASE))
    figures: dict[str, dict[int, dict[str, float]]] = {"postgresql": {}, "duckdb": {}}
    with running_server(port=54339) as server:
        for clients in CLIENTS:
            name = f"bench_{clients}"
            with psycopg.connect(server.url(), autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {name}")
            url = server.url(name)
            team = _store(root / f"pg-{clients}", url, signer)
            figures["postgresql"][clients] = _run(team.home, url, signer, clients, seconds)
            assert verify_store(team).ok
            team.dispose()
            local = _store(root / f"duckdb-{clients}", None, signer)
            figures["duckdb"][clients] = _run(local.home, None, signer, clients, seconds)
            assert verify_store(local).ok
            local.dispose()
    print(f"\nsigned write transactions per second ({seconds:.0f} s per run, 2 cores)")
    print(
        f"{'clients':>7}  {'postgresql':>10}  {'duckdb file':>11}  {'ratio':>6}  "
        f"{'longest wait pg / duckdb':>25}  {'busy pg / duckdb':>16}"
    )
    for clients in CLIENTS:
        pg, dk = figures["postgresql"][clients], figures["duckdb"][clients]
        ratio = pg["tps"] / dk["tps"] if dk["tps"] else float("inf")
        print(
            f"{clients:>7}  {pg['tps']:>10.1f}  {dk['tps']:>11.1f}  {ratio:>5.1f}x  "
            f"{pg['longest_s']:>11.3f} s / {dk['longest_s']:.3f} s  "
            f"{int(pg['busy']):>8} / {int(dk['busy'])}"
        )
    return figures


def test_team_store_write_throughput() -> None:
    figures = bench(seconds=3.0)
    assert all(f["tps"] > 0 for f in figures["postgresql"].values())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    bench(parser.parse_args().seconds)
