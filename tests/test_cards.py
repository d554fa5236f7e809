"""Model cards: fields edited and audited, bad input refused cleanly, three formats rendered
from the store, deterministic, and completeness that names exactly what is missing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import col, select

from audit.canonical import canonical_json
from audit.keys import KeyStore, Signer
from console.auditing.log import append_uncatalogued_event
from console.errors import BadInput, NotFound, Refused
from console.registry.cards import (
    FIELD_NAMES,
    card_completeness,
    card_fields,
    key_line,
    load_card_file,
    set_card_fields,
)
from console.release.evidence import latest_validation
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.models import AuditEvent, ValidationCheck, ValidationRun
from fixtures.demo import DEMO_PASSPHRASE
from fixtures.demo_cards import INCOMPLETE, LEFT_EMPTY, fill_demo_cards
from reports.card_sections import SECTIONS
from reports.card_yaml import yaml_document, yaml_scalar
from tests.conftest import Runner, Team, make_team, one_line_error, store_fingerprint
from tests.workflow_helpers import register_versions

ROOT = Path(__file__).resolve().parents[1]
NOT_PROVIDED = "Not provided — to be filled by the model owner"
MCT_KEYS = {
    "schema_version",
    "model_details",
    "model_parameters",
    "quantitative_analysis",
    "considerations",
}
FULL_CARD = {
    "intended_use.primary_uses": "Triage of FNA samples for a second reading.",
    "intended_use.primary_users": "Pathologists.",
    "intended_use.out_of_scope": "Stand-alone diagnosis.",
    "factors": "Digitisation pipeline; staining protocol.",
    "ethical_considerations.risks": "A false negative delays a reading.",
    "ethical_considerations.mitigations": "Every sample is still read by a pathologist.",
    "caveats_and_recommendations": "Re-validate on local data.",
    "license": "apache-2.0",
    "contact": "ML team <ml@example.org>",
}


# ---- helpers -------------------------------------------------------------------------------


@pytest.fixture
def tumour(team: Team) -> Team:
    """A team store with one registered version, `tumour:1`, and no card fields."""
    register_versions(team, 1)
    return team


@pytest.fixture(scope="module")
def shared_tumour(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """Like `tumour`, built once for the tests that must leave it unchanged."""
    root = tmp_path_factory.mktemp("cards")
    team = make_team(root / "home", root / "keys")
    register_versions(team, 1)
    return team


@pytest.fixture
def demo(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    return demo_home


def demo_signer(home: Path, name: str) -> Signer:
    keys = KeyStore(home / "demo-keys")
    return Signer(name, keys.load_private(name, DEMO_PASSPHRASE.encode()))


def record_run(
    store: Store,
    signer: Signer,
    model: str,
    version: int,
    checks: list[ValidationCheck],
    *,
    sensitive: str | None = None,
) -> int:
    """A validation run with the given checks, written as `signoff validate` records one."""
    with store.session() as session:
        run_id = int(
            session.connection()
            .execute(text("SELECT coalesce(max(id), 0) + 1 FROM validation_runs"))
            .scalar_one()
        )
        report = canonical_json({"model": model, "version": version, "run": run_id})
        digest, _ = ArtifactStore(store.artifacts_dir).put_bytes(report)
        now = store.clock()
        event = append_uncatalogued_event(
            session,
            signer,
            "validation.completed",
            f"{model}:{version}",
            {
                "run_id": run_id,
                "model": model,
                "version": version,
                "dataset_sha256": "5" * 64,
                "dataset_name": f"{model}-holdout.csv",
                "target": "y",
                "sensitive": sensitive,
                "stage": "staging",
                "report_sha256": digest,
                "status": "pass",
                "passed": True,
                "counts": dict(Counter(c.status for c in checks)),
                "checks": {c.name: c.status for c in checks},
            },
            ts=now,
            model=model,
        )
        session.add(
            ValidationRun(
                id=run_id,
                model=model,
                version=version,
                dataset_sha256="5" * 64,
                dataset_name=f"{model}-holdout.csv",
                target="y",
                sensitive=sensitive,
                stage="staging",
                status="pass",
                passed=True,
                report_sha256=digest,
                started_at=now,
                finished_at=now,
                actor=signer.name,
                event_seq=event.seq,
            )
        )
        for check in checks:
            check.run_id = run_id
            session.add(check)
    return run_id


def performance_checks() -> list[ValidationCheck]:
    """Checks shaped as console.validation records them (`ci95`, `rule`, `note`)."""
    return [
        ValidationCheck(
            run_id=0,
            name="performance.roc_auc",
            category="performance",
            status="pass",
            value=0.9123,
            threshold=0.7,
            detail=json.dumps({"ci95": [0.8875, 0.9351], "rule": ">=", "note": "95% CI"}),
        ),
        ValidationCheck(
            run_id=0,
            name="performance.accuracy",
            category="performance",
            status="pass",
            value=0.861,
            threshold=0.7,
            detail=json.dumps({"ci95": [0.84, 0.88], "rule": ">="}),
        ),
        ValidationCheck(
            run_id=0,
            name="performance.confusion_matrix",
            category="performance",
            status="info",
            detail=json.dumps({"matrix": [[900, 40], [60, 200]]}),
        ),
    ]


def fairness_checks() -> list[ValidationCheck]:
    groups = {
        "female": {"accuracy": 0.82, "compared": True, "count": 749, "selection_rate": 0.27},
        "male": {"accuracy": 0.9, "compared": True, "count": 751, "selection_rate": 0.0866},
    }
    return [
        ValidationCheck(
            run_id=0,
            name="fairness.groups",
            category="fairness",
            status="info",
            value=2.0,
            detail=json.dumps({"column": "gender", "groups": groups, "note": "female n=749"}),
        ),
        ValidationCheck(
            run_id=0,
            name="fairness.demographic_parity",
            category="fairness",
            status="fail",
            value=0.1834,
            threshold=0.1,
            detail=json.dumps(
                {
                    "column": "gender",
                    "ci95": [0.15, 0.22],
                    "rates": {"female": 0.27, "male": 0.0866},
                    "rule": "<=",
                }
            ),
        ),
    ]


@pytest.fixture(scope="module")
def validated_demo(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with its cards filled and credit-risk:2 validated with a fairness analysis.

    Shared by the rendering tests, which only read it (one of them proves that).
    """
    import shutil

    demo = tmp_path_factory.mktemp("cards-demo") / "demo"
    shutil.copytree(demo_template, demo)
    store = Store(demo)
    fill_demo_cards(store, demo_signer(demo, "dana"))
    record_run(
        store,
        demo_signer(demo, "rita"),
        "credit-risk",
        2,
        [*performance_checks(), *fairness_checks()],
        sensitive="gender",
    )
    store.dispose()
    return demo


