"""Signed packages: byte-identical rebuilds, offline verification, and every tampering named."""

from __future__ import annotations

import base64
import copy
import gzip
import io
import json
import os
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]
from sqlmodel import select

from audit.canonical import canonical_json, sha256_hex
from audit.dsse import sign_envelope, sslib_keyid
from audit.keys import public_pem, public_raw
from console.errors import Refused
from console.identity.users import revoke_user
from console.packaging.attestation import PREDICATE_TYPE
from console.packaging.build import build_package
from console.packaging.verify import verify_package
from console.store.db import Store
from console.store.models import AuditEvent, PackageRecord
from tests.conftest import Runner, Team, fixed_clock, make_team, one_line_error
from tests.workflow_helpers import record_validation, register_versions

TOP = "tumour-v1"
Members = dict[str, bytes]


# ---- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """tumour:1 with a validation run and tumour:2 without one, built once per module."""
    root = tmp_path_factory.mktemp("packaging")
    team = make_team(root / "home", root / "keys")
    register_versions(team, 2)
    record_validation(team, "tumour", 1)
    return team


@pytest.fixture
def team_copy(template: Team, tmp_path: Path, isolated_env: Path) -> Team:
    """A private copy of the template store, for tests that change it."""
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    shutil.copytree(template.keys, isolated_env)
    return Team(Store(home), home, isolated_env, template.signers)


@dataclass(frozen=True)
class Shared:
    team: Team
    package: Path


