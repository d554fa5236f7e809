"""Issue 16, held under attack (part two): each test attacks one class of defect, the item
number in its name: no network (3), bounded package headers (7), forged packages (2), no lost
artifacts (1), no escape sequences (5), markup shown literally (6), sane timestamps (8) and
request ids checked under the write lock (9)."""

from __future__ import annotations

import base64
import contextlib
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
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.text import Text

from audit.canonical import canonical_json, sha256_hex
from audit.dsse import sign_envelope
from audit.keys import KeyStore, Signer, public_pem
from console.errors import BadInput, Refused
from console.freetext import check_text, is_control
from console.packaging.attestation import ATTESTATION, MANIFEST
from console.packaging.build import build_package
from console.packaging.tarball import MAX_HEADER_BYTES
from console.packaging.verify import verify_package
from console.registry.register import ModelInfo, RegisterRequest, register_version
from console.release.canary import canary_abort
from console.release.requests import request_promotion
from console.store.artifacts import ArtifactStore
from console.store.models import ModelVersion
from console.store.references import artifact_problems
from console.tui.widgets.text import line, plain_cells
from fixtures.demo import DEMO_PASSPHRASE
from reports.pdf_text import drawable
from tests.conftest import PASSPHRASE, Runner, Team, demo_store, one_line_error
from tests.workflow_helpers import record_validation, register_versions

Unchanged = Callable[[Path], Callable[[], None]]


def demo_signer(home: Path, name: str) -> Signer:
    return Signer(name, KeyStore(home / "demo-keys").load_private(name, DEMO_PASSPHRASE.encode()))


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


# ---- 1: a blob is never deleted while a row refers to it; gc; verify checks artifacts -----------

REGISTER_IN_CHILD = """
import sys
from pathlib import Path
from audit.keys import KeyStore, Signer
from console.registry.register import RegisterRequest, register_version
from console.store.db import Store

home, keys, passphrase, artifact, train = sys.argv[1:6]
signer = Signer("dana", KeyStore(Path(keys)).load_private("dana", passphrase.encode()))
request = RegisterRequest(
    model="tumour", artifact=Path(artifact).read_bytes(), artifact_source=artifact,
    train_data=Path(train), target="malignant",
)
print(register_version(Store(Path(home)), signer, request).version)
"""


def registration_inputs(tmp_path: Path) -> tuple[Path, Path]:
    import skops.io as sio
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, :4].copy()
    frame.columns = ["radius", "texture", "perimeter", "area"]
    frame["malignant"] = 1 - data.target
    estimator = LogisticRegression(max_iter=300).fit(
        frame.drop(columns="malignant"), frame.malignant
    )
    artifact = tmp_path / "model.skops"
    artifact.write_bytes(sio.dumps(estimator))
    train = tmp_path / "train.parquet"
    frame.to_parquet(train, index=False)
    return artifact, train


# ---- 5: control characters refused at input, escaped wherever stored text is shown --------------

ESCAPES = {
    "retitle": "ok\x1b]0;owned\x07",
    "conceal": "ok\x1b[8m hidden",
    "c1-csi": "ok\x9b2J",
    "carriage-return": "looks fine\rgate FAILED",
    "bidi": "ok\u202edesrever",
    "del": "ok\x7f",
}


@pytest.mark.parametrize("text", list(ESCAPES.values()), ids=list(ESCAPES))
def test_item5_control_characters_in_free_text_are_refused_at_input(
    team: Team, signoff: Runner, tmp_path: Path, unchanged: Unchanged, text: str
) -> None:
    register_versions(team, 1)
    opened = request_promotion(team.store, team["dana"], "tumour", 1, "dev", "fine")
    check = unchanged(team.home)
    home = ["--home", team.home]
    for args in (
        ["request", "tumour:1", "--to", "dev", "--comment", text, "--as", "dana"],
        ["approve", opened.id, "--comment", text, "--as", "rita"],
        ["reject", opened.id, "--comment", text, "--as", "rita"],
        ["withdraw", opened.id, "--reason", text, "--as", "dana"],
        ["card", "edit", "tumour:1", "--set", f"factors={text}", "--as", "dana"],
        ["rollback", "tumour", "--stage", "dev", "--reason", text, "--as", "rel"],
        ["monitor", "resolve", "1", "--reason", text, "--as", "rel"],
    ):
        if args[0] == "card" and text == ESCAPES["carriage-return"]:
            continue  # a card unifies line endings: CR becomes a newline in a multi-line field
        line = one_line_error(signoff(*args, *home))
        assert "control character" in line, (args, line)
    artifact, train = registration_inputs(tmp_path)
    base = RegisterRequest(
        model="tumour",
        artifact=artifact.read_bytes(),
        artifact_source="a",
        train_data=train,
        target="malignant",
    )
    for request in (
        replace(base, info=ModelInfo(owner=text)),
        replace(base, model="other", info=ModelInfo(description=text)),
        replace(base, description=text),
        replace(base, tags={"team": text}),
        replace(base, tags={text: "x"}),
    ):
        with pytest.raises(BadInput, match="control character"):
            register_version(team.store, team["dana"], request)
    with pytest.raises(BadInput, match="control character"):
        canary_abort(team.store, team["rel"], "tumour", "dev", text)
    check()