def card_events(home: Path) -> list[AuditEvent]:
    store = Store(home)
    with store.session() as session:
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "card.edited")
            .order_by(col(AuditEvent.seq))
        ).all()
        for row in rows:
            session.expunge(row)
    store.dispose()
    return list(rows)


# ---- a tiny reader for the YAML subset the front matter uses -----------------------------------


def parse_yaml(document: str) -> Any:
    """Block mappings, block sequences (indentless too), plain and double-quoted scalars."""
    lines = [
        (len(line) - len(line.lstrip(" ")), line.strip())
        for line in document.splitlines()
        if line.strip()
    ]
    value, pos = _yaml_block(lines, 0, lines[0][0])
    assert pos == len(lines), f"trailing YAML from line {pos}: {lines[pos]}"
    return value


def _yaml_block(lines: list[tuple[int, str]], pos: int, indent: int) -> tuple[Any, int]:
    if lines[pos][1].startswith("- "):
        return _yaml_seq(lines, pos, indent)
    return _yaml_map(lines, pos, indent)


def _quoted(textual: str) -> tuple[str, str]:
    """A double-quoted scalar at the start of `textual`, and what follows it."""
    assert textual.startswith('"')
    i = 1
    while textual[i] != '"':
        i += 2 if textual[i] == "\\" else 1
    return json.loads(textual[: i + 1]), textual[i + 1 :]


