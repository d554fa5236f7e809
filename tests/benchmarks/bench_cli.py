"""Benchmark: everyday `signoff` commands as whole processes on the demo store, against `import click`.

Run under pytest (``pytest -q -s tests/benchmarks/bench_cli.py``) or as a script
(``python tests/benchmarks/bench_cli.py [--runs N] [--home DIR] [--from-source]``). Each command runs
N times as a new process (interleaved with the `python -c "import click"` floor, so drifting load
hits all); the table gives each one's median wall time and its ratio to the floor's median in the
same run, then the median CPU time of its process (user + system, from the children's rusage) and
that ratio, which load on a shared machine disturbs less. A signed write runs on a fresh copy of
the demo store each time (copied untimed), so every run does the same valid work: rosa approves an
open request, dana edits a card field. Nothing asserts on time.

By default every process, the floor's included, may write and read compiled modules in a cache
of the run (PYTHONPYCACHEPREFIX), as an installed signoff runs (pip compiles a package's modules
when it installs it, as it did click's). With ``--from-source`` (or BENCH_BYTECODE=0) the
environment decides, and PYTHONDONTWRITEBYTECODE=1 makes each signoff process compile its own
modules from source while click's come compiled from site-packages. The table says which.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: make `fixtures` importable
    sys.path.insert(0, str(REPO))

RUNS = 5
READ_GOAL = 6.0
WRITE_GOAL = 8.0
FLOOR = "import click"

# name -> (argv after `signoff`, goal ratio, writes?)
COMMANDS: dict[str, tuple[list[str], float, bool]] = {
    "models": (["models"], READ_GOAL, False),
    "show M": (["show", "credit-risk"], READ_GOAL, False),
    "show M:V --json": (["show", "credit-risk:2", "--json"], READ_GOAL, False),
    "requests --pending": (["requests", "--pending"], READ_GOAL, False),
    "show-request N": (["show-request", "6"], READ_GOAL, False),
    "audit log": (["audit", "log"], READ_GOAL, False),
    "history M": (["history", "credit-risk"], READ_GOAL, False),
    "approve": (
        ["approve", "6", "--comment", "benchmark: evidence reviewed", "--as", "rosa"],
        WRITE_GOAL,
        True,
    ),
    "card edit": (
        ["card", "edit", "credit-risk:2", "--set", "license=apache-2.0", "--as", "dana"],
        WRITE_GOAL,
        True,
    ),
}


def build_store(home: Path) -> None:
    """The demo store, built once per run of the benchmark."""
    from fixtures.demo import build_demo

    build_demo(home, echo=lambda _line: None)


def _env(home: Path, pycache: Path | None = None) -> dict[str, str]:
    from fixtures.demo import DEMO_PASSPHRASE

    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env.update(
        SIGNOFF_HOME=str(home),
        SIGNOFF_KEYS=str(home / "demo-keys"),
        SIGNOFF_PASSPHRASE=DEMO_PASSPHRASE,
        PYTHONPATH=str(REPO),
    )
    env.pop("SIGNOFF_DB", None)
    env.pop("SIGNOFF_USER", None)
    return env


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _wall(argv: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    started, cpu_before = time.perf_counter(), _cpu()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if cpu is not None:
        cpu.append(_cpu() - cpu_before)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[3:])} failed ({done.returncode}): {done.stderr}")
    return seconds


def _fresh(pristine: Path, work: Path) -> Path:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(pristine, work)
    return work


def bench_cli(
    pristine: Path, scratch: Path, runs: int = RUNS, *, bytecode: bool = False
) -> dict[str, float]:
    """Median wall seconds per command (and the floor), printed as a table of ratios."""
    floor_argv = [sys.executable, "-c", "import click"]
    signoff = [sys.executable, "-m", "console"]
    times: dict[str, list[float]] = {name: [] for name in [FLOOR, *COMMANDS]}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    pycache = scratch / "pycache" if bytecode else None
    read_env = _env(pristine, pycache)
    _wall(floor_argv, read_env)  # warm the page cache (and any bytecode cache), untimed
    for argv, _goal, writes in COMMANDS.values():
        home = _fresh(pristine, scratch / "write") if writes else pristine
        _wall([*signoff, *argv], _env(home, pycache))
    for _ in range(runs):
        times[FLOOR].append(_wall(floor_argv, read_env, cpu[FLOOR]))
        for name, (argv, _goal, writes) in COMMANDS.items():
            if writes:
                home = _fresh(pristine, scratch / "write")
                times[name].append(_wall([*signoff, *argv], _env(home, pycache), cpu[name]))
            else:
                times[name].append(_wall([*signoff, *argv], read_env, cpu[name]))
    medians = {name: statistics.median(values) for name, values in times.items()}
    cpus = {name: statistics.median(values) for name, values in cpu.items()}
    floor = medians[FLOOR]
    if bytecode:
        compiled = "compiled modules cached for the run, as installed (--from-source: without)"
    elif os.environ.get("PYTHONDONTWRITEBYTECODE"):
        compiled = "signoff compiled from source in every process (PYTHONDONTWRITEBYTECODE set)"
    else:
        compiled = "bytecode as the environment keeps it"
    print(f"\nsignoff commands on the demo store, medians of {runs} processes each; {compiled}")
    print(
        f"{'command':<20} {'median s':>9} {'ratio':>7} {'goal':>6}  met  {'cpu s':>6} {'ratio':>6}"
    )
    print(f"{FLOOR:<20} {floor:>9.3f} {1.0:>6.1f}x {'':>6}       {cpus[FLOOR]:>6.3f} {1.0:>5.1f}x")
    for name, (_argv, goal, _writes) in COMMANDS.items():
        ratio = medians[name] / floor
        met = "yes" if ratio <= goal else "no"
        cpu_ratio = cpus[name] / cpus[FLOOR]
        print(
            f"{name:<20} {medians[name]:>9.3f} {ratio:>6.1f}x {goal:>5.0f}x  {met:<3}  "
            f"{cpus[name]:>6.3f} {cpu_ratio:>5.1f}x"
        )
    with contextlib.suppress(OSError):
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return medians


def run(home: Path | None, runs: int, *, bytecode: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="signoff-bench-cli-") as tmp:
        scratch = Path(tmp)
        pristine = home
        if pristine is None:
            pristine = scratch / "demo"
            build_store(pristine)
        else:  # a demo store given: the reads may run on it, the writes on copies
            pristine = _fresh(pristine, scratch / "demo")
        return bench_cli(pristine, scratch, runs, bytecode=bytecode)


def test_cli_commands() -> None:
    bytecode = os.environ.get("BENCH_BYTECODE", "1") not in ("", "0")
    medians = run(None, int(os.environ.get("BENCH_RUNS", str(RUNS))), bytecode=bytecode)
    assert all(value > 0 for value in medians.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--home", type=Path, help="An existing demo store (copied, not changed).")
    parser.add_argument(
        "--from-source",
        action="store_true",
        help="Leave bytecode to the environment (PYTHONDONTWRITEBYTECODE may forbid it).",
    )
    args = parser.parse_args(argv)
    run(args.home, args.runs, bytecode=not args.from_source)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
