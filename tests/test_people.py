"""People over time: role changes, a revoked name registered again, approvals after revocation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from audit.keys import KeyStore, Signer
from console.errors import Refused
from console.identity.users import add_user, find_user, list_users, revoke_user, set_role
from console.release.decisions import decide
from console.release.deployments import promote
from console.release.history import history as model_history
from console.release.requests import get_request, request_promotion
from console.store.db import Store
from tests.conftest import PASSPHRASE, Runner, Team, make_team, one_line_error
from tests.workflow_helpers import record_validation, register_versions, use_policy

MODEL = "tumour"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """v1 was promoted to dev on rita's approval; v2 has an open dev request rita approved."""
    base = tmp_path_factory.mktemp("people")
    team = make_team(base / "home", base / "keys")
    register_versions(team, 2)
    use_policy(team, base)
    for version in (1, 2):
        record_validation(team, MODEL, version)
    view = request_promotion(team.store, team["dana"], MODEL, 1, "dev", "v1")
    decide(team.store, team["rita"], view.id, "approve", "ok")
    promote(team.store, team["rel"], view.id)
    view = request_promotion(team.store, team["dana"], MODEL, 2, "dev", "v2")
    decide(team.store, team["rita"], view.id, "approve", "ok")
    team.store.dispose()
    return team


@pytest.fixture
def people(template: Team, tmp_path: Path, isolated_env: Path) -> Team:
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    shutil.copytree(template.keys, isolated_env, dirs_exist_ok=True)
    return Team(Store(home), home, isolated_env, dict(template.signers))


def _run(signoff: Runner, team: Team, *args: object) -> str:
    result = signoff(*args, "--home", team.home)
    assert result.exit_code == 0, result.output
    return result.output


def _verified(signoff: Runner, team: Team) -> None:
    result = signoff("audit", "verify", "--home", team.home, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["differences"] == []


# ---- set-role --------------------------------------------------------------------------------


def test_set_role_is_signed_projected_and_takes_effect(people: Team, signoff: Runner) -> None:
    out = _run(
        signoff, people, "users", "set-role", "aud", "reviewer", "--reason", "x", "--as", "ada"
    )
    assert "aud is now reviewer" in out
    _verified(signoff, people)  # the projection replays user.role_changed
    events = _run(signoff, people, "audit", "log", "--json")
    assert "user.role_changed" in events
    view = request_promotion(people.store, people["dana"], MODEL, 1, "staging", "go")
    decided = decide(people.store, people["aud"], view.id, "approve", "now a reviewer")
    assert "aud" in [a.approver for a in decided.approvals]


def test_a_role_change_undone_in_the_table_is_caught(people: Team, signoff: Runner) -> None:
    set_role(people.store, people["ada"], "rosa", "auditor", "moved to audit")
    people.store.dispose()
    con = duckdb.connect(str(people.home / "signoff.duckdb"))
    con.execute("UPDATE users SET role = 'reviewer' WHERE name = 'rosa'")
    con.close()
    result = signoff("audit", "verify", "--home", people.home)
    assert result.exit_code == 1 and "users" in result.output, result.output


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["aud", "reviewer", "--reason", "x", "--as", "rita"], 3, "needs the role admin"),
        (["ada", "reviewer", "--reason", "x", "--as", "ada"], 3, "last active admin"),
        (["aud", "auditor", "--reason", "x", "--as", "ada"], 2, "already auditor"),
        (["zed", "auditor", "--reason", "x", "--as", "ada"], 2, "no user"),
        (["aud", "reviewer", "--reason", " ", "--as", "ada"], 2, "--reason"),
    ],
)
def test_set_role_refusals_change_nothing(
    people: Team, signoff: Runner, unchanged, args: list[str], code: int, needle: str
) -> None:  # type: ignore[no-untyped-def]
    check = unchanged(people.home)
    line = one_line_error(signoff("users", "set-role", *args, "--home", people.home), code=code)
    assert needle in line
    check()


def test_set_role_of_a_revoked_user_and_an_unknown_role(
    people: Team, signoff: Runner, unchanged
) -> None:  # type: ignore[no-untyped-def]
    revoke_user(people.store, people["ada"], "rosa")
    check = unchanged(people.home)
    line = one_line_error(
        signoff(
            "users",
            "set-role",
            "rosa",
            "auditor",
            "--reason",
            "x",
            "--home",
            people.home,
            "--as",
            "ada",
        )
    )
    assert "revoked" in line
    bad = signoff(
        "users", "set-role", "aud", "wizard", "--reason", "x", "--home", people.home, "--as", "ada"
    )
    assert bad.exit_code == 2 and "wizard" in bad.output
    check()


def test_an_admin_may_step_down_once_another_admin_exists(people: Team) -> None:
    set_role(people.store, people["ada"], "rel", "admin", "second admin")
    view = set_role(people.store, people["ada"], "ada", "auditor", "stepping down")
    assert view.role == "auditor"
    with pytest.raises(Refused, match="last active admin"):
        set_role(people.store, people["rel"], "rel", "reviewer", "no")


# ---- a revoked name registered again ---------------------------------------------------------


def _new_key(team: Team, name: str, file: str) -> Signer:
    keystore = KeyStore(team.keys)
    keystore.create(file, PASSPHRASE.encode())
    return Signer(name, keystore.load_private(file, PASSPHRASE.encode()))