def test_item5_newlines_only_where_a_field_has_lines(team: Team) -> None:
    register_versions(team, 1)
    view = request_promotion(team.store, team["dana"], "tumour", 1, "dev", "line one\nline two")
    assert view.comment == "line one\nline two"
    with pytest.raises(
        BadInput, match="control character U\\+000A at position 4; use plain text on one line"
    ):
        check_text("the owner", "Ann\nBob")


def test_item5_stored_control_characters_are_shown_escaped_in_cli_console_and_pdf(
    team: Team, signoff: Runner
) -> None:
    register_versions(team, 1)
    opened = request_promotion(team.store, team["dana"], "tumour", 1, "dev", "fine")
    # Text stored before the rule (or written around it) must still not reach a terminal raw.
    stored = "approve me\x1b[8m gate FAILED\x1b]0;owned\x07\x9b\u202e"
    con = duckdb.connect(str(team.store.db_path))
    con.execute("UPDATE promotion_requests SET comment = ? WHERE id = ?", [stored, opened.id])
    con.close()
    for args in (
        ["show-request", opened.id],
        ["requests"],
        ["show-request", opened.id, "--json"],
        ["history", "tumour"],
    ):
        result = signoff(*args, "--home", team.home, "--as", "aud")
        assert result.exit_code == 0, (args, result.output)
        assert not any(is_control(ch) for ch in result.output.replace("\n", "")), args
    shown_request = signoff("show-request", opened.id, "--home", team.home).output
    assert "approve me\\x1b[8m gate FAILED\\x1b]0;owned\\x07\\x9b\\u202e" in shown_request
    error = signoff("show", "no\x1b]0;x\x07such", "--home", team.home)
    assert "\x1b" not in error.output and "\\x1b" in error.output
    assert drawable(stored).startswith("approve me\\x1b[8m gate FAILED\\x1b]0;owned\\x07")
    assert line("a", ("b\x1b", "bold")).plain == "ab\\x1b"
    assert plain_cells("x\x07")[0] == Text("x\\x07")


# ---- 6: markup-like store text shows literally on every screen ----------------------------------

OWNERS = {"credit-risk": "[/]", "breast-cancer-classifier": "Retail [EU] team"}
MARKUPISH = "[b]bold?[/b] [link=https://x]x[/link] [/] [@click=app.quit]q[/]"


async def test_item6_markup_like_owner_and_text_show_literally_on_every_screen(
    demo_home: Path,
) -> None:
    from textual.widgets import Static

    from console.tui.screens.model_detail import ModelDetailScreen
    from console.tui.screens.review import ReviewScreen
    from tests.test_console_screens import console, settle, static_text

    store = demo_store(demo_home)
    opened = request_promotion(
        store, demo_signer(demo_home, "dana"), "diabetes-regressor", 1, "dev", MARKUPISH
    )
    con = duckdb.connect(str(demo_home / "signoff.duckdb"))
    for model, owner in OWNERS.items():
        con.execute(
            "UPDATE models SET owner = ?, description = ?, intended_use = ? WHERE name = ?",
            [owner, MARKUPISH, MARKUPISH, model],
        )
    con.execute("UPDATE model_versions SET tags = ?", ['{"team": "[/]", "[red]": "[EU]"}'])
    con.close()
    app = console(demo_home, "rosa")

    def alive() -> None:
        assert app.is_running and app._exception is None, app._exception

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in ("d", "m", "i", "a", "e", "l", "u", "o", "question_mark", "escape"):
            await pilot.press(key)
            await settle(pilot)
            alive()
        for model, owner in OWNERS.items():
            await app.open_model(model)
            await settle(pilot)
            alive()
            assert f"owner {owner}" in static_text(app, "#model-title")
            await pilot.press("enter")
            await settle(pilot)
            alive()
            assert isinstance(app.screen, ModelDetailScreen)
            assert f"owner {owner}" in static_text(app, "#detail-title")
            for tab in "12345":
                await pilot.press(tab)
                await settle(pilot)
                alive()
            shown_text = " ".join(
                str(s.content.plain if isinstance(s.content, Text) else s.content)
                for s in app.screen.query(Static)
            )
            assert "[EU]" in shown_text or owner == "[/]"
            await pilot.press("escape")
            await settle(pilot)
        app.open_review(opened.id)
        await settle(pilot)
        alive()
        assert isinstance(app.screen, ReviewScreen)
        assert MARKUPISH in static_text(app, "#evidence-body")


