"""One vocabulary: the audit action catalogue, the permission table, and the README made from them."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from console.auditing import catalogue
from console.auditing.catalogue import CATALOGUE
from console.auditing.log import append_event
from console.errors import Refused
from console.identity.actor import require_actor
from console.identity.permissions import ROLE_PERMISSIONS, ROLES, Permission, may, roles_with
from console.vocabulary_tables import BLOCKS, README, block, render
from tests.conftest import Team
from tests.payload_types import payload_problems

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("console", "reports", "fixtures")

# The role lists each service held before the table existed: the table must grant exactly these.
RIGHTS_BEFORE = {
    Permission.REGISTER: {"author", "admin"},
    Permission.REQUEST: {"author", "release-manager", "admin"},
    Permission.PROMOTE: {"release-manager", "admin"},
    Permission.PACKAGE: {"release-manager", "author", "admin"},
    Permission.VALIDATE: {"author", "reviewer", "risk-officer", "admin"},
    Permission.EDIT_CARD: {"author", "reviewer", "risk-officer", "admin"},
    Permission.REPORT: {"auditor", "risk-officer", "admin", "reviewer"},
    Permission.CHECKPOINT: {
        "admin",
        "auditor",
        "risk-officer",
        "release-manager",
        "reviewer",
        "author",
    },
    Permission.INGEST: {"release-manager", "author", "admin"},
    Permission.EVALUATE: {"release-manager", "risk-officer", "admin", "author"},
    Permission.RESOLVE_ALERT: {"risk-officer", "admin"},
    Permission.RETRAIN: {"author", "admin"},
    Permission.MANAGE_USERS: {"admin"},
    Permission.SET_POLICY: {"admin"},
    Permission.SET_TIER: {"risk-officer", "admin"},  # new with tier rules (issue 13)
}


def test_the_table_grants_each_right_to_the_roles_that_held_it_before() -> None:
    assert {p: set(roles_with(p)) for p in Permission} == RIGHTS_BEFORE
    assert set(ROLES) == {
        "admin",
        "author",
        "reviewer",
        "risk-officer",
        "release-manager",
        "auditor",
    }
    assert ROLES[-1] == "admin" and ROLE_PERMISSIONS["admin"] == frozenset(Permission)
    assert not may(None, Permission.CHECKPOINT) and not may("intern", Permission.CHECKPOINT)


def test_require_actor_asks_the_table(team: Team) -> None:
    with team.store.session() as session:
        assert require_actor(session, team["raj"], Permission.RESOLVE_ALERT).role == "risk-officer"
        with pytest.raises(Refused, match="needs the role risk-officer or admin"):
            require_actor(session, team["rel"], Permission.RESOLVE_ALERT)
        # A right the policy grants names its roles instead.
        with pytest.raises(Refused, match=r"needs the role release-manager$"):
            require_actor(session, team["ada"], roles=["release-manager"])


def test_append_event_refuses_an_action_the_catalogue_does_not_name(
    team: Team, unchanged: Callable[[Path], Callable[[], None]]
) -> None:
    check = unchanged(team.home)
    with (
        pytest.raises(ValueError, match=r"'note\.added' is not an action"),
        team.store.session() as s,
    ):
        append_event(s, team["ada"], "note.added", "x", {"n": 1}, ts=team.store.clock())
    check()


@pytest.mark.parametrize(
    "payload, named",
    [
        ({"name": "eve"}, "missing \\['keyid', 'public_key', 'role'\\], unknown \\[\\]"),
        (
            {"name": "eve", "role": "author", "public_key": "00", "keyid": "ab", "note": "x"},
            "missing \\[\\], unknown \\['note'\\]",
        ),
    ],
)
def test_append_event_refuses_a_payload_with_other_keys_than_its_type(
    team: Team,
    unchanged: Callable[[Path], Callable[[], None]],
    payload: dict[str, object],
    named: str,
) -> None:
    check = unchanged(team.home)
    with pytest.raises(ValueError, match=named), team.store.session() as session:
        append_event(session, team["ada"], catalogue.USER_ADDED, "user:eve", payload, ts="t")
    check()


def test_a_value_of_the_wrong_type_is_named() -> None:
    fine = {"name": "eve", "role": "author", "public_key": "00", "keyid": "ab"}
    assert payload_problems(catalogue.USER_ADDED, fine) == []
    assert payload_problems(catalogue.USER_ADDED, {**fine, "role": 3}) == [
        "user.added.role: 3 is not a str"
    ]
    window = {"window": 1, "version": 2, "start": "a", "end": "b", "rows": 3, "status": "ok"}
    evaluated = {"model": "m", "kind": "drift", "window": "7d", "policy_sha256": "p"}
    wrong = {**evaluated, "windows": [{**window, "basis_sha256": "x", "result_sha256": True}]}
    assert payload_problems(catalogue.MONITORING_DRIFT_EVALUATED, wrong) == [
        "monitoring.drift_evaluated.windows[0].result_sha256: True is not a str"
    ]


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _called(node: ast.Call) -> str:
    func = node.func
    return (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )


def _of_catalogue(node: ast.expr) -> bool:
    """`actions.NAME`: the way services import the catalogue."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "actions"
    )


