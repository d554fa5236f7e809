"""Issue 16, held under attack (part two): each test attacks one class of defect, the item
number in its name: no network (3), bounded package headers (7), forged packages (2), no lost
artifacts (1), no escape sequences (5), markup shown literally (6), sane timestamps (8) and
request ids checked under the write lock (9)."""

from __future__ import annotations

import base64
import io
import json
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
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.canonical import canonical_json, sha256_hex
from audit.dsse import sign_envelope
from audit.keys import Signer, public_pem
from console.packaging.attestation import ATTESTATION, MANIFEST
from console.packaging.build import build_package
from console.packaging.tarball import MAX_HEADER_BYTES
from console.packaging.verify import verify_package
from console.store.artifacts import ArtifactStore
from console.store.models import ModelVersion
from tests.conftest import Runner, Team, one_line_error
from tests.workflow_helpers import record_validation, register_versions

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


# ---- 2: a forged package is held against what the store recorded --------------------------------


def package_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def forged_package(
    path: Path, members: dict[str, bytes], signer: Signer, edit: Callable[[dict[str, Any]], None]
) -> Path:
    """The members with the statement edited, manifest and subjects made whole, re-signed."""
    envelope = json.loads(members.pop(ATTESTATION))
    body = json.loads(base64.b64decode(envelope["payload"]))
    edit(body)
    predicate = body["predicate"]
    model, version = predicate["model"], predicate["version"]
    manifest = json.loads(members[MANIFEST])
    manifest.update(model=model, version=version)
    manifest["files"] = {
        name: {"sha256": sha256_hex(data), "size": len(data)}
        for name, data in sorted(members.items())
        if name != MANIFEST
    }
    members[MANIFEST] = canonical_json(manifest)
    body["subject"] = [
        {"name": name, "digest": {"sha256": sha256_hex(data)}}
        for name, data in sorted(members.items())
    ]
    predicate["packager"] = {"name": signer.name, "keyid": signer.keyid}
    members[ATTESTATION] = canonical_json(sign_envelope(canonical_json(body), signer.private_key))
    top = f"{model}-v{version}"
    with tarfile.open(path, "w:gz") as tar:
        folder = tarfile.TarInfo(top)
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_item2_forged_packages_fail_against_the_store(
    team: Team, signoff: Runner, tmp_path: Path
) -> None:
    register_versions(team, 2)
    record_validation(team, "tumour", 1)
    genuine = build_package(team.store, team["rel"], "tumour", 1, tmp_path / "p.tar.gz").path
    assert signoff("verify-package", genuine, "--home", team.home).exit_code == 0
    with team.store.session() as session:
        other = session.get(ModelVersion, ("tumour", 2))
        assert other is not None
    other_artifact = ArtifactStore(team.store.artifacts_dir).read_verified(other.artifact_sha256)

    def swap_artifact(body: dict[str, Any]) -> None:
        body["predicate"]["artifact"]["sha256"] = other.artifact_sha256

    members = package_members(genuine)
    members["model.skops"] = other_artifact
    cases = {
        "swapped": (members, swap_artifact, "model.skops is not the artifact the store recorded"),
        "no model": (
            package_members(genuine),
            lambda body: body["predicate"].update(model="nosuch"),
            "model 'nosuch' is not in this store",
        ),
        "no version": (
            package_members(genuine),
            lambda body: body["predicate"].update(version=9),
            "tumour:9 is not in this store",
        ),
    }
    for signer in ("rel", "dana"):  # any user whose role may package
        for case, (contents, edit, expected) in cases.items():
            forged = forged_package(
                tmp_path / f"{case}-{signer}.tar.gz", dict(contents), team[signer], edit
            )
            result = signoff("verify-package", forged, "--home", team.home)
            assert result.exit_code == 1, (case, result.output)
            assert expected in result.output, (case, result.output)
            # Without the store only the signature can be judged: it is valid.
            pem = tmp_path / f"{signer}.pub"
            pem.write_text(public_pem(team[signer].public_key))
            assert signoff("verify-package", forged, "--pubkey", pem).exit_code == 0, case