@pytest.fixture(scope="module")
def shared(template: Team, tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """tumour:1 packaged once by the release manager, for tests that only read."""
    root = tmp_path_factory.mktemp("shared")
    shutil.copytree(template.home, root / "home")
    team = Team(Store(root / "home"), root / "home", template.keys, template.signers)
    package = build_package(team.store, team["rel"], "tumour", 1, root / "p.tar.gz").path
    return Shared(team, package)


@pytest.fixture
def package(shared: Shared) -> Path:
    return shared.package


@pytest.fixture
def team(shared: Shared, monkeypatch: pytest.MonkeyPatch) -> Team:
    """The shared store (overrides conftest's `team`): tests using it leave it unchanged."""
    monkeypatch.setenv("SIGNOFF_KEYS", str(shared.team.keys))
    return shared.team


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory the commands run in."""
    directory = tmp_path / "work"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


def members_of(path: Path) -> Members:
    with tarfile.open(path, "r:gz") as tar:
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def write_package(path: Path, members: Members, extra: tuple[tarfile.TarInfo, ...] = ()) -> Path:
    """A tampered package: the given members (and raw extra headers) in a fresh tar.gz."""
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(_dir(TOP))
        for name in sorted(members):
            info = tarfile.TarInfo(f"{TOP}/{name}")
            info.size = len(members[name])
            tar.addfile(info, io.BytesIO(members[name]))
        for info in extra:
            tar.addfile(info)
    return path


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info


def attestation(members: Members) -> dict[str, Any]:
    envelope = json.loads(members["attestation.dsse.json"])
    assert isinstance(envelope, dict)
    return envelope


def statement_of(members: Members) -> dict[str, Any]:
    body = json.loads(base64.b64decode(attestation(members)["payload"]))
    assert isinstance(body, dict)
    return body


def tree(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def verify_cli(signoff: Runner, path: Path, team: Team, *extra: str) -> Any:
    return signoff("verify-package", path, "--home", team.home, *extra)


# ---- building ------------------------------------------------------------------------------


def test_packaging_twice_gives_identical_bytes_whatever_the_clock(
    team_copy: Team, signoff: Runner, work: Path
) -> None:
    first = signoff("package", "tumour:1", "--home", team_copy.home, "--as", "rel")
    assert first.exit_code == 0, first.output
    assert "tumour-v1.tar.gz" in first.output
    default = work / "tumour-v1.tar.gz"
    again = signoff(
        "package",
        "tumour:1",
        "-o",
        "again.tar.gz",
        "--home",
        team_copy.home,
        "--as",
        "rel",
        "--json",
    )
    assert again.exit_code == 0, again.output
    assert (work / "again.tar.gz").read_bytes() == default.read_bytes()
    reported = json.loads(again.output)
    assert reported["sha256"] == sha256_hex(default.read_bytes())
    assert reported["path"] == "again.tar.gz" and "model.skops" in reported["files"]

    team_copy.store.clock = fixed_clock("2031-05-05T05:05:05")
    later = build_package(team_copy.store, team_copy["rel"], "tumour", 1, work / "later.tar.gz")
    team_copy.store.clock = fixed_clock("2024-01-01T00:00:00")
    earlier = build_package(team_copy.store, team_copy["rel"], "tumour", 1, work / "early.tar.gz")
    assert later.sha256 == earlier.sha256 == sha256_hex(default.read_bytes())
    assert (work / "early.tar.gz").read_bytes() == default.read_bytes()
    assert sorted(p.name for p in work.iterdir()) == [
        "again.tar.gz",
        "early.tar.gz",
        "later.tar.gz",
        "tumour-v1.tar.gz",
    ]  # no temporary files left behind

    data = default.read_bytes()
    assert data[:3] == b"\x1f\x8b\x08"
    assert data[3] & 0x08 == 0, "the gzip header names no file"
    assert data[4:8] == b"\0\0\0\0", "the gzip header carries no time"
    with tarfile.open(default, "r:gz") as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == [TOP] + [
        f"{TOP}/{n}"
        for n in sorted(
            [
                "MANIFEST.json",
                "attestation.dsse.json",
                "environment.lock",
                "input_schema.json",
                "model.skops",
                "model_card.json",
                "model_card.md",
                "validation_report.json",
            ]
        )
    ]
    assert {(i.uid, i.gid, i.uname, i.gname) for i in infos} == {(0, 0, "", "")}
    assert {i.mode for i in infos if i.isfile()} == {0o644}
    assert infos[0].isdir() and infos[0].mode == 0o755
    assert len({i.mtime for i in infos}) == 1


def test_contents_manifest_and_predicate(package: Path, team: Team) -> None:
    from console.registry.views import get_version

    members = members_of(package)
    view = get_version(team.store, "tumour", 1)
    assert sha256_hex(members["model.skops"]) == view.artifact_sha256
    manifest = json.loads(members["MANIFEST.json"])
    assert members["MANIFEST.json"] == canonical_json(manifest)
    assert (manifest["model"], manifest["version"]) == ("tumour", 1)
    assert set(manifest["files"]) == set(members) - {"MANIFEST.json", "attestation.dsse.json"}
    for name, entry in manifest["files"].items():
        assert entry == {"sha256": sha256_hex(members[name]), "size": len(members[name])}
    schema = json.loads(members["input_schema.json"])
    assert schema["target"] == "malignant"
    assert [f["name"] for f in schema["features"]] == ["radius", "texture", "perimeter", "area"]
    lock = members["environment.lock"].decode()
    assert "# python 3." in lock and "scikit-learn==" in lock and "skops==" in lock
    assert members["model_card.md"].startswith(b"---\n")
    json.loads(members["model_card.json"])

    body = statement_of(members)
    assert body["predicateType"] == PREDICATE_TYPE
    subjects = {s["name"]: s["digest"]["sha256"] for s in body["subject"]}
    assert subjects == {
        n: sha256_hex(d) for n, d in members.items() if n != "attestation.dsse.json"
    }
    predicate = body["predicate"]
    report = json.loads(members["validation_report.json"])
    assert predicate["validation"]["run_id"] == report["run"] == 1
    assert predicate["validation"]["report_sha256"] == sha256_hex(members["validation_report.json"])
    assert predicate["artifact"]["sha256"] == view.artifact_sha256
    assert predicate["training_dataset"]["sha256"] == view.train_dataset_sha256
    assert predicate["packager"] == {"name": "rel", "keyid": team["rel"].keyid}
    assert predicate["approvals"] == [] and predicate["stages"] == []
    assert predicate["stage_history"] == []
    from console.release.policy import load_policy

    assert predicate["policy_sha256"] == load_policy(team.store).digest


def test_a_version_without_validation_has_no_report(team_copy: Team, work: Path) -> None:
    result = build_package(team_copy.store, team_copy["dana"], "tumour", 2, None)
    assert result.path == Path("tumour-v2.tar.gz")
    members = members_of(work / "tumour-v2.tar.gz")
    assert "validation_report.json" not in members
    assert statement_of(members)["predicate"]["validation"] is None


def test_the_package_is_recorded_with_its_event_and_the_log_verifies(
    team_copy: Team, signoff: Runner, work: Path
) -> None:
    package = build_package(team_copy.store, team_copy["rel"], "tumour", 1, work / "p.tar.gz").path
    digest = sha256_hex(package.read_bytes())
    with team_copy.store.session() as session:
        record = session.get(PackageRecord, digest)
        assert record is not None
        assert (record.model, record.version, record.file_name) == ("tumour", 1, "p.tar.gz")
        assert (record.size, record.created_by, record.verified) == (
            package.stat().st_size,
            "rel",
            True,
        )
        event = session.exec(select(AuditEvent).where(AuditEvent.seq == record.event_seq)).one()
        assert (event.action, event.subject, event.model, event.actor) == (
            "package.built",
            "tumour:1",
            "tumour",
            "rel",
        )
        payload = json.loads(event.payload)
    members = members_of(package)
    assert payload["sha256"] == digest and payload["size"] == record.size
    assert payload["members"] == {n: sha256_hex(d) for n, d in members.items()}
    assert payload["statement_sha256"] == sha256_hex(
        base64.b64decode(attestation(members)["payload"])
    )
    # Built again: the same record, now pointing at the newer event.
    build_package(team_copy.store, team_copy["rel"], "tumour", 1, package)
    with team_copy.store.session() as session:
        rows = session.exec(select(PackageRecord)).all()
        assert [r.sha256 for r in rows] == [digest]
        assert rows[0].event_seq > record.event_seq
    result = signoff("audit", "verify", "--home", team_copy.home)
    assert result.exit_code == 0, result.output


# ---- verifying -----------------------------------------------------------------------------


def test_verify_with_the_store(package: Path, team: Team, signoff: Runner) -> None:
    result = verify_cli(signoff, package, team)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"OK: {package} verifies: tumour:1")
    assert "signed by rel" in result.output and "recorded in this store" in result.output
    as_json = json.loads(verify_cli(signoff, package, team, "--json").output)
    assert as_json["ok"] is True and as_json["problems"] == [] and as_json["recorded"] is True
    assert as_json["sha256"] == sha256_hex(package.read_bytes())


def test_verify_offline_with_only_a_public_key(
    package: Path, team: Team, signoff: Runner, tmp_path: Path
) -> None:
    pub = tmp_path / "rel.pub"
    pub.write_text(public_pem(team["rel"].public_key))
    nowhere = tmp_path / "no-store"
    result = signoff("verify-package", package, "--pubkey", pub, "--home", nowhere)
    assert result.exit_code == 0, result.output
    assert "signed by rel" in result.output
    assert not nowhere.exists()
    # Without the store and without a key there is nothing to trust.
    line = one_line_error(signoff("verify-package", package, "--home", nowhere), 2)
    assert "--pubkey" in line
    # Another person's key does not verify the release manager's package.
    other = tmp_path / "rita.pub"
    other.write_text(public_pem(team["rita"].public_key))
    result = signoff("verify-package", package, "--pubkey", other, "--home", nowhere)
    assert result.exit_code == 1
    assert "not signed by the given public key" in result.output
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key")
    assert "bad.pub" in one_line_error(
        signoff("verify-package", package, "--pubkey", bad, "--home", nowhere), 2
    )


def test_securesystemslib_verifies_the_attestation(package: Path, team: Team) -> None:
    envelope = attestation(members_of(package))
    rel = team["rel"].public_key
    key = SSlibKey(sslib_keyid(rel), "ed25519", "ed25519", {"public": public_raw(rel).hex()})
    parsed = Envelope.from_dict(copy.deepcopy(envelope))
    assert list(parsed.verify([key], 1)) == [team["rel"].keyid]
    assert json.loads(parsed.payload)["_type"] == "https://in-toto.io/Statement/v1"


def test_a_flipped_byte_in_the_artifact_is_named(
    package: Path, team: Team, signoff: Runner, tmp_path: Path
) -> None:
    members = members_of(package)
    skops = bytearray(members["model.skops"])
    skops[len(skops) // 2] ^= 0x01
    members["model.skops"] = bytes(skops)
    bad = write_package(tmp_path / "bad.tar.gz", members)
    result = verify_cli(signoff, bad, team)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"FAILED: {bad} does not verify")
    assert "model.skops: sha256 mismatch" in result.output
    assert "Traceback" not in result.output


def test_a_consistent_manifest_does_not_fool_the_attestation(
    package: Path, team: Team, signoff: Runner, tmp_path: Path
) -> None:
    members = members_of(package)
    members["model.skops"] = members["model.skops"] + b"\0"
    manifest = json.loads(members["MANIFEST.json"])
    manifest["files"]["model.skops"] = {
        "sha256": sha256_hex(members["model.skops"]),
        "size": len(members["model.skops"]),
    }
    members["MANIFEST.json"] = canonical_json(manifest)
    result = verify_cli(signoff, write_package(tmp_path / "bad.tar.gz", members), team)
    assert result.exit_code == 1
    assert "MANIFEST.json: sha256 differs from the attestation" in result.output
    assert "model.skops: sha256 differs from the attestation" in result.output
    assert "model.skops: sha256 mismatch" not in result.output


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda m: m["files"].pop("input_schema.json"), "input_schema.json: not listed"),
        (lambda m: m["files"]["model.skops"].update(size=1), "model.skops: size mismatch"),
        (
            lambda m: m["files"].update({"extra.txt": {"sha256": "0" * 64, "size": 0}}),
            "extra.txt: listed in MANIFEST.json but missing",
        ),
    ],
)
def test_a_modified_manifest_is_named(
    package: Path,
    team: Team,
    signoff: Runner,
    tmp_path: Path,
    mutate: Callable[[dict[str, Any]], object],
    expected: str,
) -> None:
    members = members_of(package)
    manifest = json.loads(members["MANIFEST.json"])
    mutate(manifest)
    members["MANIFEST.json"] = canonical_json(manifest)
    result = verify_cli(signoff, write_package(tmp_path / "bad.tar.gz", members), team)
    assert result.exit_code == 1
    assert expected in result.output
    assert "MANIFEST.json: sha256 differs from the attestation" in result.output


def test_an_attestation_by_an_unknown_key_is_refused(
    package: Path, team: Team, signoff: Runner, tmp_path: Path
) -> None:
    members = members_of(package)
    payload = base64.b64decode(attestation(members)["payload"])
    stranger = Ed25519PrivateKey.generate()
    members["attestation.dsse.json"] = canonical_json(sign_envelope(payload, stranger))
    result = verify_cli(signoff, write_package(tmp_path / "stranger.tar.gz", members), team)
    assert result.exit_code == 1
    assert "signed by a key this store does not hold as valid" in result.output

    # A stranger's signature that claims the release manager's keyid.
    forged = sign_envelope(payload, stranger)
    forged["signatures"][0]["keyid"] = team["rel"].keyid  # type: ignore[index]
    members["attestation.dsse.json"] = canonical_json(forged)
    result = verify_cli(signoff, write_package(tmp_path / "forged.tar.gz", members), team)
    assert result.exit_code == 1
    assert "attestation signature does not verify" in result.output

    # A genuine signature over an edited statement.
    body = statement_of(members_of(package))
    body["predicate"]["approvals"] = [{"approver": "raj", "decision": "approve"}]
    envelope = attestation(members_of(package))
    envelope["payload"] = base64.b64encode(canonical_json(body)).decode()
    members["attestation.dsse.json"] = canonical_json(envelope)
    result = verify_cli(signoff, write_package(tmp_path / "edited.tar.gz", members), team)
    assert result.exit_code == 1
    assert "attestation signature does not verify" in result.output


@pytest.mark.parametrize(
    ("claimed", "expected"),
    [
        ("ada", "names packager 'ada' but is signed by 'rita''s key"),
        ("rita", "signed by 'rita', whose role may not build packages"),
    ],
)
def test_a_store_user_cannot_package_by_hand_or_as_someone_else(
    package: Path, team: Team, signoff: Runner, tmp_path: Path, claimed: str, expected: str
) -> None:
    members = members_of(package)
    body = statement_of(members)
    body["predicate"]["packager"] = {"name": claimed, "keyid": team["rita"].keyid}
    members["attestation.dsse.json"] = canonical_json(
        sign_envelope(canonical_json(body), team["rita"].private_key)
    )
    result = verify_cli(signoff, write_package(tmp_path / "bad.tar.gz", members), team)
    assert result.exit_code == 1
    assert expected in result.output


def test_a_revoked_key_still_verifies_the_packages_recorded_before(
    team_copy: Team, signoff: Runner, work: Path, tmp_path: Path
) -> None:
    package = build_package(team_copy.store, team_copy["rel"], "tumour", 1, work / "p.tar.gz").path
    revoke_user(team_copy.store, team_copy["ada"], "rel")
    assert verify_cli(signoff, package, team_copy).exit_code == 0
    # A package the store never recorded is not vouched for by a revoked key.
    members = members_of(package)
    members["model_card.md"] += b"\n"
    unrecorded = write_package(tmp_path / "unrecorded.tar.gz", members)
    result = verify_cli(signoff, unrecorded, team_copy)
    assert result.exit_code == 1
    assert "does not hold as valid" in result.output


def _evil(kind: str, tmp_path: Path) -> tuple[tarfile.TarInfo, str]:
    if kind == "absolute":
        info = tarfile.TarInfo(str(tmp_path / "escaped.txt"))
        return info, "absolute path"
    if kind == "dotdot":
        return tarfile.TarInfo(f"{TOP}/../../escaped.txt"), "path escapes the package"
    if kind == "symlink":
        info = tarfile.TarInfo(f"{TOP}/link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        return info, "links are not allowed"
    if kind == "hardlink":
        info = tarfile.TarInfo(f"{TOP}/hard")
        info.type, info.linkname = tarfile.LNKTYPE, "/etc/passwd"
        return info, "links are not allowed"
    if kind == "fifo":
        info = tarfile.TarInfo(f"{TOP}/pipe")
        info.type = tarfile.FIFOTYPE
        return info, "devices and fifos are not allowed"
    info = tarfile.TarInfo(f"{TOP}/dev")
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    return info, "devices and fifos are not allowed"


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "hardlink", "fifo", "device"])
def test_unsafe_members_are_refused_and_nothing_is_extracted(
    package: Path, team: Team, signoff: Runner, tmp_path: Path, work: Path, kind: str
) -> None:
    info, reason = _evil(kind, tmp_path)
    bad = write_package(tmp_path / "evil.tar.gz", members_of(package), (info,))
    before = tree(tmp_path)
    result = verify_cli(signoff, bad, team)
    assert result.exit_code == 1, result.output
    assert f"member {info.name} refused: {reason}" in result.output
    assert tree(tmp_path) == before
    assert not (tmp_path / "escaped.txt").exists()


def test_an_oversized_member_header_is_refused_before_reading(
    team: Team, signoff: Runner, tmp_path: Path, work: Path
) -> None:
    info = tarfile.TarInfo(f"{TOP}/model.skops")
    info.size = 3 << 30  # the data is not there: the header alone must stop the reader
    raw = _dir(TOP).tobuf(tarfile.PAX_FORMAT) + info.tobuf(tarfile.PAX_FORMAT) + b"\0" * 1024
    bad = tmp_path / "huge.tar.gz"
    bad.write_bytes(gzip.compress(raw))
    before = tree(tmp_path)
    result = verify_cli(signoff, bad, team)
    assert result.exit_code == 1, result.output
    assert f"member {TOP}/model.skops refused: size {3 << 30} exceeds the limit" in result.output
    assert tree(tmp_path) == before


def test_members_outside_the_layout_are_named(
    package: Path, team: Team, signoff: Runner, tmp_path: Path
) -> None:
    members = members_of(package)
    members["sub/extra.txt"] = b"x"
    result = verify_cli(signoff, write_package(tmp_path / "bad.tar.gz", members), team)
    assert result.exit_code == 1
    assert f"member {TOP}/sub/extra.txt: files belong directly in {TOP}/" in result.output


def _truncated(package: Path) -> bytes:
    return package.read_bytes()[: package.stat().st_size // 2]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("random.tar.gz", lambda _p: os.urandom(4096)),
        ("text.tar.gz", lambda _p: b"just some text\n"),
        ("empty.tar.gz", lambda _p: b""),
        ("gzip-not-tar.tar.gz", lambda _p: gzip.compress(b"hello " * 200)),
        ("plain.tar", lambda p: gzip.decompress(p.read_bytes())),
        ("truncated.tar.gz", _truncated),
    ],
)
def test_a_file_that_is_not_a_package_is_one_line_exit_2(
    package: Path,
    team: Team,
    signoff: Runner,
    tmp_path: Path,
    name: str,
    content: Callable[[Path], bytes],
) -> None:
    path = tmp_path / name
    path.write_bytes(content(package))
    line = one_line_error(verify_cli(signoff, path, team), 2)
    assert str(path) in line


def test_a_missing_file_is_one_line_exit_2(team: Team, signoff: Runner, tmp_path: Path) -> None:
    line = one_line_error(verify_cli(signoff, tmp_path / "nope.tar.gz", team), 2)
    assert "nope.tar.gz" in line


# ---- refusals ------------------------------------------------------------------------------


def test_a_swapped_artifact_stops_packaging_and_changes_nothing(
    team_copy: Team, signoff: Runner, work: Path, unchanged: Any
) -> None:
    from console.registry.views import get_version
    from console.store.artifacts import ArtifactStore

    blob = ArtifactStore(team_copy.store.artifacts_dir).path_for(
        get_version(team_copy.store, "tumour", 1).artifact_sha256
    )
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    check = unchanged(team_copy.home)
    result = signoff("package", "tumour:1", "--home", team_copy.home, "--as", "rel")
    line = one_line_error(result, 1)
    assert "does not match its digest" in line
    check()
    assert list(work.iterdir()) == []


def test_a_reviewer_cannot_package(team: Team, signoff: Runner, work: Path, unchanged: Any) -> None:
    check = unchanged(team.home)
    result = signoff("package", "tumour:1", "--home", team.home, "--as", "rita")
    line = one_line_error(result, 3)
    assert "release-manager or author or admin" in line
    check()
    assert list(work.iterdir()) == []
    with pytest.raises(Refused):
        build_package(team.store, team["rita"], "tumour", 1, work / "x.tar.gz")
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["tumour"], "names no version"),
        (["tumour:9"], "has no version 9"),
        (["nobody:1"], "no model 'nobody'"),
        (["tumour:1", "-o", "."], "is a directory"),
        (["tumour:1", "-o", "missing/dir/p.tar.gz"], "does not exist"),
    ],
)
def test_bad_package_input_is_one_line_exit_2(
    team: Team,
    signoff: Runner,
    work: Path,
    unchanged: Any,
    args: list[str],
    expected: str,
) -> None:
    check = unchanged(team.home)
    result = signoff("package", *args, "--home", team.home, "--as", "rel")
    assert expected in one_line_error(result, 2)
    check()
    assert list(work.iterdir()) == []


def test_verify_package_needs_no_store_only_with_a_key(
    package: Path, team: Team, tmp_path: Path
) -> None:
    # The API: a result for a good package, BadInput without anything to trust.
    from console.errors import BadInput

    assert verify_package(package, public_keys=[team["rel"].public_key]).ok
    with pytest.raises(BadInput):
        verify_package(package)