def test_a_revoked_name_returns_as_a_new_identity(people: Team, signoff: Runner) -> None:
    revoke_user(people.store, people["ada"], "rita")
    old = people["rita"]
    same_key = one_line_error(
        signoff(
            "users",
            "add",
            "rita",
            "--role",
            "reviewer",
            "--pubkey",
            people.keys / "rita.pub",
            "--home",
            people.home,
            "--as",
            "ada",
        )
    )
    assert "new key" in same_key
    rita2 = _new_key(people, "rita", "rita-2")
    out = _run(
        signoff,
        people,
        "users",
        "add",
        "rita",
        "--role",
        "risk-officer",
        "--pubkey",
        people.keys / "rita-2.pub",
        "--as",
        "ada",
    )
    assert "generation 2" in out
    view = find_user(people.store, "rita")
    assert view is not None and view.generation == 2 and view.active and view.keyid == rita2.keyid
    assert view.role == "risk-officer"
    listed = json.loads(_run(signoff, people, "users", "list", "--json"))
    assert {"name": "rita", "generation": 2}.items() <= next(
        u for u in listed if u["name"] == "rita"
    ).items()
    assert "GENERATION" in _run(signoff, people, "users", "list")
    # The old key's events still verify with the key registered then; it can sign no more.
    _verified(signoff, people)
    assert old.keyid != rita2.keyid
    moved = signoff("audit", "checkpoint", "--home", people.home, "--as", "rita")
    assert moved.exit_code == 0, moved.output  # found by the new key's id, not the old file
    # The log says so too: the second user.added names its generation.
    with people.store.session() as session:
        from sqlalchemy import text

        payloads = [
            json.loads(bytes(p))
            for (p,) in session.connection().execute(
                text("SELECT payload FROM audit_events WHERE subject = 'user:rita' ORDER BY seq")
            )
        ]
    assert payloads[0]["generation"] == 1 and payloads[-1]["generation"] == 2


def test_a_pending_approval_of_the_old_identity_stays_void(people: Team, signoff: Runner) -> None:
    pending = next(v for v in list_requests_of(people) if v.status == "open")
    revoke_user(people.store, people["ada"], "rita")
    rita2 = _new_key(people, "rita", "rita-2")
    add_user(people.store, people["ada"], "rita", "reviewer", rita2.public_key)
    view = get_request(people.store, pending.id)
    assert view.counted == []
    assert [a.void_reason for a in view.approvals] == ["approver revoked"]
    shown = _run(signoff, people, "show-request", str(pending.id))
    assert "void: approver revoked" in shown
    with pytest.raises(Refused):
        promote(people.store, people["rel"], pending.id)


def test_approvals_of_an_executed_request_stay_counted_after_revocation(
    people: Team, signoff: Runner
) -> None:
    executed = next(v for v in list_requests_of(people) if v.status == "promoted")
    revoke_user(people.store, people["ada"], "rita")
    view = get_request(people.store, executed.id)
    assert view.counted == ["rita"]
    assert not any(a.void for a in view.approvals)
    assert "void" not in _run(signoff, people, "show-request", str(executed.id))
    _verified(signoff, people)
    history = model_history(people.store, MODEL)
    assert not any("void" in e.detail or "revoked" in e.detail for e in history.entries)


def list_requests_of(team: Team) -> list:  # type: ignore[type-arg]
    from console.release.requests import list_requests

    return list_requests(team.store, model=MODEL)


def test_users_list_shows_revocation_and_generation(people: Team) -> None:
    revoke_user(people.store, people["ada"], "rosa")
    by_name = {u.name: u for u in list_users(people.store)}
    assert not by_name["rosa"].active and by_name["rosa"].generation == 1
    assert by_name["ada"].generation == 1


# ---- the console -----------------------------------------------------------------------------


async def test_console_shows_generations_revocations_and_a_retired_model(people: Team) -> None:
    from textual.widgets import DataTable, Static

    from console.release.retire import retire
    from console.tui.app import make_app

    revoke_user(people.store, people["ada"], "rosa")
    revoke_user(people.store, people["ada"], "rita")
    add_user(
        people.store, people["ada"], "rita", "reviewer", _new_key(people, "rita", "r2").public_key
    )
    retire(people.store, people["rel"], MODEL, None, "withdrawn")
    app = make_app(people.store, user="ada", passphrase=lambda _n: PASSPHRASE.encode())

    def cells(selector: str, column: int) -> list[str]:
        table = app.screen.query_one(selector, DataTable)
        return [str(getattr(c, "plain", c)) for c in table.get_column_at(column)]

    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("u")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        names = cells("#admin-users", 0)
        rows = dict(
            zip(
                names,
                zip(
                    cells("#admin-users", 1),
                    cells("#admin-users", 2),
                    cells("#admin-users", 3),
                    strict=True,
                ),
                strict=True,
            )
        )
        assert rows["rita"] == ("reviewer", "active", "2")
        assert rows["rosa"][1].startswith("revoked at ") and rows["rosa"][2] == "1"
        await pilot.press("m", "enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        title = app.screen.query_one("#detail-title", Static).content
        assert "RETIRED" in str(getattr(title, "plain", title))
        assert cells("#detail-versions", 1) == ["retired", "retired"]