def _key(entry: str) -> tuple[str, str] | None:
    """(key, rest) when `entry` is `key: value` or `key:`, else None."""
    if entry.startswith('"'):
        key, rest = _quoted(entry)
        return (key, rest[1:].strip()) if rest.startswith(":") else None
    match = re.match(r"([^\s:\"]+):(?:\s(.*))?$", entry)
    return (match.group(1), (match.group(2) or "").strip()) if match else None


def _yaml_map(lines: list[tuple[int, str]], pos: int, indent: int) -> tuple[Any, int]:
    out: dict[str, Any] = {}
    while pos < len(lines) and lines[pos][0] == indent and not lines[pos][1].startswith("- "):
        parsed = _key(lines[pos][1])
        assert parsed is not None, f"not a mapping entry: {lines[pos]}"
        key, rest = parsed
        assert key not in out, f"duplicate key {key}"
        pos += 1
        if rest:
            out[key] = _yaml_scalar(rest)
            continue
        inner_indent, inner = lines[pos]
        if inner.startswith("- "):
            assert inner_indent >= indent
            out[key], pos = _yaml_seq(lines, pos, inner_indent)
        else:
            assert inner_indent > indent
            out[key], pos = _yaml_map(lines, pos, inner_indent)
    return out, pos


def _yaml_seq(lines: list[tuple[int, str]], pos: int, indent: int) -> tuple[Any, int]:
    out: list[Any] = []
    while pos < len(lines) and lines[pos][0] == indent and lines[pos][1].startswith("- "):
        rest = lines[pos][1][2:]
        if _key(rest) is not None:
            lines[pos] = (indent + 2, rest)  # `- key: value` opens a mapping two columns in
            item, pos = _yaml_map(lines, pos, indent + 2)
        else:
            item, pos = _yaml_scalar(rest), pos + 1
        out.append(item)
    return out, pos


def _yaml_scalar(token: str) -> Any:
    if token.startswith('"'):
        value, rest = _quoted(token)
        assert not rest.strip(), token
        return value
    special: dict[str, Any] = {"null": None, "true": True, "false": False, "[]": [], "{}": {}}
    if token in special:
        return special[token]
    if token in (".nan", ".inf", "-.inf"):
        return float(token.replace(".", ""))
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    if re.fullmatch(r"-?\d+\.\d*(e[+-]\d+)?", token):
        return float(token)
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_./+-]*", token), f"unsafe plain scalar {token!r}"
    return token


def front_matter(markdown: str) -> Any:
    assert markdown.startswith("---\n")
    end = markdown.index("\n---\n", 4)
    return parse_yaml(markdown[4:end])


# ---- editing -------------------------------------------------------------------------------


