"""Release keys in the auditor's export: keys.json lists them, the offline verifier replays their
registrations and checks a package's model.sig against them."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from audit.model_signature import sign_model
from audit.release_keys import ReleaseKeyStore, ReleaseSigner
from audit.verify import main as offline_verify
from console.identity.release_keys import register_release_key
from console.packaging.oms import MODEL_SIGNATURE, SIGNOFF_ATTESTATIONS, model_files
from console.store.db import Store
from tests.conftest import PASSPHRASE, Runner, Team, make_team
from tests.workflow_helpers import record_validation, register_versions


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """tumour:1 validated; rel's release key registered by the admin."""
    root = tmp_path_factory.mktemp("release-export")
    team = make_team(root / "home", root / "keys")
    register_versions(team, 1)
    record_validation(team, "tumour", 1)
    keys = ReleaseKeyStore(root / "keys")
    keys.create("rel-release", PASSPHRASE.encode())
    register_release_key(team.store, team["ada"], "rel", keys.public_key("rel-release"))
    return team


@pytest.fixture
def team(template: Team, tmp_path: Path, isolated_env: Path) -> Team:
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    shutil.copytree(template.keys, isolated_env, dirs_exist_ok=True)
    return Team(Store(home), home, isolated_env, template.signers)


def _package(team: Team, signoff: Runner, where: Path) -> Path:
    """Build tumour:1 as rel and unpack it: the folder a serving stack would check."""
    archive = where / "p.tar.gz"
    built = signoff("package", "tumour:1", "-o", archive, "--home", team.home, "--as", "rel")
    assert built.exit_code == 0 and "model.sig (OpenSSF Model Signing)" in built.output
    with tarfile.open(archive) as tar:
        tar.extractall(where / "unpacked", filter="data")
    (folder,) = (where / "unpacked").iterdir()
    return folder


def _export(team: Team, signoff: Runner, target: Path) -> Path:
    result = signoff("audit", "export", target, "--home", team.home)
    assert result.exit_code == 0, result.output
    return target


