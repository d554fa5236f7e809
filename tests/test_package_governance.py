"""Packages that carry their approvals: verify-package --require-stage, offline, and its attacks."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from audit import checkpoint as checkpoints
from audit.canonical import canonical_json, sha256_hex
from audit.dsse import sign_envelope, statement
from audit.keys import Signer, public_pem
from console.packaging.attestation import ATTESTATION, MANIFEST, PREDICATE_TYPE
from console.packaging.build import build_package
from console.packaging.governance import GOVERNANCE
from console.packaging.verify import verify_package
from console.release.decisions import decide
from console.release.deployments import promote
from console.release.requests import request_promotion
from console.store.db import Store
from console.store.models import StoreInfo
from tests.conftest import Runner, Team, make_team, one_line_error
from tests.test_packaging import members_of
from tests.workflow_helpers import record_validation, register_versions, use_policy

Members = dict[str, bytes]


@dataclass(frozen=True)
class Released:
    team: Team
    v1: Path  # tumour:1, in dev and then production (its first deployment: direct)
    v2: Path  # tumour:2, in dev only
    rel_pub: Path


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Released:
    root = tmp_path_factory.mktemp("governance")
    team = make_team(root / "home", root / "keys")
    register_versions(team, 2)
    use_policy(team, root)
    for version in (1, 2):
        record_validation(team, "tumour", version)
    _approved(team, 1, "dev", "rita")  # request 1
    _approved(team, 1, "staging", "rita", "raj")  # request 2
    _approved(team, 1, "production", "rita", "raj")  # request 3: production was empty: direct
    _approved(team, 2, "dev", "rita")  # request 4: tumour:2 replaces tumour:1 in dev
    v1 = build_package(team.store, team["rel"], "tumour", 1, root / "v1.tar.gz").path
    v2 = build_package(team.store, team["rel"], "tumour", 2, root / "v2.tar.gz").path
    rel_pub = root / "rel.pub"
    rel_pub.write_text(public_pem(team["rel"].public_key))
    return Released(team, v1, v2, rel_pub)


def _approved(team: Team, version: int, stage: str, *approvers: str) -> None:
    view = request_promotion(team.store, team["dana"], "tumour", version, stage, "go")
    for name in approvers:
        decide(team.store, team[name], view.id, "approve", "fine")
    promote(team.store, team["rel"], view.id)


def offline(signoff: Runner, path: Path, tmp_path: Path, *extra: object) -> Any:
    """verify-package on a machine with no store."""
    return signoff("verify-package", path, "--home", tmp_path / "no-store", *extra)


def governance_of(members: Members) -> dict[str, Any]:
    value = json.loads(members[GOVERNANCE])
    assert isinstance(value, dict)
    return value


def resign(members: Members, signer: Signer) -> Members:
    """Manifest and attestation rebuilt and signed again: an insider holding a packager key."""
    manifest = json.loads(members[MANIFEST])
    manifest["files"] = {
        name: {"sha256": sha256_hex(data), "size": len(data)}
        for name, data in sorted(members.items())
        if name not in (MANIFEST, ATTESTATION)
    }
    members[MANIFEST] = canonical_json(manifest)
    predicate = json.loads(base64.b64decode(json.loads(members[ATTESTATION])["payload"]))
    subjects = {n: sha256_hex(d) for n, d in members.items() if n != ATTESTATION}
    body = canonical_json(statement(subjects, PREDICATE_TYPE, predicate["predicate"]))
    members[ATTESTATION] = canonical_json(sign_envelope(body, signer.private_key))
    return members


def tampered(released: Released, tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """tumour:1's package with its governance changed, then re-signed by the release manager."""
    from tests.test_packaging import write_package

    members = members_of(released.v1)
    document = governance_of(members)
    change(document)
    members[GOVERNANCE] = canonical_json(document)
    return write_package(tmp_path / "tampered.tar.gz", resign(members, released.team["rel"]))


