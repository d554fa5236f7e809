"""Keys and users from the CLI: nobody acts as someone else, and only admins manage users."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, PASSPHRASE, Runner, Team, one_line_error


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on the DuckDB file and on a PostgreSQL team store."""
    return str(request.param)


def test_keys_create_writes_encrypted_key_with_private_mode(
    signoff: Runner, isolated_env: Path
) -> None:
    result = signoff("keys", "create", "erin")
    assert result.exit_code == 0, result.output
    key = isolated_env / "erin.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    pem = key.read_text()
    assert "ENCRYPTED PRIVATE KEY" in pem
    assert PASSPHRASE not in result.output and "PRIVATE KEY" not in result.output
    assert str(key) in result.output and str(isolated_env / "erin.pub") in result.output


def test_keys_list_and_export(signoff: Runner, isolated_env: Path) -> None:
    signoff("keys", "create", "erin")
    listing = signoff("keys", "list")
    assert "erin" in listing.output
    exported = signoff("keys", "export", "erin")
    assert exported.output.startswith("-----BEGIN PUBLIC KEY-----")
    assert exported.output == (isolated_env / "erin.pub").read_text()


def test_keys_create_refuses_bad_names_and_duplicates(signoff: Runner) -> None:
    one_line_error(signoff("keys", "create", "Bad Name"))
    signoff("keys", "create", "erin")
    one_line_error(signoff("keys", "create", "erin"))


def test_wrong_passphrase_is_one_line(
    team: Team, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", "not it")
    line = one_line_error(signoff("audit", "checkpoint", "--home", team.home, "--as", "rita"))
    assert "wrong passphrase" in line


def test_passphrase_file(
    team: Team, signoff: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIGNOFF_PASSPHRASE")
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n")
    result = signoff(
        "audit", "checkpoint", "--home", team.home, "--as", "rita", "--passphrase-file", secret
    )
    assert result.exit_code == 0, result.output


def test_loose_key_permissions_are_refused(team: Team, signoff: Runner) -> None:
    os.chmod(team.keys / "rita.key", 0o644)
    line = one_line_error(
        signoff("audit", "checkpoint", "--home", team.home, "--as", "rita"), code=3
    )
    assert "chmod 600" in line


def test_acting_as_someone_whose_key_you_do_not_hold(
    team: Team, signoff: Runner, tmp_path: Path
) -> None:
    (team.keys / "raj.key").rename(tmp_path / "stolen-away.key")
    line = one_line_error(
        signoff("audit", "checkpoint", "--home", team.home, "--as", "raj"), code=3
    )
    assert "do not hold" in line


def test_a_key_file_of_another_user_does_not_let_you_act_as_them(
    team: Team, signoff: Runner
) -> None:
    # rita copies her own key under raj's name: the public key no longer matches raj's.
    (team.keys / "raj.key").unlink()
    (team.keys / "raj.pub").unlink()
    (team.keys / "raj.key").write_bytes((team.keys / "rita.key").read_bytes())
    os.chmod(team.keys / "raj.key", 0o600)
    (team.keys / "raj.pub").write_bytes((team.keys / "rita.pub").read_bytes())
    result = signoff("audit", "checkpoint", "--home", team.home, "--as", "raj")
    assert result.exit_code == 3, result.output


def test_unknown_user_and_no_user(team: Team, signoff: Runner) -> None:
    assert "no user" in one_line_error(
        signoff("audit", "checkpoint", "--home", team.home, "--as", "zed")
    )
    assert "--as" in one_line_error(signoff("audit", "checkpoint", "--home", team.home))


def test_only_admins_add_users(team: Team, signoff: Runner, unchanged) -> None:  # type: ignore[no-untyped-def]
    signoff("keys", "create", "erin")
    check = unchanged(team.home)
    result = signoff(
        "users",
        "add",
        "erin",
        "--role",
        "admin",
        "--pubkey",
        team.keys / "erin.pub",
        "--home",
        team.home,
        "--as",
        "rita",
    )
    assert "needs the role admin" in one_line_error(result, code=3)
    check()
    ok = signoff(
        "users",
        "add",
        "erin",
        "--role",
        "reviewer",
        "--pubkey",
        team.keys / "erin.pub",
        "--home",
        team.home,
        "--as",
        "ada",
    )
    assert ok.exit_code == 0, ok.output
    listing = signoff("users", "list", "--home", team.home, "--json")
    assert '"erin"' in listing.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["erin", "--role", "wizard"], "wizard"),
        (["Erin", "--role", "reviewer"], "invalid user name"),
        (["rita", "--role", "reviewer"], "already exists"),
    ],
)
def test_users_add_bad_input(
    team: Team, signoff: Runner, unchanged, args: list[str], needle: str
) -> None:  # type: ignore[no-untyped-def]
    signoff("keys", "create", "erin")
    check = unchanged(team.home)
    result = signoff(
        "users",
        "add",
        *args,
        "--pubkey",
        team.keys / "erin.pub",
        "--home",
        team.home,
        "--as",
        "ada",
    )
    assert result.exit_code == 2 and needle in result.output
    check()


