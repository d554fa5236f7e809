"""Issue 16, held under attack (part two): each test attacks one class of defect, the item
number in its name: no network (3), bounded package headers (7), forged packages (2), no lost
artifacts (1), no escape sequences (5), markup shown literally (6), sane timestamps (8) and
request ids checked under the write lock (9)."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from console.packaging.tarball import MAX_HEADER_BYTES
from console.packaging.verify import verify_package
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


# ---- 7: a package's headers are bounded before they are read ------------------------------------

TOP = "tumour-v1"


def _header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.GNU_FORMAT)


def huge_header_package(path: Path, kind: bytes, declared: int) -> Path:
    """A small gzip'd tar whose second header is a long-name or pax header of `declared` bytes."""
    folder = tarfile.TarInfo(TOP)
    folder.type = tarfile.DIRTYPE
    special = tarfile.TarInfo("././@LongLink")
    special.type = kind
    special.size = declared
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    with path.open("wb") as out:
        out.write(compressor.compress(_header(folder) + _header(special)))
        chunk = b"a" * (1 << 20)
        for _ in range(declared // len(chunk)):
            out.write(compressor.compress(chunk))
        member = tarfile.TarInfo(f"{TOP}/MANIFEST")
        out.write(compressor.compress(b"a" * (-declared % 512) + _header(member) + b"\0" * 1024))
        out.write(compressor.flush())
    return path


@pytest.mark.parametrize("kind", [tarfile.GNUTYPE_LONGNAME, tarfile.XHDTYPE], ids=["gnu", "pax"])
def test_item7_a_huge_long_name_or_pax_header_fails_fast_without_allocating_it(
    signoff: Runner, tmp_path: Path, kind: bytes
) -> None:
    bad = huge_header_package(tmp_path / "bomb.tar.gz", kind, 256 << 20)
    assert bad.stat().st_size < 2 << 20
    key = Ed25519PrivateKey.generate().public_key()
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = verify_package(bad, public_keys=[key])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert peak < 16 << 20, f"verify-package allocated {peak} bytes"
    assert result.problems == [
        f"a member header of {256 << 20} bytes exceeds the limit of {MAX_HEADER_BYTES} bytes"
    ]
    pem = tmp_path / "k.pub"
    pem.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    cli = signoff("verify-package", bad, "--pubkey", pem)
    assert cli.exit_code == 1, cli.output
    assert len(cli.output) < 400 and "exceeds the limit" in cli.output


def test_item7_a_long_member_name_is_shown_shortened(signoff: Runner, tmp_path: Path) -> None:
    bad = tmp_path / "long.tar.gz"
    with tarfile.open(bad, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"{TOP}/sub/" + "n" * 60_000)
        tar.addfile(info, io.BytesIO(b""))
    key = Ed25519PrivateKey.generate().public_key()
    result = verify_package(bad, public_keys=[key])
    assert result.problems
    assert all(len(problem) < 300 for problem in result.problems), result.problems
    assert any("(60014 characters)" in problem for problem in result.problems)