def test_edit_with_set_is_stored_audited_and_verifiable(tumour: Team, signoff: Runner) -> None:
    home = tumour.home
    result = signoff(
        "card", "edit", "tumour:1", "--home", home, "--as", "dana",
        "--set", "license=apache-2.0",
        "--set", "intended_use.primary_uses=Triage of FNA samples for a second reading.",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "updated the card of tumour:1: intended_use.primary_uses, license" in result.output
    assert card_fields(tumour.store, "tumour", 1) == {
        "intended_use.primary_uses": "Triage of FNA samples for a second reading.",
        "license": "apache-2.0",
    }
    events = card_events(home)
    assert len(events) == 1
    event = events[0]
    assert (event.actor, event.subject, event.model) == ("dana", "tumour:1", "tumour")
    payload = json.loads(bytes(event.payload))
    assert payload["model"] == "tumour" and payload["version"] == 1
    import hashlib

    assert payload["fields"]["license"] == {
        "value": "apache-2.0",
        "sha256": hashlib.sha256(b"apache-2.0").hexdigest(),
        "previous_sha256": None,
    }
    log = signoff("audit", "log", "--home", home, "--action", "card.", "--json")
    assert [e["action"] for e in json.loads(log.output)] == ["card.edited"]
    verify = signoff("audit", "verify", "--home", home)
    assert verify.exit_code == 0, verify.output


def test_edit_from_toml_nests_tables_and_set_overrides(
    tumour: Team, signoff: Runner, tmp_path: Path
) -> None:
    card = tmp_path / "card.toml"
    card.write_text(
        'license = "mit"\n'
        'contact = "ML team <ml@example.org>"\n'
        'factors = """\n'
        "Digitisation pipeline.\n"
        "Staining protocol.\n"
        '"""\n'
        "\n"
        "[intended_use]\n"
        'primary_uses = "Triage"\n'
        'primary_users = "Pathologists"\n'
        "\n"
        "[ethical_considerations]\n"
        'risks = "False negatives delay a reading."\n',
        encoding="utf-8",
    )
    result = signoff(
        "card", "edit", "tumour:1", "--from", card, "--set", "license=apache-2.0",
        "--home", tumour.home, "--as", "rita",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert card_fields(tumour.store, "tumour", 1) == {
        "intended_use.primary_uses": "Triage",
        "intended_use.primary_users": "Pathologists",
        "factors": "Digitisation pipeline.\nStaining protocol.",
        "ethical_considerations.risks": "False negatives delay a reading.",
        "license": "apache-2.0",
        "contact": "ML team <ml@example.org>",
    }
    assert len(card_events(tumour.home)) == 1  # six fields, one event


def test_an_empty_value_clears_a_field_and_a_repeat_signs_nothing(tumour: Team) -> None:
    store = tumour.store
    assert set_card_fields(store, tumour["dana"], "tumour", 1, FULL_CARD) == list(FIELD_NAMES)
    assert set_card_fields(store, tumour["dana"], "tumour", 1, FULL_CARD) == []
    assert len(card_events(tumour.home)) == 1
    assert set_card_fields(store, tumour["raj"], "tumour", 1, {"factors": "  "}) == ["factors"]
    assert "factors" not in card_fields(store, "tumour", 1)
    payload = json.loads(bytes(card_events(tumour.home)[-1].payload))
    assert payload["fields"]["factors"]["value"] == ""
    assert payload["fields"]["factors"]["previous_sha256"] is not None


def test_every_editing_role_may_edit_and_others_are_refused(tumour: Team) -> None:
    for name in ("dana", "rita", "raj", "ada"):
        set_card_fields(tumour.store, tumour[name], "tumour", 1, {"contact": f"ask {name}"})
    for name in ("aud", "rel"):
        with pytest.raises(Refused):
            set_card_fields(tumour.store, tumour[name], "tumour", 1, {"contact": "me"})


def test_the_auditor_cannot_edit_a_card(tumour: Team, signoff: Runner, unchanged: Any) -> None:
    check = unchanged(tumour.home)
    result = signoff(
        "card", "edit", "tumour:1", "--set", "license=mit", "--home", tumour.home, "--as", "aud"
    )
    line = one_line_error(result, 3)
    assert "aud is auditor" in line
    check()


BAD_TOML = {
    "syntax.toml": ('license = "mit"\ncontact = \n', "line 2"),
    "unknown.toml": ('[intended_use]\nprimary_uses = "x"\nbogus = "y"\n', "line 3"),
    "table.toml": ('license = "mit"\n\n[ethics]\nrisks = "x"\n', "line 3"),
    "number.toml": ('contact = "x"\nlicense = 3\n', "line 2"),
    "empty.toml": ("# nothing here\n", "sets no field"),
    "binary.toml": ("\udcff", "not UTF-8"),
}


@pytest.mark.parametrize(
    "args, expected",
    [
        (["edit", "tumour:1", "--set", "bogus=x"], "unknown card field 'bogus'"),
        (["edit", "tumour:1", "--set", "no-equals-sign"], "is not FIELD=VALUE"),
        (["edit", "tumour:1", "--set", "=value"], "is not FIELD=VALUE"),
        (["edit", "tumour:1", "--set", "license=a", "--set", "license=b"], "twice"),
        (["edit", "tumour:1", "--set", "license=Apache License"], "is not an identifier"),
        (["edit", "tumour:1", "--set", "contact=line one\nline two"], "takes one line"),
        (["edit", "tumour:1", "--set", "factors=bell\x07"], "control character"),
        (["edit", "tumour:1"], "nothing to edit"),
        (["edit", "tumour:1", "--from", "missing.toml"], "does not exist"),
        (["edit", "nosuch:1", "--set", "license=mit"], "no model 'nosuch'"),
        (["edit", "tumour:9", "--set", "license=mit"], "has no version 9"),
        (["edit", "tumour", "--set", "license=mit"], "names no version"),
        (["edit", "tumour:0", "--set", "license=mit"], "invalid version"),
        (["tumour:1", "--format", "pdf"], "needs a file"),
        (["render", "tumour:1", "--format", "pdf"], "needs a file"),
        (["tumour:7"], "has no version 7"),
        (["Bad Name:1"], "invalid model name"),
        (["tumour:1", "-o", "no/such/dir/card.md"], "does not exist"),
        (["check", "tumour:5"], "has no version 5"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    shared_tumour: Team,
    signoff: Runner,
    unchanged: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    home = shared_tumour.home
    check = unchanged(home)
    result = signoff("card", *args, "--home", home, "--as", "dana", "--keys", shared_tumour.keys)
    assert expected in one_line_error(result, 2)
    check()


@pytest.mark.parametrize("name", sorted(BAD_TOML))
def test_bad_card_files_name_the_problem_and_its_line(
    shared_tumour: Team, signoff: Runner, unchanged: Any, tmp_path: Path, name: str
) -> None:
    content, expected = BAD_TOML[name]
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    home = shared_tumour.home
    check = unchanged(home)
    result = signoff(
        "card", "edit", "tumour:1", "--from", path, "--home", home, "--as", "dana",
        "--keys", shared_tumour.keys,
    )  # fmt: skip
    assert expected in one_line_error(result, 2)
    check()


def test_card_file_errors_carry_the_line_of_the_key(tmp_path: Path) -> None:
    text_ = '# card\n[intended_use]\nprimary_uses = """\nbogus = 1\n"""\nbogus = "x"\n'
    assert key_line(text_, "intended_use.bogus") == 6  # not the line inside the string
    assert key_line('intended_use = { bogus = "x" }\n', "intended_use.bogus") == 1
    path = tmp_path / "card.toml"
    path.write_text(text_)
    with pytest.raises(BadInput, match=r"unknown card field 'intended_use.bogus' \(.*line 6\)"):
        load_card_file(path)
    path.write_text('[intended_use]\nprimary_uses = "a"\n[ethical_considerations]\nrisks = "b"\n')
    assert load_card_file(path) == {
        "intended_use.primary_uses": "a",
        "ethical_considerations.risks": "b",
    }


# ---- completeness ----------------------------------------------------------------------------


def test_completeness_names_exactly_what_is_missing(tumour: Team, signoff: Runner) -> None:
    store = tumour.store
    assert card_completeness(store, "tumour", 1) == [*FIELD_NAMES, "validation"]
    some = {k: FULL_CARD[k] for k in ("license", "factors", "intended_use.primary_users")}
    set_card_fields(store, tumour["dana"], "tumour", 1, some)
    rest = [name for name in FIELD_NAMES if name not in some]
    assert card_completeness(store, "tumour", 1) == [*rest, "validation"]

    record_run(store, tumour["rita"], "tumour", 1, performance_checks(), sensitive="gender")
    assert card_completeness(store, "tumour", 1) == [*rest, "fairness"]
    result = signoff("card", "check", "tumour:1", "--home", tumour.home, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output) == {
        "model": "tumour",
        "version": 1,
        "complete": False,
        "missing": [*rest, "fairness"],
    }
    text_check = signoff("card", "check", "tumour:1", "--home", tumour.home)
    assert text_check.exit_code == 1 and "fairness" in text_check.output

    record_run(store, tumour["rita"], "tumour", 1, [*performance_checks(), *fairness_checks()])
    assert card_completeness(store, "tumour", 1) == rest
    set_card_fields(store, tumour["dana"], "tumour", 1, FULL_CARD)
    assert card_completeness(store, "tumour", 1) == []
    done = signoff("card", "check", "tumour:1", "--home", tumour.home)
    assert done.exit_code == 0 and "is complete" in done.output
    with pytest.raises(NotFound):
        card_completeness(store, "tumour", 2)


def test_the_demo_cards_leave_exactly_one_version_incomplete(demo: Path) -> None:
    store = Store(demo)
    fill_demo_cards(store, demo_signer(demo, "dana"))
    events = len(card_events(demo))
    before = store_fingerprint(demo)
    fill_demo_cards(store, demo_signer(demo, "dana"))  # idempotent: nothing new is signed
    assert store_fingerprint(demo) == before
    from console.registry.views import list_models

    # The demo's monitoring story adds a retrained credit-risk:3 whose card its author has yet
    # to write; the eight versions the demo registered are the ones with demo cards.
    versions = [
        (m.name, v.number)
        for m in list_models(store)
        for v in m.versions
        if (m.name, v.number) != ("credit-risk", 3)
    ]
    assert len(versions) == 8 and INCOMPLETE in versions
    for model, version in versions:
        human = [m for m in card_completeness(store, model, version) if m in FIELD_NAMES]
        assert human == (list(LEFT_EMPTY) if (model, version) == INCOMPLETE else []), model
    assert events >= 1


# ---- rendering ---------------------------------------------------------------------------------


def test_markdown_front_matter_carries_the_stored_metrics(
    validated_demo: Path, signoff: Runner
) -> None:
    result = signoff("card", "credit-risk:2", "--home", validated_demo)
    assert result.exit_code == 0, result.output
    markdown = result.output
    meta = front_matter(markdown)
    assert meta["license"] == "other" and meta["license_name"] == "proprietary"
    assert "tabular-classification" in meta["tags"]
    assert "credit-risk-holdout.csv" in meta["datasets"]
    [entry] = meta["model-index"]
    assert entry["name"] == "credit-risk"
    [results] = entry["results"]
    assert results["task"] == {"type": "tabular-classification", "name": "Tabular Classification"}
    assert results["dataset"]["name"] == "credit-risk-holdout.csv"
    run = latest_validation(Store(validated_demo), "credit-risk", 2)
    assert run is not None
    stored = {
        c.name.removeprefix("performance."): c.value
        for c in run.by_category("performance")
        if c.value is not None
    }
    assert set(stored) == {"roc_auc", "accuracy"}
    assert {m["type"]: m["value"] for m in results["metrics"]} == stored
    assert sorted(meta["metrics"]) == sorted(stored)

    headings = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == list(SECTIONS)
    assert NOT_PROVIDED not in markdown  # a complete card has no gap
    assert "0.8875 – 0.9351 (95%)" in markdown and "≥ 0.7000" in markdown
    assert "### Results per group by `gender`" in markdown
    assert "| Group | count | accuracy | selection_rate |" in markdown
    assert "| female | 749 | 0.8200 | 0.2700 |" in markdown
    assert "### Demographic parity by `gender`" in markdown
    assert "**fail**; value 0.1834 (95% interval 0.1500 – 0.2200); threshold ≤ 0.1000" in markdown
    assert "| male | 0.0866 |" in markdown


def test_markdown_of_an_incomplete_card_says_what_is_not_provided(
    validated_demo: Path, signoff: Runner
) -> None:
    model, version = INCOMPLETE
    markdown = signoff("card", f"{model}:{version}", "--home", validated_demo).output
    assert markdown.count(NOT_PROVIDED) == len(LEFT_EMPTY)
    assert "TBD" not in markdown
    if latest_validation(Store(validated_demo), model, version) is None:
        assert "No validation run yet. These are the in-sample metrics" in markdown
        assert front_matter(markdown)["model-index"] == [{"name": model, "results": []}]
    for name in LEFT_EMPTY:
        assert f"- `{name}`" in markdown


def test_json_has_the_model_card_toolkit_layout(validated_demo: Path, signoff: Runner) -> None:
    result = signoff("card", "credit-risk:2", "--format", "json", "--home", validated_demo)
    card = json.loads(result.output)
    assert set(card) == MCT_KEYS
    details = card["model_details"]
    assert details["name"] == "credit-risk"
    assert details["version"]["name"] == "2"
    assert details["licenses"] == [{"identifier": "proprietary"}]
    assert details["owners"][0]["name"] == "Retail Credit Risk"
    assert set(card["model_parameters"]["data"]) == {"train", "eval"}
    metrics = card["quantitative_analysis"]["performance_metrics"]
    roc = next(m for m in metrics if m["type"] == "roc_auc" and "slice" not in m)
    assert roc["confidence_interval"] == {"lower_bound": 0.8875, "upper_bound": 0.9351}
    assert {m["slice"] for m in metrics if "slice" in m} == {"gender=female", "gender=male"}
    considerations = card["considerations"]
    assert considerations["users"] and considerations["use_cases"]
    [risk] = considerations["ethical_considerations"]
    assert risk["name"].startswith("Disparate impact") and risk["mitigation_strategy"]
    assert details["signoff"]["missing"] == []


def test_pdf_reads_back_with_the_model_and_every_section(
    validated_demo: Path, signoff: Runner, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    out = tmp_path / "card.pdf"
    result = signoff(
        "card", "credit-risk:2", "--format", "pdf", "-o", out, "--home", validated_demo
    )
    assert result.exit_code == 0, result.output
    reader = PdfReader(out)
    assert reader.metadata is not None and reader.metadata.title == "Model card: credit-risk v2"
    content = "\n".join(page.extract_text() for page in reader.pages)
    assert "credit-risk v2" in content
    for section in SECTIONS:
        assert section in content, section
    assert "Retail Credit Risk" in content and "0.8875 – 0.9351 (95%)" in content


def test_the_card_reads_the_other_documented_detail_shapes(tumour: Team) -> None:
    from reports.card_data import build_card
    from reports.card_markdown import render_markdown

    detail_metric = {"metric": "r_squared", "ci": [0.4, 0.6], "ci_level": 0.9, "rule": ">="}
    per_group = [
        {"group": "2", "mae": 43.5, "count": 180},
        {"group": "1", "mae": 40.0, "count": 200},
    ]
    detail_groups = {
        "attribute": "sex",
        "value_is": "largest minus smallest MAE",
        "groups": per_group,
    }
    checks = [
        ValidationCheck(
            run_id=0,
            name="performance.r2",
            category="performance",
            status="pass",
            value=0.5,
            threshold=0.3,
            detail=json.dumps(detail_metric),
        ),
        ValidationCheck(
            run_id=0,
            name="fairness.mae_gap",
            category="fairness",
            status="info",
            value=3.5,
            detail=json.dumps(detail_groups),
        ),
    ]
    record_run(tumour.store, tumour["rita"], "tumour", 1, checks, sensitive="sex")
    card = build_card(tumour.store, "tumour", 1)
    [metric] = card.metrics
    assert (metric.name, metric.lower, metric.upper, metric.level, metric.rule) == (
        "r_squared",
        0.4,
        0.6,
        0.9,
        ">=",
    )
    [analysis] = card.fairness
    assert analysis.attribute == "sex" and analysis.metrics == ["count", "mae"]
    assert [g.group for g in analysis.groups] == ["1", "2"]
    assert analysis.groups[0].values == {"mae": 40.0, "count": 200}
    markdown = render_markdown(card)
    assert "value 3.5000, the largest minus smallest MAE." in markdown
    assert "0.4000 – 0.6000 (90%)" in markdown


@pytest.mark.parametrize("fmt", ["md", "json", "pdf"])
def test_two_renders_give_identical_bytes(
    validated_demo: Path, signoff: Runner, tmp_path: Path, fmt: str
) -> None:
    outputs = []
    for n in (1, 2):
        path = tmp_path / f"card-{n}.{fmt}"
        result = signoff(
            "card", "render", "credit-risk:2", "--format", fmt, "-o", path, "--home", validated_demo
        )
        assert result.exit_code == 0, result.output
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0]


def test_rendering_changes_nothing_and_is_the_same_in_another_process(
    validated_demo: Path, signoff: Runner, unchanged: Any, tmp_path: Path
) -> None:
    check = unchanged(validated_demo)
    here = tmp_path / "here.pdf"
    assert (
        signoff(
            "card", "credit-risk:2", "--format", "pdf", "-o", here, "--home", validated_demo
        ).exit_code
        == 0
    )
    there = tmp_path / "there.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "console", "card", "credit-risk:2", "--format", "pdf", "-o", str(there),
         "--home", str(validated_demo)],
        cwd=ROOT, capture_output=True, text=True, check=False, env={"PYTHONHASHSEED": "7", "PATH": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert here.read_bytes() == there.read_bytes()
    check()


def test_the_card_modules_never_import_textual() -> None:
    modules = "console.registry.cards, reports.card_data, reports.card_markdown, reports.card_json"
    code = (
        f"import sys, {modules}, reports.card_pdf, fixtures.demo_cards\n"
        "sys.exit(1 if any(m.split('.')[0] == 'textual' for m in sys.modules) else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


# ---- the YAML emitter --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["yes", "No", "null", "~", "true", "1.0", "0x1F", "a: b", "- item", "#tag", "", " pad",
     "quote\"d", "back\\slash", "line\nbreak", "tab\there", "ünïcode — dash", "\u2028", "{x}",
     "[y]", "@at", "`tick`", "*star", "&amp", "!bang", "%pct", ".nan", "2026-11-02", "1e5"],
)  # fmt: skip
def test_yaml_strings_read_back_as_the_same_strings(value: str) -> None:
    document = yaml_document({"k": value, "list": [value], "nested": [{"v": value}]})
    assert parse_yaml(document) == {"k": value, "list": [value], "nested": [{"v": value}]}


@settings(max_examples=200, deadline=None)
@given(st.text(), st.floats(allow_nan=False), st.integers())
def test_yaml_round_trips_any_scalar(value: str, number: float, integer: int) -> None:
    document = yaml_document({"s": value, "f": number, "i": integer, "e": [], "m": {}})
    assert parse_yaml(document) == {"s": value, "f": number, "i": integer, "e": [], "m": {}}


def test_yaml_floats_are_readable_by_yaml_1_1() -> None:
    assert yaml_scalar(1e-07) == "1.0e-07"
    assert yaml_scalar(1e20) == "1.0e+20"
    assert yaml_scalar(0.5) == "0.5"
    assert yaml_scalar(float("nan")) == ".nan"