def test_users_add_with_missing_or_bad_pubkey(
    team: Team, signoff: Runner, tmp_path: Path, unchanged
) -> None:  # type: ignore[no-untyped-def]
    check = unchanged(team.home)
    one_line_error(
        signoff(
            "users",
            "add",
            "erin",
            "--role",
            "reviewer",
            "--pubkey",
            tmp_path / "nope.pub",
            "--home",
            team.home,
            "--as",
            "ada",
        )
    )
    junk = tmp_path / "junk.pub"
    junk.write_text("not a key")
    one_line_error(
        signoff(
            "users",
            "add",
            "erin",
            "--role",
            "reviewer",
            "--pubkey",
            junk,
            "--home",
            team.home,
            "--as",
            "ada",
        )
    )
    check()


def test_revoked_user_cannot_act(team: Team, signoff: Runner) -> None:
    assert signoff("users", "revoke", "rita", "--home", team.home, "--as", "ada").exit_code == 0
    line = one_line_error(
        signoff("audit", "checkpoint", "--home", team.home, "--as", "rita"), code=3
    )
    assert "revoked" in line
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0


def test_key_rotation_by_the_user_then_old_key_is_dead(team: Team, signoff: Runner) -> None:
    assert signoff("keys", "create", "rita-2027").exit_code == 0
    rotated = signoff(
        "keys", "rotate", "--new-key", "rita-2027", "--home", team.home, "--as", "rita"
    )
    assert rotated.exit_code == 0, rotated.output
    # The old key file is still there, but acting now needs the new one: both are in the dir,
    # so the lookup finds the new key by its id.
    assert signoff("audit", "checkpoint", "--home", team.home, "--as", "rita").exit_code == 0
    (team.keys / "rita-2027.key").unlink()
    assert signoff("audit", "checkpoint", "--home", team.home, "--as", "rita").exit_code == 3
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0


def test_rotation_of_someone_else_needs_admin(team: Team, signoff: Runner) -> None:
    signoff("keys", "create", "new-raj")
    refused = signoff(
        "keys",
        "rotate",
        "--user",
        "raj",
        "--new-key",
        "new-raj",
        "--home",
        team.home,
        "--as",
        "rita",
    )
    assert refused.exit_code == 3
    ok = signoff(
        "keys",
        "rotate",
        "--user",
        "raj",
        "--pubkey",
        team.keys / "new-raj.pub",
        "--home",
        team.home,
        "--as",
        "ada",
    )
    assert ok.exit_code == 0, ok.output
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0


def test_init_prints_fingerprint_and_refuses_twice(signoff: Runner, tmp_path: Path) -> None:
    home = tmp_path / "store"
    result = signoff("init", "--admin", "ada", "--home", home)
    assert result.exit_code == 0, result.output
    assert "fingerprint" in result.output
    # The policy init writes lives in the store now (schema v4), not in a file beside it.
    from console.release.policy import default_policy_text

    assert signoff("policy", "show", "--home", home).output.endswith(default_policy_text())
    assert not (home / "policy.toml").exists()
    assert "already exists" in one_line_error(signoff("init", "--admin", "ada", "--home", home))


def test_init_on_unwritable_path(signoff: Runner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_line_error(signoff("init", "--admin", "ada", "--home", blocker / "store"))
    assert "cannot create" in line


def test_last_admin_cannot_revoke_themselves(team: Team, signoff: Runner) -> None:
    assert signoff("users", "revoke", "ada", "--home", team.home, "--as", "ada").exit_code == 3
