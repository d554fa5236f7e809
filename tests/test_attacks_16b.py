"""Issue 16, held under attack (part two): each test attacks one class of defect, the item
number in its name: no network (3), bounded package headers (7), forged packages (2), no lost
artifacts (1), no escape sequences (5), markup shown literally (6), sane timestamps (8) and
request ids checked under the write lock (9)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Runner, one_line_error

Unchanged = Callable[[Path], Callable[[], None]]
MODEL = "credit-risk"
REPO = Path(__file__).resolve().parent.parent


def sqlite_home(tmp_path: Path) -> Path:
    """A home whose store file is an SQLite database: DuckDB would fetch an extension for it."""
    home = tmp_path / "foreign"
    home.mkdir()
    con = sqlite3.connect(home / "signoff.duckdb")
    con.execute("CREATE TABLE t (a INTEGER)")
    con.commit()
    con.close()
    return home


# ---- 3: nothing touches the network; a foreign file is refused by its header -------------------


def test_item3_foreign_file_at_store_path_is_refused_by_its_header(
    signoff: Runner, tmp_path: Path
) -> None:
    home = sqlite_home(tmp_path)
    before = (home / "signoff.duckdb").read_bytes()
    for args in (["models"], ["audit", "verify"], ["users", "list"]):
        line = one_line_error(signoff(*args, "--home", home, "--as", "aud"))
        assert "not a signoff store" in line, line
    assert (home / "signoff.duckdb").read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["signoff.duckdb"]


def inet_connects(tmp_path: Path, name: str, *args: str) -> tuple[int, list[str]]:
    """Run the CLI in a child process under strace; return its exit code and inet connects."""
    trace = tmp_path / f"{name}.strace"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)]
    command += [sys.executable, "-m", "console", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    lines = trace.read_text().splitlines() if trace.exists() else []
    if not lines and "ptrace" in done.stderr.lower():
        pytest.skip(f"LOUD SKIP: strace cannot trace here: {done.stderr.strip()}")
    return done.returncode, [ln for ln in lines if "AF_INET" in ln]


@pytest.mark.skipif(
    shutil.which("strace") is None,
    reason="LOUD SKIP: strace is not installed (make test installs it: apt-get install strace)",
)
def test_item3_cli_makes_no_inet_connect_under_a_syscall_trace(
    tmp_path: Path, demo_home: Path
) -> None:
    foreign = sqlite_home(tmp_path)
    code, connects = inet_connects(tmp_path, "foreign", "models", "--home", str(foreign))
    assert code == 2
    assert connects == []
    code, connects = inet_connects(tmp_path, "models", "models", "--home", str(demo_home))
    assert code == 0
    assert connects == []
    verify = ["audit", "verify", "--home", str(demo_home), "--as", "aud"]
    code, connects = inet_connects(tmp_path, "verify", *verify)
    assert code == 0
    assert connects == []
