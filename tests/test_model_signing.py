"""OpenSSF Model Signing: release keys in the log, model.sig in packages, the real verifier."""

from __future__ import annotations

import shutil
import socket
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric import ec

# Imported at collection: urllib3 (a sigstore dependency) probes IPv6 support with a local
# socket when imported; the verification itself must open none (checked below).
from model_signing._cli import main as model_signing_cli
from sqlalchemy import text

from audit.model_signature import sign_model
from audit.release_keys import ReleaseKeyStore, ReleaseSigner, release_public_pem
from console.errors import StateForged
from console.identity.release_keys import register_release_key, unlock_release_key
from console.packaging.build import build_package
from console.packaging.oms import MODEL_SIGNATURE, SIGNOFF_ATTESTATIONS, check_oms
from console.packaging.tarball import read_members
from console.packaging.verify import verify_package
from console.store.db import Store
from tests.conftest import PASSPHRASE, Runner, Team, make_team, one_line_error
from tests.workflow_helpers import record_validation, register_versions

Unchanged = Callable[[Path], Callable[[], None]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """tumour:1 validated, and rel's release key registered by the admin."""
    root = tmp_path_factory.mktemp("oms")
    team = make_team(root / "home", root / "keys")
    register_versions(team, 1)
    record_validation(team, "tumour", 1)
    ReleaseKeyStore(root / "keys").create("rel-release", PASSPHRASE.encode())
    public = ReleaseKeyStore(root / "keys").public_key("rel-release")
    register_release_key(team.store, team["ada"], "rel", public)
    return team


@pytest.fixture
def team(template: Team, tmp_path: Path, isolated_env: Path) -> Team:
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    shutil.copytree(template.keys, isolated_env, dirs_exist_ok=True)
    return Team(Store(home), home, isolated_env, template.signers)


def _release(team: Team) -> ReleaseSigner:
    signer = unlock_release_key(team.store, "rel", [team.keys], lambda _n: PASSPHRASE.encode())
    assert signer is not None
    return signer


def _extract(package: Path, where: Path) -> Path:
    with tarfile.open(package) as tar:
        tar.extractall(where, filter="data")
    (folder,) = where.iterdir()
    return folder


def _model_signing_verify(
    folder: Path, public: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """The real `model_signing verify key`, in-process, failing if it opens any socket."""
    opened: list[tuple[object, ...]] = []

    def refuse(*args: object, **kwargs: object) -> socket.socket:
        opened.append(args)
        raise OSError("no network in key mode")

    with monkeypatch.context() as patch:
        for name in ("socket", "create_connection", "getaddrinfo"):
            patch.setattr(socket, name, refuse)
        result = _invoke(folder, public)
    assert opened == [], "model_signing touched the network"
    return result.exit_code, result.output


def _invoke(folder: Path, public: Path) -> Result:
    return CliRunner().invoke(
        model_signing_cli,
        [
            "verify",
            "key",
            str(folder),
            "--signature",
            str(folder / MODEL_SIGNATURE),
            "--public_key",
            str(public),
        ],
    )


def test_model_signing_verifies_a_package_and_refuses_a_tampered_one(
    team: Team, signoff: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "p.tar.gz"
    built = signoff("package", "tumour:1", "-o", package, "--home", team.home, "--as", "rel")
    assert built.exit_code == 0, built.output
    assert "model.sig (OpenSSF Model Signing) by release key" in built.output
    public = tmp_path / "rel-release.pub"
    exported = signoff("keys", "release-key", "export", "rel-release")
    public.write_text(exported.output)

    folder = _extract(package, tmp_path / "good")
    code, output = _model_signing_verify(folder, public, monkeypatch)
    assert (code, "Verification succeeded") == (0, output.strip().splitlines()[-1])

    # signoff's own attestations sit outside the OMS manifest: the OMS verifier ignores them
    (folder / "validation_report.json").write_bytes(b"{}")
    assert _model_signing_verify(folder, public, monkeypatch)[0] == 0

    tampered = _extract(package, tmp_path / "bad")
    artifact = tampered / "model.skops"
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    code, output = _model_signing_verify(tampered, public, monkeypatch)
    assert code == 1 and "Hash mismatch for" in output and "model.skops" in output

    added = _extract(package, tmp_path / "added")
    (added / "backdoor.py").write_text("import os\n")
    code, output = _model_signing_verify(added, public, monkeypatch)
    assert code == 1 and "backdoor.py" in output

    other = tmp_path / "other.pub"
    other.write_text(release_public_pem(ec.generate_private_key(ec.SECP256R1()).public_key()))
    assert _model_signing_verify(folder, other, monkeypatch)[0] == 1


def test_the_oms_manifest_covers_the_model_files_only(team: Team, tmp_path: Path) -> None:
    result = build_package(
        team.store, team["rel"], "tumour", 1, tmp_path / "p.tar.gz", release=_release(team)
    )
    read = read_members(result.path, [])
    assert read is not None
    members = read[1]
    assert MODEL_SIGNATURE in members and "governance.json" not in members  # no request yet
    problems: list[str] = []
    assert check_oms(members, _predicate(result.path), None, problems) == result.release_keyid
    assert problems == []
    signed = {"environment.lock", "input_schema.json", "model.skops"}
    signed |= {n for n in members if n.startswith("model_card")}
    assert set(members) - signed == {n for n in SIGNOFF_ATTESTATIONS if n in members}
    checked = verify_package(result.path, store=team.store)
    assert checked.ok, checked.problems
    assert checked.release_keyid == result.release_keyid


def _predicate(package: Path) -> dict[str, object]:
    import base64
    import json

    read = read_members(package, [])
    assert read is not None
    envelope = json.loads(read[1]["attestation.dsse.json"])
    predicate = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    assert isinstance(predicate, dict)
    return predicate


def test_oms_signature_is_checked_against_files_and_key(team: Team, tmp_path: Path) -> None:
    release = _release(team)
    built = build_package(
        team.store, team["rel"], "tumour", 1, tmp_path / "p.tar.gz", release=release
    )
    read = read_members(built.path, [])
    assert read is not None
    members, predicate = dict(read[1]), _predicate(built.path)

    changed = {**members, "input_schema.json": b'{"features":[]}'}
    problems: list[str] = []
    assert check_oms(changed, predicate, None, problems) is None
    assert problems == ["model.sig does not match the model files: changed input_schema.json"]

    stranger = ReleaseSigner("x", ec.generate_private_key(ec.SECP256R1()))
    forged = sign_model("tumour-v1", {"model.skops": b"x"}, SIGNOFF_ATTESTATIONS, stranger)
    problems = []
    check_oms({**members, MODEL_SIGNATURE: forged}, predicate, None, problems)
    assert problems and "not a key trusted" in problems[0]

    problems = []
    check_oms(members, predicate, {}, problems)
    assert problems and "not one this store registered to the packager" in problems[0]

    problems = []
    check_oms({k: v for k, v in members.items() if k != MODEL_SIGNATURE}, predicate, None, problems)
    assert problems == ["the attestation names an OMS signature but model.sig is missing"]


def test_packages_with_oms_signatures_rebuild_byte_identical(team: Team, tmp_path: Path) -> None:
    release = _release(team)
    first = build_package(
        team.store, team["rel"], "tumour", 1, tmp_path / "a.tar.gz", release=release
    )
    again = build_package(
        team.store, team["rel"], "tumour", 1, tmp_path / "b.tar.gz", release=release
    )
    assert first.path.read_bytes() == again.path.read_bytes()  # deterministic ECDSA (RFC 6979)
    assert first.files[MODEL_SIGNATURE] == again.files[MODEL_SIGNATURE]


def test_registration_is_logged_projected_and_verified(
    team: Team, signoff: Runner, tmp_path: Path
) -> None:
    ReleaseKeyStore(team.keys).create("rel-2027", PASSPHRASE.encode())
    exported = signoff("keys", "release-key", "export", "rel-2027")
    (tmp_path / "new.pub").write_text(exported.output)
    home = ("--home", team.home)
    done = signoff(
        "users",
        "register-release-key",
        "rel",
        "--pubkey",
        tmp_path / "new.pub",
        *home,
        "--as",
        "ada",
    )
    assert done.exit_code == 0, done.output
    listing = signoff("users", "release-keys", *home, "--json")
    import json

    rows = json.loads(listing.output)
    assert [r["current"] for r in rows] == [False, True]
    assert signoff("audit", "verify", *home).exit_code == 0

    # a package signed by the retired key still verifies; new ones use the current key
    assert _release(team).name == "rel-2027"

    with team.store.session() as session:
        session.connection().execute(text("UPDATE release_keys SET retired_seq = NULL"))
    forged = signoff("audit", "verify", *home)
    assert forged.exit_code == 1 and "release_keys" in forged.output
    with pytest.raises(StateForged):
        _release(team)


def test_retired_release_key_packages_still_verify(team: Team, tmp_path: Path) -> None:
    old = build_package(
        team.store, team["rel"], "tumour", 1, tmp_path / "old.tar.gz", release=_release(team)
    )
    ReleaseKeyStore(team.keys).create("rel-2027", PASSPHRASE.encode())
    register_release_key(
        team.store, team["ada"], "rel", ReleaseKeyStore(team.keys).public_key("rel-2027")
    )
    assert verify_package(old.path, store=team.store).ok
    stale = ReleaseKeyStore(team.keys).load("rel-release", PASSPHRASE.encode())
    with pytest.raises(Exception, match="not rel's registered release key"):
        build_package(team.store, team["rel"], "tumour", 1, tmp_path / "x.tar.gz", release=stale)


def test_registration_refusals(
    team: Team, signoff: Runner, tmp_path: Path, unchanged: Unchanged
) -> None:
    home = ("--home", team.home)
    ed25519 = tmp_path / "rita.pub"
    ed25519.write_text(signoff("keys", "export", "rita").output)
    p256 = tmp_path / "p256.pub"
    p256.write_text(release_public_pem(ec.generate_private_key(ec.SECP256R1()).public_key()))
    check = unchanged(team.home)
    line = one_line_error(
        signoff("users", "register-release-key", "rel", "--pubkey", ed25519, *home, "--as", "ada")
    )
    assert "not an ECDSA P-256 public key" in line
    line = one_line_error(
        signoff("users", "register-release-key", "rita", "--pubkey", p256, *home, "--as", "ada"),
        3,
    )
    assert "release keys are for the roles that package" in line
    one_line_error(
        signoff("users", "register-release-key", "rel", "--pubkey", p256, *home, "--as", "rel"), 3
    )
    one_line_error(
        signoff("users", "register-release-key", "nobody", "--pubkey", p256, *home, "--as", "ada")
    )
    check()


def test_packaging_refuses_without_the_registered_private_key(
    team: Team,
    signoff: Runner,
    tmp_path: Path,
    unchanged: Unchanged,
) -> None:
    shutil.rmtree(team.keys / "release")
    check = unchanged(team.home)
    line = one_line_error(
        signoff(
            "package", "tumour:1", "-o", tmp_path / "p.tar.gz", "--home", team.home, "--as", "rel"
        ),
        3,
    )
    assert "registered release key" in line
    assert not (tmp_path / "p.tar.gz").exists()
    check()


def test_without_a_release_key_the_package_says_so(tmp_path: Path, signoff: Runner) -> None:
    team = make_team(tmp_path / "home", tmp_path / "keys")
    register_versions(team, 1)
    built = signoff(
        "package", "tumour:1", "-o", tmp_path / "p.tar.gz", "--home", team.home, "--as", "rel"
    )
    assert built.exit_code == 0, built.output
    assert "no model.sig: rel has no registered release key" in built.output
    read = read_members(tmp_path / "p.tar.gz", [])
    assert read is not None and MODEL_SIGNATURE not in read[1]
    assert verify_package(tmp_path / "p.tar.gz", store=team.store).ok


async def test_the_admin_screen_shows_a_users_release_key(team: Team) -> None:
    import contextlib

    from textual.widgets import DataTable, Static
    from textual.worker import WorkerCancelled, WorkerFailed

    from console.tui.app import make_app

    app = make_app(team.store, user="ada", passphrase=lambda _n: PASSPHRASE.encode())
    keyid = _release(team).keyid
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("u", None):
            if key:
                await pilot.press(key)
            for _ in range(3):
                with contextlib.suppress(WorkerCancelled, WorkerFailed):
                    await app.workers.wait_for_complete()
                await pilot.pause()
        table = app.screen.query_one("#admin-users", DataTable)
        table.move_cursor(row=table.get_row_index("rel"))
        await pilot.pause()
        shown = str(app.screen.query_one("#admin-key", Static).content)
        assert f"release key (OpenSSF Model Signing) {keyid}" in shown
        table.move_cursor(row=table.get_row_index("rita"))
        await pilot.pause()
        assert "release key" not in str(app.screen.query_one("#admin-key", Static).content)


def test_release_keys_on_postgresql(
    pg_url: str, tmp_path: Path, isolated_env: Path, signoff: Runner
) -> None:
    team = make_team(tmp_path / "home", isolated_env, url=pg_url)
    register_versions(team, 1)
    ReleaseKeyStore(isolated_env).create("rel-release", PASSPHRASE.encode())
    public = ReleaseKeyStore(isolated_env).public_key("rel-release")
    register_release_key(team.store, team["ada"], "rel", public)
    built = build_package(
        team.store, team["rel"], "tumour", 1, tmp_path / "p.tar.gz", release=_release(team)
    )
    assert built.release_keyid is not None
    assert verify_package(built.path, store=team.store).release_keyid == built.release_keyid
    verified = signoff("audit", "verify", "--db", pg_url)
    assert verified.exit_code == 0, verified.output