def waits_on_the_store(pid: int, db: Path, deadline: float) -> bool:
    """True once the process has had the store file open (it is then trying its lock)."""
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == str(db):
                        return True
        time.sleep(0.01)
    return False


def test_item1_a_failed_registration_never_deletes_a_blob_another_commits(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signoff: Runner
) -> None:
    from console.registry import register as registering

    artifact, train = registration_inputs(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "SIGNOFF_LOCK_TIMEOUT": "120"}
    child: list[subprocess.Popen[str]] = []
    real_next_version = registering._next_version

    def fail_while_another_waits(session: Any, model: str) -> int:
        # This registration wrote the blob and holds the lock; a second one of the same artifact
        # starts now, gets as far as the lock, and then this one fails.
        real_next_version(session, model)
        args = [str(team.home), str(team.keys), PASSPHRASE, str(artifact), str(train)]
        child.append(
            subprocess.Popen(
                [sys.executable, "-c", REGISTER_IN_CHILD, *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        assert waits_on_the_store(child[0].pid, team.store.db_path, time.monotonic() + 120)
        raise RuntimeError("this registration fails inside its transaction")

    monkeypatch.setattr(registering, "_next_version", fail_while_another_waits)
    request = RegisterRequest(
        model="tumour",
        artifact=artifact.read_bytes(),
        artifact_source=str(artifact),
        train_data=train,
        target="malignant",
    )
    with pytest.raises(RuntimeError):
        register_version(team.store, team["dana"], request)
    out, err = child[0].communicate(timeout=180)
    assert child[0].returncode == 0, err
    assert out.strip() == "1"
    with team.store.session() as session:
        version = session.get(ModelVersion, ("tumour", 1))
        assert version is not None
    assert ArtifactStore(team.store.artifacts_dir).verify(version.artifact_sha256)
    assert artifact_problems(team.store) == []
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0


def test_item1_a_refused_registration_leaves_no_blob(
    team: Team, tmp_path: Path, unchanged: Unchanged
) -> None:
    artifact, train = registration_inputs(tmp_path)
    check = unchanged(team.home)
    request = RegisterRequest(
        model="tumour",
        artifact=artifact.read_bytes(),
        artifact_source=str(artifact),
        train_data=train,
        target="malignant",
    )
    with pytest.raises(Refused):
        register_version(team.store, team["rita"], request)  # a reviewer may not register
    check()


def test_item1_verify_names_the_row_whose_artifact_is_missing_or_altered(
    team: Team, signoff: Runner
) -> None:
    register_versions(team, 2)
    with team.store.session() as session:
        first = session.get(ModelVersion, ("tumour", 1))
        second = session.get(ModelVersion, ("tumour", 2))
        assert first is not None and second is not None
    artifacts = ArtifactStore(team.store.artifacts_dir)
    artifacts.path_for(first.artifact_sha256).unlink()
    altered = artifacts.path_for(second.artifact_sha256)
    altered.chmod(0o644)
    altered.write_bytes(altered.read_bytes() + b"x")
    result = signoff("audit", "verify", "--home", team.home)
    assert result.exit_code == 1, result.output
    assert "the artifact of version tumour:1 is missing" in result.output
    problems = [p.reason for p in artifact_problems(team.store)]
    assert any("version tumour:2 does not match its digest" in p for p in problems), problems


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_item1_gc_removes_only_old_unreferenced_blobs_and_staging_folders(
    team: Team, signoff: Runner
) -> None:
    register_versions(team, 1)
    artifacts = ArtifactStore(team.store.artifacts_dir)
    with team.store.session() as session:
        kept = session.get(ModelVersion, ("tumour", 1))
        assert kept is not None
    old = time.time() - 7200
    orphan, _ = artifacts.put_bytes(b"left by a failed command")
    recent, _ = artifacts.put_bytes(b"being written right now")
    staging = team.store.artifacts_dir / ".staging-killed"
    (staging / "sub").mkdir(parents=True)
    (staging / "sub" / "log.parquet").write_bytes(b"half")
    for path in (
        artifacts.path_for(orphan),
        artifacts.path_for(kept.artifact_sha256),
        staging / "sub" / "log.parquet",
        staging / "sub",
        staging,
    ):
        os.utime(path, (old, old))
    result = signoff("gc", "--home", team.home)
    assert result.exit_code == 0, result.output
    assert f"removed blob artifacts/sha256/{orphan[:2]}/{orphan}" in result.output
    assert "removed staging folder artifacts/.staging-killed" in result.output
    assert "kept 1 younger than 3600s" in result.output
    assert not artifacts.has(orphan) and not staging.exists()
    assert artifacts.has(recent)
    assert artifacts.verify(kept.artifact_sha256)
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0


# ---- 8: prediction times in a sane range; no stored value breaks a read -------------------------

CREDIT = "credit-risk"


def dated_log(home: Path, tmp_path: Path, dates: dict[int, str]) -> Path:
    import pandas as pd

    logs = sorted((home / "demo-data").glob(f"{CREDIT}-predictions-*.csv"))
    frame = pd.read_csv(logs[-1])
    frame["request_id"] = frame["request_id"] + "-dated"
    for row, when in dates.items():
        frame.loc[row, "timestamp"] = when
    path = tmp_path / "dated.csv"
    frame.to_csv(path, index=False)
    return path


def test_item8_rows_dated_outside_a_sane_range_are_refused_with_counts(
    demo_home: Path,
    signoff: Runner,
    tmp_path: Path,
    unchanged: Unchanged,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    far = {0: "9999-12-31T00:00:00Z", 1: "9999-12-31T23:59:59Z", 2: "1970-01-01T00:00:00Z"}
    path = dated_log(demo_home, tmp_path, far)
    check = unchanged(demo_home)
    result = signoff(
        "monitor", "ingest", CREDIT, "--predictions", path, "--home", demo_home, "--as", "rel"
    )
    line = one_line_error(result)
    assert "3 of " in line and "rows have a timestamp outside 2000-01-01 .. " in line, line
    check()


def test_item8_a_stored_far_future_row_does_not_break_the_reads(
    demo_home: Path, signoff: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.monitoring import log_checks

    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    # A log stored before the rule existed: the check is lifted for this one ingest.
    monkeypatch.setattr(log_checks, "_refuse_out_of_range", lambda *args: None)
    path = dated_log(demo_home, tmp_path, {0: "9999-12-31T00:00:00Z"})
    home = ["--home", demo_home]
    ingested = signoff(
        "monitor", "ingest", CREDIT, "--predictions", path, *home, "--as", "rel",
        "--allow-backfill", "a log stored before the rule existed",
    )  # fmt: skip
    assert ingested.exit_code == 0, ingested.output
    monkeypatch.undo()
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    for args in (
        ["monitor", "drift", CREDIT],
        ["monitor", "performance", CREDIT],
        ["monitor", "check", "--model", CREDIT, "--as", "rel"],
    ):
        result = signoff(*args, *home)
        assert result.exit_code in (0, 1), (args, result.exit_code, result.output)
        assert "Traceback" not in result.output and "unexpected" not in result.output


# ---- 9: request ids are checked again under the write lock ---------------------------------------


def test_item9_a_log_with_ids_committed_meanwhile_is_refused_under_the_lock(
    demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unchanged: Unchanged
) -> None:
    import pandas as pd

    from console.monitoring import ingest, uploads

    logs = sorted((demo_home / "demo-data").glob(f"{CREDIT}-predictions-*.csv"))
    frame = pd.read_csv(logs[-1])
    frame["request_id"] = frame["request_id"] + "-race"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    frame.to_csv(first, index=False)
    frame.iloc[::-1].assign(prediction=1 - frame["prediction"].iloc[::-1]).to_csv(
        second, index=False
    )
    store = demo_store(demo_home)
    rel = demo_signer(demo_home, "rel")
    real_digest = uploads.file_sha256
    raced: list[int] = []

    def another_ingest_lands_first(path: Path) -> str:
        # The second log passed its checks before the lock; the first one commits now.
        if not raced:
            raced.append(0)
            raced.append(
                ingest.ingest_predictions(store, rel, CREDIT, first, allow_backfill="race").log_id
            )
        return real_digest(path)

    monkeypatch.setattr(uploads, "file_sha256", another_ingest_lands_first)
    with pytest.raises(BadInput, match="request ids were already logged"):
        ingest.ingest_predictions(store, rel, CREDIT, second)
    assert len(raced) == 2
    monkeypatch.undo()
    check = unchanged(demo_home)
    with pytest.raises(BadInput, match="already logged"):
        ingest.ingest_predictions(store, rel, CREDIT, second)
    check()