def _constant_names() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(catalogue).items()
        if name.isupper() and isinstance(value, str) and value in CATALOGUE
    }


def test_the_source_emits_only_catalogued_actions_by_their_constants() -> None:
    constants = _constant_names()
    found: list[str] = []
    for path, tree in _modules():
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if _called(node) == "append_uncatalogued_event" and where.parts[-1] != "log.py":
                found.append(f"{where}:{node.lineno}: writes around the catalogue")
            arguments = [k.value for k in node.keywords if k.arg == "action"]
            if _called(node) == "append_event" and len(node.args) > 2:
                arguments.append(node.args[2])
            for argument in arguments:
                if isinstance(argument, ast.Constant | ast.JoinedStr):
                    text = argument.value if isinstance(argument, ast.Constant) else "f-string"
                    known = "" if text in CATALOGUE else ", not in the catalogue"
                    found.append(f"{where}:{node.lineno}: action {text!r} written out{known}")
                elif (
                    isinstance(argument, ast.Attribute)
                    and _of_catalogue(argument)
                    and argument.attr not in constants
                ):
                    found.append(f"{where}:{node.lineno}: {argument.attr} is no catalogue action")
    assert found == []


def test_every_catalogued_action_is_emitted_somewhere() -> None:
    used: set[str] = set()
    for path, tree in _modules():
        if path.name == "catalogue.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in _constant_names():
                used.add(node.attr)
            if isinstance(node, ast.Attribute) and node.attr == "EVALUATED":
                used.update(
                    k for k, v in _constant_names().items() if v in catalogue.EVALUATED.values()
                )
    assert sorted(set(_constant_names()) - used) == []
    assert sorted(_constant_names().values()) == sorted(CATALOGUE)


@pytest.mark.slow
def test_every_event_of_the_demo_matches_its_payload_type(demo_template: Path) -> None:
    con = duckdb.connect(str(demo_template / "signoff.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT seq, action, payload FROM audit_events ORDER BY seq").fetchall()
    finally:
        con.close()
    seen: set[str] = set()
    problems: list[str] = []
    for seq, action, payload in rows:
        seen.add(action)
        if action not in CATALOGUE:
            problems.append(f"{seq}: {action} is not in the catalogue")
            continue
        problems += [f"{seq}: {p}" for p in payload_problems(action, json.loads(bytes(payload)))]
    assert problems == []
    assert len(seen) >= 20  # the demo exercises most of the catalogue; the suite checks the rest


def test_readme_tables_are_generated_from_the_table_and_the_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    for name, make in BLOCKS.items():
        assert block(text, name) == make() + "\n", "run `python -m console.vocabulary_tables`"
    assert render(text) == text