def events(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [e for e in document["events"] if e["action"] == action]


# ---- what a package carries ----------------------------------------------------------------


def test_the_package_carries_decisions_stages_keys_and_a_checkpoint(released: Released) -> None:
    members = members_of(released.v1)
    document = governance_of(members)
    assert json.loads(members[MANIFEST])["files"][GOVERNANCE]["sha256"] == sha256_hex(
        members[GOVERNANCE]
    )
    actions = [e["action"] for e in document["events"]]
    assert actions[0] == "store.created"
    assert actions.count("promotion.approved") == 5  # dev: rita; staging, production: rita, raj
    for action in ("version.registered", "promotion.executed", "user.added"):
        assert action in actions
    assert {k["name"] for k in document["keys"]} >= {"ada", "dana", "rita", "raj", "rel"}
    assert set(document["statements"]) == {
        str(e["seq"]) for e in events(document, "promotion.approved")
    }
    note = document["checkpoint"]
    assert note.startswith("signoff/") and "\u2014 rel " in note
    size = int(note.split("\n")[1])
    assert size == max(e["seq"] for e in document["events"]) + 1
    # tumour:2's package holds none of tumour:1's production decisions.
    other = governance_of(members_of(released.v2))
    assert {e["payload_b64"] for e in events(other, "promotion.requested")}.isdisjoint(
        {e["payload_b64"] for e in events(document, "promotion.requested")}
    )


def test_packaging_again_gives_the_same_bytes(released: Released, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(released.team.home, home)
    store = Store(home)
    again = build_package(store, released.team["rel"], "tumour", 1, tmp_path / "again.tar.gz")
    assert again.path.read_bytes() == released.v1.read_bytes()


# ---- --require-stage -----------------------------------------------------------------------


def test_require_stage_offline_with_the_packages_own_keys(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    result = offline(signoff, released.v1, tmp_path, "--require-stage", "production")
    assert result.exit_code == 0, result.output
    assert "approved for and serving production" in result.output
    assert "raj (risk-officer) approved request" in result.output
    assert "the keys are the package's own" in result.output
    assert not (tmp_path / "no-store").exists()
    data = json.loads(
        offline(signoff, released.v1, tmp_path, "--require-stage", "staging", "--json").output
    )
    assert data["ok"] is True and data["trust"] == "package"
    assert data["governance"]["required_stage"] == "staging"


def test_require_stage_with_a_pinned_checkpoint_key(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    pinned = ("--trust-key", released.rel_pub, "--require-stage", "production")
    result = offline(signoff, released.v1, tmp_path, *pinned)
    assert result.exit_code == 0, result.output
    assert "signed by a key you pinned" in result.output
    other = tmp_path / "rita.pub"
    other.write_text(public_pem(released.team["rita"].public_key))
    result = offline(signoff, released.v1, tmp_path, "--trust-key", other)
    assert result.exit_code == 1
    assert "the checkpoint is not signed by the trusted key(s)" in result.output


def test_require_stage_with_the_store(released: Released, signoff: Runner) -> None:
    home = ("--home", released.team.home)
    result = signoff("verify-package", released.v1, *home, "--require-stage", "production")
    assert result.exit_code == 0, result.output
    assert "recorded in this store" in result.output


def test_a_stage_the_version_never_held_fails(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    result = offline(signoff, released.v2, tmp_path, "--require-stage", "production")
    assert result.exit_code == 1
    assert "tumour:2 was never promoted to production (stages in its history: dev)" in (
        result.output
    )
    result = offline(signoff, released.v2, tmp_path, "--require-stage", "staging")
    assert result.exit_code == 1 and "tumour:2 was never promoted to staging" in result.output
    assert offline(signoff, released.v1, tmp_path, "--require-stage", "staging").exit_code == 0
    assert offline(signoff, released.v2, tmp_path, "--require-stage", "dev").exit_code == 0


def test_a_version_replaced_in_a_stage_no_longer_serves_it(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    # tumour:2 replaced tumour:1 in dev after tumour:1 got there.
    result = offline(signoff, released.v1, tmp_path, "--require-stage", "dev")
    assert result.exit_code == 1
    assert "tumour:1 no longer holds dev at the package's checkpoint (version 2" in result.output


def test_a_package_without_governance_cannot_prove_a_stage(
    tmp_path: Path, signoff: Runner, released: Released
) -> None:
    home = tmp_path / "home"
    shutil.copytree(released.team.home, home)
    register_versions(Team(Store(home), home, released.team.keys, released.team.signers), 1)
    store = Store(home)
    bare = build_package(store, released.team["rel"], "tumour", 3, tmp_path / "v3.tar.gz").path
    assert GOVERNANCE not in members_of(bare)
    result = signoff(
        "verify-package", bare, "--pubkey", released.rel_pub, "--home", tmp_path / "none",
        "--require-stage", "dev",
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"carries no {GOVERNANCE}: nothing shows tumour:3 was promoted to dev" in result.output


# ---- attacks -------------------------------------------------------------------------------


def test_a_removed_decision_is_named(released: Released, signoff: Runner, tmp_path: Path) -> None:
    def drop_raj(document: dict[str, Any]) -> None:
        raj = [e for e in events(document, "promotion.approved") if e["actor"] == "raj"]
        document["events"].remove(raj[-1])
        del document["statements"][str(raj[-1]["seq"])]

    path = tampered(released, tmp_path, drop_raj)
    result = offline(signoff, path, tmp_path, "--require-stage", "production")
    assert result.exit_code == 1
    assert "the approval of request 3 by raj is missing or not valid" in result.output
    assert "a decision by raj on request 3 that governance.json does not prove" in result.output


def test_the_whole_governance_removed_is_named(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    from tests.test_packaging import write_package

    members = members_of(released.v1)
    del members[GOVERNANCE]
    path = write_package(tmp_path / "bare.tar.gz", resign(members, released.team["rel"]))
    result = signoff("verify-package", path, "--pubkey", released.rel_pub, "--home", tmp_path)
    assert result.exit_code == 1
    assert f"lists approvals or stage changes, but {GOVERNANCE} is missing" in result.output


def test_a_decision_of_another_version_swapped_in_is_named(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    theirs = governance_of(members_of(released.v2))
    their_decision = events(theirs, "promotion.approved")[0]

    def swap(document: dict[str, Any]) -> None:
        ours = events(document, "promotion.approved")[0]
        document["events"][document["events"].index(ours)] = their_decision
        del document["statements"][str(ours["seq"])]
        document["statements"][str(their_decision["seq"])] = theirs["statements"][
            str(their_decision["seq"])
        ]
        document["events"].sort(key=lambda e: e["seq"])

    path = tampered(released, tmp_path, swap)
    result = offline(signoff, path, tmp_path)
    assert result.exit_code == 1
    assert "decides request 4, not a request for tumour:1 in this package" in result.output


def test_an_edited_signature_is_named(released: Released, signoff: Runner, tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        event = events(document, "promotion.approved")[-1]
        signature = bytearray(base64.b64decode(event["signature_b64"]))
        signature[0] ^= 1
        event["signature_b64"] = base64.b64encode(bytes(signature)).decode()

    result = offline(signoff, tampered(released, tmp_path, edit), tmp_path)
    assert result.exit_code == 1
    assert "(promotion.approved): its signature does not verify" in result.output


def test_an_event_dropped_from_the_proof_is_named(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    def drop(document: dict[str, Any]) -> None:
        events(document, "promotion.executed")[0]["inclusion"].pop()

    result = offline(signoff, tampered(released, tmp_path, drop), tmp_path)
    assert result.exit_code == 1
    assert "(promotion.executed): it is not proven to be in the log of" in result.output


def test_an_edited_payload_is_named(released: Released, signoff: Runner, tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        event = events(document, "promotion.executed")[0]
        payload = json.loads(base64.b64decode(event["payload_b64"]))
        payload["version"] = 2
        event["payload_b64"] = base64.b64encode(canonical_json(payload)).decode()

    result = offline(signoff, tampered(released, tmp_path, edit), tmp_path)
    assert result.exit_code == 1
    assert "its payload does not match the signed digest" in result.output


def test_a_checkpoint_of_another_store_is_refused(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    other = make_team(tmp_path / "other", tmp_path / "other-keys")
    with other.store.session() as session:
        origin = session.get(StoreInfo, "origin")
        assert origin is not None
    rel = released.team["rel"]

    def replace(document: dict[str, Any]) -> None:
        size = int(document["checkpoint"].split("\n")[1])
        root = bytes(32)
        document["checkpoint"] = checkpoints.issue(
            origin.value, size, root, rel.name, rel.private_key
        )

    path = tampered(released, tmp_path, replace)
    result = offline(signoff, path, tmp_path, "--require-stage", "production")
    assert result.exit_code == 1
    assert "the checkpoint is for another log (signoff/" in result.output
    assert (
        "none of its " in result.output and " events is proven to be in the log of" in result.output
    )
    # With the store at hand, its own log names the checkpoint as foreign too.
    result = signoff("verify-package", path, "--home", released.team.home)
    assert result.exit_code == 1


def test_a_store_check_names_a_checkpoint_of_another_log(released: Released) -> None:
    from console.packaging.governance_check import check_governance
    from console.packaging.recorded import checkpoint_mismatches

    document = governance_of(members_of(released.v1))
    carried = check_governance(
        canonical_json(document), {"model": "tumour", "version": 1}, None
    ).excerpt
    assert carried is not None
    assert checkpoint_mismatches(released.team.store, carried) == []
    carried.root = bytes(32)
    assert checkpoint_mismatches(released.team.store, carried) == [
        "the package's checkpoint is not of this store's log (another Merkle root)"
    ]


def test_an_attestation_by_an_unregistered_key_fails_offline(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tests.test_packaging import write_package

    members = resign(members_of(released.v1), Signer("rel", Ed25519PrivateKey.generate()))
    result = offline(signoff, write_package(tmp_path / "forged.tar.gz", members), tmp_path)
    assert result.exit_code == 1
    assert "attestation is not signed by a packager key its governance.json registers" in (
        result.output
    )


def test_bad_verify_input_is_one_line_exit_2(
    released: Released, signoff: Runner, tmp_path: Path
) -> None:
    line = one_line_error(offline(signoff, released.v1, tmp_path, "--require-stage", " "), 2)
    assert "--require-stage needs a stage name" in line
    missing = tmp_path / "nope.pub"
    line = one_line_error(offline(signoff, released.v1, tmp_path, "--trust-key", missing), 2)
    assert "cannot read --trust-key" in line


def test_the_api_verifies_offline_without_any_key(released: Released) -> None:
    result = verify_package(released.v1, require_stage="production")
    assert result.ok, result.problems
    assert result.trust == "package" and result.governance is not None
    assert [a["approver"] for a in result.governance["approvals"]] == [
        "rita",
        "rita",
        "raj",
        "rita",
        "raj",
    ]