def _verify(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    code = offline_verify([str(a) for a in args])
    return code, capsys.readouterr().out


def test_the_export_lists_release_keys_and_verifies_a_package(
    team: Team, signoff: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _package(team, signoff, tmp_path)
    export = _export(team, signoff, tmp_path / "export")
    keys = json.loads((export / "keys.json").read_text())
    release = [k for k in keys if k.get("kind") == "release"]
    users = [k for k in keys if "kind" not in k]
    assert {k["name"] for k in users} >= {"ada", "rel"}  # the users' entries as before
    pub = ReleaseKeyStore(team.keys).pub_path("rel-release").read_text()
    assert [(k["name"], k["registered_by"], k["public_key_pem"]) for k in release] == [
        ("rel", "ada", pub)
    ]
    assert release[0]["retired_at_seq"] is None

    code, out = _verify(capsys, export, "--package", folder)
    assert code == 0, out
    assert out.startswith("OK:")
    assert f"model.sig verified: rel's release key {release[0]['keyid'][:16]}" in out
    assert _verify(capsys, export, "--package", folder / MODEL_SIGNATURE)[0] == 0

    # the release entry left out of keys.json: the export no longer matches its log
    (export / "keys.json").write_text(json.dumps(users, indent=2, sort_keys=True))
    code, out = _verify(capsys, export)
    assert code == 1 and "keys.json disagrees with the keys the log registered" in out


def test_a_tampered_or_foreign_signed_package_fails_offline(
    team: Team, signoff: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _package(team, signoff, tmp_path)
    export = _export(team, signoff, tmp_path / "export")

    changed = shutil.copytree(folder, tmp_path / "changed")
    artifact = changed / "model.skops"
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    code, out = _verify(capsys, export, "--package", changed)
    assert code == 1 and f"does not match the files of {changed}: changed {artifact.name}" in out

    added = shutil.copytree(folder, tmp_path / "added")
    (added / "backdoor.py").write_text("import os\n")
    code, out = _verify(capsys, export, "--package", added)
    assert code == 1 and "unsigned backdoor.py" in out

    # signed by a P-256 key the log never registered (a stranger re-signs the files)
    stranger = ReleaseSigner("mallory", ec.generate_private_key(ec.SECP256R1()))
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    resigned = shutil.copytree(folder, tmp_path / "resigned")
    (resigned / MODEL_SIGNATURE).write_bytes(
        sign_model(folder.name, model_files(files), SIGNOFF_ATTESTATIONS, stranger)
    )
    code, out = _verify(capsys, export, "--package", resigned)
    assert code == 1 and "model.sig: signed by release key" in out and "not a key trusted" in out

    code, out = _verify(capsys, export, "--package", tmp_path / "nowhere" / MODEL_SIGNATURE)
    assert code == 1 and "cannot read" in out


def test_a_retired_release_key_is_listed_and_its_packages_still_verify(
    team: Team, signoff: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _package(team, signoff, tmp_path)
    keys = ReleaseKeyStore(team.keys)
    keys.create("rel-2027", PASSPHRASE.encode())
    view = register_release_key(team.store, team["ada"], "rel", keys.public_key("rel-2027"))
    export = _export(team, signoff, tmp_path / "export")
    release = [k for k in json.loads((export / "keys.json").read_text()) if "kind" in k]
    assert [k["retired_at_seq"] for k in release] == [view.registered_seq, None]
    code, out = _verify(capsys, export, "--package", folder)
    assert code == 0, out
    assert f"retired at {view.registered_seq}" in out


@pytest.mark.parametrize(
    ("signer", "change", "expected"),
    [
        ("rel", {}, "release key registered by rel, who is not an admin"),
        ("ada", {"keyid": "0" * 64}, "names a keyid that is not its key's"),
        ("ada", {"retired_keyid": None}, "does not retire their current release key"),
        ("ada", {"public_key": "not a key"}, "holds no ECDSA P-256 public key"),
    ],
)
def test_a_registration_that_breaks_a_rule_fails_offline(
    team: Team,
    signoff: Runner,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    signer: str,
    change: dict[str, object],
    expected: str,
) -> None:
    """A signed event the services would never write (appended directly) is caught on replay."""
    from audit.release_keys import release_keyid, release_public_pem
    from console.auditing.log import append_event

    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    current = ReleaseKeyStore(team.keys).public_key("rel-release")
    payload = {
        "name": "rel",
        "keyid": release_keyid(public),
        "public_key": release_public_pem(public),
        "retired_keyid": release_keyid(current),
        **change,
    }
    with team.store.session() as session:
        event = append_event(
            session,
            team[signer],
            "release_key.registered",
            "user:rel",
            payload,
            ts=team.store.clock(),
        )
        seq = event.seq
    export = _export(team, signoff, tmp_path / "export")
    code, out = _verify(capsys, export)
    assert code == 1 and f"FAILED at sequence {seq}: " in out and expected in out, out


def test_the_demo_packages_with_a_registered_release_key(
    demo_home: Path,
    signoff: Runner,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fixtures.demo import DEMO_PASSPHRASE

    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    keys = signoff("users", "release-keys", "--home", demo_home, "--json")
    assert [(k["user"], k["current"]) for k in json.loads(keys.output)] == [("rel", True)]
    with tarfile.open(demo_home / "packages" / "credit-risk-v2.tar.gz") as tar:
        assert any(n.endswith("/" + MODEL_SIGNATURE) for n in tar.getnames())
    archive = tmp_path / "again.tar.gz"
    built = signoff("package", "credit-risk:2", "-o", archive, "--home", demo_home, "--as", "rel")
    assert built.exit_code == 0, built.output
    assert "model.sig (OpenSSF Model Signing) by release key" in built.output
    checked = signoff("verify-package", archive, "--home", demo_home)
    assert checked.exit_code == 0 and "model.sig (OpenSSF Model Signing) verifies" in checked.output
    export = _export_home(demo_home, signoff, tmp_path / "export")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    (folder,) = (tmp_path / "unpacked").iterdir()
    code, out = _verify(capsys, export, "--package", folder)
    assert code == 0 and "model.sig verified: rel's release key" in out, out


def _export_home(home: Path, signoff: Runner, target: Path) -> Path:
    result = signoff("audit", "export", target, "--home", home)
    assert result.exit_code == 0, result.output
    return target
