"""`signoff import mlflow` on stores written by real MLflow 3 (made by make_mlflow_fixtures.py)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from console.registry.views import get_model, get_version
from tests.conftest import Runner, Team, one_line_error
from tests.workflow_helpers import tolerate_uncalibrated_models


@pytest.fixture(autouse=True)
def _uncalibrated_models_allowed(request: pytest.FixtureRequest) -> None:
    """The small test models here are overfit, so not calibrated: these tests are about each
    framework's path through signoff."""
    if "team" in request.fixturenames:
        tolerate_uncalibrated_models(request.getfixturevalue("team"))


MLFLOW = Path(__file__).parent / "fixtures_data" / "mlflow"
FILE_STORE = MLFLOW / "mlruns"
SQLITE_STORE = MLFLOW / "sqlite" / "mlflow.db"


def run_import(signoff: Runner, team: Team, source: Path, *extra: str) -> Any:
    return signoff("import", "mlflow", source, "--home", team.home, "--as", "dana", *extra)


@pytest.mark.parametrize("source", [FILE_STORE, SQLITE_STORE], ids=["file", "sqlite"])
def test_import_registers_versions_with_their_lineage_and_never_twice(
    source: Path, team: Team, signoff: Runner, unchanged: Any
) -> None:
    for model in ("tumour-lr", "tumour-xgb"):
        result = run_import(signoff, team, source, "--model", model)
        assert result.exit_code == 0, result.output
    assert "MLflow tumour-xgb v2: imported (xgboost) as tumour-xgb:2" in result.output
    lr = get_version(team.store, "tumour-lr", 1)
    assert (lr.artifact_format, lr.trusted_pickle, lr.target) == ("skops", False, "malignant")
    assert lr.tags["mlflow.param.C"] == "0.5" and lr.tags["mlflow.experiment"] == "tumour"
    assert float(lr.tags["mlflow.metric.train_accuracy"]) > 0.85
    assert lr.tags["mlflow.dataset"].startswith("tumour-train@")
    xgb = get_version(team.store, "tumour-xgb", 2)
    assert (xgb.framework, xgb.artifact_format) == ("xgboost", "xgboost-ubj")
    assert xgb.tags["mlflow.param.max_depth"] == "3" and xgb.tags["mlflow.version"] == "2"
    assert xgb.params["max_depth"] == 3  # read from the trees, and MLflow's run agrees
    log = signoff("audit", "log", "--home", team.home, "--model", "tumour-xgb", "--json")
    events = [e for e in json.loads(log.output) if e["action"] == "version.registered"]
    assert {e["payload"]["tags"]["mlflow.run_id"] for e in events} == {
        get_version(team.store, "tumour-xgb", n).tags["mlflow.run_id"] for n in (1, 2)
    }

    check = unchanged(team.home)
    again = run_import(signoff, team, source, "--model", "tumour-xgb")
    assert again.exit_code == 0, again.output
    assert "skipped: already registered as tumour-xgb:1" in again.output
    assert "skipped: already registered as tumour-xgb:2" in again.output
    check()

    validated = signoff(
        "validate", "tumour-xgb:2", "--data", next(MLFLOW.rglob("train.csv")),
        "--target", "malignant", "--home", team.home, "--as", "dana",
    )  # fmt: skip
    assert validated.exit_code == 0, validated.output
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0


def test_one_version_into_another_name(team: Team, signoff: Runner) -> None:
    result = run_import(
        signoff, team, SQLITE_STORE, "--model", "tumour-xgb", "--version", "1", "--into", "credit"
    )
    assert result.exit_code == 0, result.output
    assert [v.number for v in get_model(team.store, "credit").versions] == [1]
    assert get_version(team.store, "credit", 1).tags["mlflow.store"] == "sqlite:mlflow.db"


def test_a_pickled_sklearn_model_needs_trust_and_the_trust_is_recorded(
    team: Team, signoff: Runner, unchanged: Any
) -> None:
    check = unchanged(team.home)
    line = one_line_error(run_import(signoff, team, FILE_STORE, "--model", "tumour-pickle"))
    assert "--trust-pickle" in line
    check()
    ok = run_import(signoff, team, FILE_STORE, "--model", "tumour-pickle", "--trust-pickle")
    assert ok.exit_code == 0, ok.output
    version = get_version(team.store, "tumour-pickle", 1)
    assert version.trusted_pickle and version.tags["mlflow.trusted_pickle"] == "true"


def _bad_sources(tmp: Path) -> dict[str, tuple[Path, list[str], str]]:
    empty = tmp / "empty"
    empty.mkdir()
    text = tmp / "notes.txt"
    text.write_text("not a store\n")
    other_db = tmp / "other.db"
    with sqlite3.connect(other_db) as db:
        db.execute("CREATE TABLE things (x INTEGER)")
    missing = tmp / "mlruns"
    shutil.copytree(FILE_STORE, missing)
    meta = (missing / "models" / "tumour-xgb" / "version-1" / "meta.yaml").read_text()
    model_id = next(line.split()[-1] for line in meta.splitlines() if line.startswith("model_id"))
    for folder in missing.glob(f"*/models/{model_id}"):
        shutil.rmtree(folder)
    return {
        "an empty folder": (empty, [], "is not an MLflow store"),
        "a text file": (text, [], "is not an MLflow store"),
        "an sqlite file of something else": (other_db, [], "not an MLflow store"),
        "a folder that does not exist": (tmp / "nope", [], "does not exist"),
        "artifacts missing": (missing, ["--model", "tumour-xgb"], "model files are missing"),
        "an unknown model": (FILE_STORE, ["--model", "churn"], "no registered model 'churn'"),
        "an unknown version": (
            FILE_STORE,
            ["--model", "tumour-xgb", "--version", "9"],
            "no version 9",
        ),
        "a flavor signoff cannot load": (
            FILE_STORE,
            ["--model", "tumour-custom"],
            "flavor python_function, which signoff cannot load",
        ),
        "the whole store, with one bad flavor": (FILE_STORE, [], "python_function"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "an empty folder",
        "a text file",
        "an sqlite file of something else",
        "a folder that does not exist",
        "artifacts missing",
        "an unknown model",
        "an unknown version",
        "a flavor signoff cannot load",
        "the whole store, with one bad flavor",
    ],
)
def test_bad_sources_are_refused_in_one_line(
    case: str, team: Team, signoff: Runner, tmp_path: Path, unchanged: Any
) -> None:
    source, extra, needle = _bad_sources(tmp_path)[case]
    check = unchanged(team.home)
    line = one_line_error(run_import(signoff, team, source, *extra))
    assert needle in line, line
    check()


def test_versions_share_one_store_connection(
    team: Team, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing two versions opens the store as often as importing one: the versions share a
    connection (each still its own transaction), so an import of many stays cheap per version."""
    from console.store.db import Store

    opened: list[int] = []
    connect = Store._connect

    def counted(store: Store) -> Any:
        opened.append(1)
        return connect(store)

    monkeypatch.setattr(Store, "_connect", counted)
    assert run_import(signoff, team, FILE_STORE, "--model", "tumour-lr").exit_code == 0
    one = len(opened)
    opened.clear()
    result = run_import(signoff, team, FILE_STORE, "--model", "tumour-xgb")
    assert result.exit_code == 0, result.output
    assert "as tumour-xgb:2" in result.output
    assert len(opened) == one
