"""Registering versions from the CLI and the Python API, and every bad input refused cleanly."""

from __future__ import annotations

import os
import pickle
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LinearRegression, LogisticRegression
from sqlalchemy import text

from console import api
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from tests.conftest import BACKENDS, PASSPHRASE, Runner, Team, one_line_error


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on the DuckDB file and on a PostgreSQL team store."""
    return str(request.param)


@pytest.fixture
def training(tmp_path: Path) -> dict[str, Path]:
    """A small classifier, its training CSV and Parquet, and a regressor."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, [0, 1, 2, 3]].copy()
    frame.columns = ["radius", "texture", "perimeter", "area"]
    frame["malignant"] = 1 - data.target
    model = LogisticRegression(max_iter=2000).fit(
        frame.drop(columns="malignant"), frame["malignant"]
    )
    paths = {
        "csv": tmp_path / "train.csv",
        "parquet": tmp_path / "train.parquet",
        "skops": tmp_path / "model.skops",
        "pickle": tmp_path / "model.pkl",
    }
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet"], index=False)
    sio.dump(model, paths["skops"])
    paths["pickle"].write_bytes(pickle.dumps(model))
    return paths


def _register(
    signoff: Runner, team: Team, paths: dict[str, Path], *extra: str, **over: Path
) -> object:
    args = {
        "--artifact": over.get("artifact", paths["skops"]),
        "--train-data": over.get("train", paths["csv"]),
    }
    flat = [str(x) for kv in args.items() for x in kv]
    return signoff(
        "register",
        "tumour",
        *flat,
        "--target",
        "malignant",
        "--home",
        team.home,
        "--as",
        "dana",
        *extra,
    )


def test_register_show_and_models(team: Team, signoff: Runner, training: dict[str, Path]) -> None:
    result = _register(signoff, team, training, "--tag", "team=oncology")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "registered tumour:1" in result.output  # type: ignore[attr-defined]
    second = _register(
        signoff, team, training, "--parent", "1", "--allow-duplicate", train=training["parquet"]
    )
    assert second.exit_code == 0, second.output  # type: ignore[attr-defined]
    shown = signoff("show", "tumour:2", "--home", team.home, "--json")
    import json

    version = json.loads(shown.output)
    assert version["number"] == 2 and version["parent"] == 1
    assert version["task_type"] == "classification"
    assert [c["name"] for c in version["input_schema"]] == [
        "radius",
        "texture",
        "perimeter",
        "area",
    ]
    assert version["params"]["max_iter"] == 2000
    assert 0.8 < version["metrics"]["accuracy"] <= 1.0
    models = json.loads(signoff("models", "--home", team.home, "--json").output)
    assert models[0]["name"] == "tumour" and len(models[0]["versions"]) == 2
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0
    log = signoff("audit", "log", "--home", team.home, "--model", "tumour", "--json")
    actions = [e["action"] for e in json.loads(log.output)]
    assert actions.count("version.registered") == 2 and "model.created" in actions


def test_artifact_is_content_addressed_and_verified_on_read(
    team: Team, signoff: Runner, training: dict[str, Path]
) -> None:
    _register(signoff, team, training)
    digest = __import__("hashlib").sha256(training["skops"].read_bytes()).hexdigest()
    artifacts = ArtifactStore(team.home / "artifacts")
    path = artifacts.path_for(digest)
    assert path == team.home / "artifacts" / "sha256" / digest[:2] / digest
    assert artifacts.read_verified(digest) == training["skops"].read_bytes()
    os.chmod(path, 0o644)
    path.write_bytes(b"swapped")
    from console.errors import IntegrityError

    with pytest.raises(IntegrityError, match=str(path)):
        artifacts.read_verified(digest)


def test_code_dir_records_the_git_commit(
    team: Team, signoff: Runner, training: dict[str, Path], tmp_path: Path
) -> None:
    repo = tmp_path / "code"
    repo.mkdir()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "x"], check=True, env=env)
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    result = _register(signoff, team, training, "--code-dir", str(repo))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    shown = signoff("show", "tumour:1", "--home", team.home, "--json")
    assert f'"code_ref": "{head}"' in shown.output


def test_pickle_needs_trust_and_the_trust_is_recorded(
    team: Team, signoff: Runner, training: dict[str, Path], unchanged
) -> None:  # type: ignore[no-untyped-def]
    check = unchanged(team.home)
    line = one_line_error(_register(signoff, team, training, artifact=training["pickle"]))  # type: ignore[arg-type]
    assert "--trust-pickle" in line
    check()
    ok = _register(signoff, team, training, "--trust-pickle", artifact=training["pickle"])
    assert ok.exit_code == 0, ok.output  # type: ignore[attr-defined]
    shown = signoff("show", "tumour:1", "--home", team.home, "--json")
    assert '"trusted_pickle": true' in shown.output


def _bad_inputs(
    tmp_path: Path, training: dict[str, Path]
) -> dict[str, tuple[dict[str, Path], list[str], str]]:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = tmp_path / "header.csv"
    header_only.write_text("radius,texture,perimeter,area,malignant\n")
    corrupt = tmp_path / "corrupt.skops"
    corrupt.write_bytes(training["skops"].read_bytes()[:200])
    not_estimator = tmp_path / "dict.skops"
    sio.dump({"weights": [1, 2, 3]}, not_estimator)
    unfitted = tmp_path / "unfitted.skops"
    sio.dump(LogisticRegression(), unfitted)
    wrong_cols = tmp_path / "wrong.csv"
    pd.read_csv(training["csv"]).rename(columns={"radius": "r"}).to_csv(wrong_cols, index=False)
    no_target = tmp_path / "no-target.csv"
    pd.read_csv(training["csv"]).drop(columns="malignant").to_csv(no_target, index=False)
    evil = tmp_path / "evil.skops"
    import fractions

    sio.dump({"weights": fractions.Fraction(1, 3)}, evil)
    return {
        "missing artifact": ({"artifact": tmp_path / "nope.skops"}, [], "does not exist"),
        "missing data": ({"train": tmp_path / "nope.csv"}, [], "nope.csv"),
        "empty csv": ({"train": empty}, [], "empty"),
        "header-only csv": ({"train": header_only}, [], "no rows"),
        "corrupt artifact": ({"artifact": corrupt}, [], "corrupt"),
        "not an estimator": ({"artifact": not_estimator}, [], "not a scikit-learn estimator"),
        "unfitted": ({"artifact": unfitted}, [], "not fitted"),
        "columns differ": ({"train": wrong_cols}, [], "lacks the estimator's features radius"),
        "target missing": ({"train": no_target}, [], "target column"),
        "untrusted type": ({"artifact": evil}, [], "does not trust"),
        "unknown parent": ({}, ["--parent", "7"], "parent version"),
        "bad tag": ({}, ["--tag", "novalue"], "KEY=VALUE"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing artifact",
        "missing data",
        "empty csv",
        "header-only csv",
        "corrupt artifact",
        "not an estimator",
        "unfitted",
        "columns differ",
        "target missing",
        "untrusted type",
        "unknown parent",
        "bad tag",
    ],
)
def test_register_bad_input(
    case: str, team: Team, signoff: Runner, training: dict[str, Path], tmp_path: Path, unchanged
) -> None:  # type: ignore[no-untyped-def]
    over, extra, needle = _bad_inputs(tmp_path, training)[case]
    check = unchanged(team.home)
    line = one_line_error(_register(signoff, team, training, *extra, **over))  # type: ignore[arg-type]
    assert needle in line, line
    check()


def test_bad_model_names(team: Team, signoff: Runner, training: dict[str, Path]) -> None:
    for name in ["Tumour", "_x", "a" * 65, "with space", "x/y"]:
        result = signoff(
            "register",
            name,
            "--artifact",
            training["skops"],
            "--train-data",
            training["csv"],
            "--target",
            "malignant",
            "--home",
            team.home,
            "--as",
            "dana",
        )
        assert "invalid model name" in one_line_error(result)


def test_unknown_model_and_version(team: Team, signoff: Runner, training: dict[str, Path]) -> None:
    assert "no model" in one_line_error(signoff("show", "ghost", "--home", team.home))
    _register(signoff, team, training)
    assert "no version 9" in one_line_error(signoff("show", "tumour:9", "--home", team.home))
    assert "invalid version" in one_line_error(signoff("show", "tumour:x", "--home", team.home))


def test_reviewers_cannot_register(
    team: Team, signoff: Runner, training: dict[str, Path], unchanged
) -> None:  # type: ignore[no-untyped-def]
    check = unchanged(team.home)
    result = signoff(
        "register",
        "tumour",
        "--artifact",
        training["skops"],
        "--train-data",
        training["csv"],
        "--target",
        "malignant",
        "--home",
        team.home,
        "--as",
        "rita",
    )
    assert result.exit_code == 3
    check()


def test_missing_store_and_unwritable_store(signoff: Runner, tmp_path: Path) -> None:
    assert "no signoff store" in one_line_error(signoff("models", "--home", tmp_path / "nowhere"))


@pytest.mark.parametrize("backend", ["duckdb"])  # edits the DuckDB file
def test_store_from_a_newer_schema_is_refused(team: Team, signoff: Runner, unchanged) -> None:  # type: ignore[no-untyped-def]
    import duckdb

    team.store.dispose()
    con = duckdb.connect(str(team.home / "signoff.duckdb"))
    con.execute("INSERT INTO schema_version VALUES (999, 'future')")
    con.close()
    check = unchanged(team.home)
    line = one_line_error(signoff("models", "--home", team.home))
    assert "newer" in line and "upgrade signoff" in line
    check()


@pytest.mark.parametrize("backend", ["duckdb"])  # the DuckDB file's own lock
def test_busy_store_exits_2(team: Team, tmp_path: Path) -> None:
    """Another process holding the DuckDB file: the writer backs off, then says it is busy."""
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)",
            str(team.home / "signoff.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        env = {**os.environ, "SIGNOFF_LOCK_TIMEOUT": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "console", "models", "--home", str(team.home)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "busy" in done.stderr and "Traceback" not in done.stderr
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("backend", ["duckdb"])  # api.open_store takes a home
def test_python_api_registers_in_process(team: Team, training: dict[str, Path]) -> None:
    store = api.open_store(team.home)
    me = api.unlock(store, "dana", passphrase=PASSPHRASE, keys_dir=team.keys)
    frame = pd.read_csv(training["csv"])
    model = LogisticRegression(max_iter=2000).fit(
        frame.drop(columns="malignant"), frame["malignant"]
    )
    result = api.register_model(
        store, me, "tumour", model, frame, target="malignant", tags={"run": "42"}
    )
    assert result.version == 1 and result.task_type == "classification"
    regressor = LinearRegression().fit(frame[["radius", "texture"]], frame["area"])
    second = api.register_model(
        store, me, "area", regressor, frame[["radius", "texture", "area"]], target="area"
    )
    assert second.task_type == "regression" and "r2" in second.metrics
    from console.auditing.trail import verify_store

    assert verify_store(Store(team.home)).ok


@pytest.mark.parametrize("backend", ["duckdb"])  # api.open_store takes a home
def test_python_api_refuses_non_frames(team: Team) -> None:
    from console.errors import BadInput

    store = api.open_store(team.home)
    me = api.unlock(store, "dana", passphrase=PASSPHRASE, keys_dir=team.keys)
    with pytest.raises(BadInput):
        api.register_model(store, me, "tumour", LogisticRegression(), [[1, 2]], target="y")


def test_group_level_home_and_as_reach_the_command(team: Team, signoff: Runner) -> None:
    listed = signoff("--home", team.home, "users", "list", "--json")
    assert listed.exit_code == 0 and '"rita"' in listed.output
    checkpoint = signoff("--home", team.home, "--as", "aud", "audit", "checkpoint")
    assert checkpoint.exit_code == 0, checkpoint.output


def _bare_models(team: Team, owners: dict[str, str]) -> None:
    """Registry rows only (the model list reads nothing else), written straight to the table."""
    with team.store.session() as session:
        for name, owner in owners.items():
            session.connection().execute(
                text(
                    "INSERT INTO models VALUES (:name, :owner, '', 'low', '', "
                    "'2026-01-01T00:00:00.000000Z', 'dana')"
                ),
                {"name": name, "owner": owner},
            )


def test_the_model_list_pages_by_name_and_filters(team: Team) -> None:
    from console.registry.views import model_page

    owners = {f"model-{i}": "Fraud 100%" if i % 3 == 0 else "Credit" for i in range(1, 8)}
    _bare_models(team, owners)
    store = team.store
    first = model_page(store, limit=3)
    assert [m.name for m in first.models] == ["model-1", "model-2", "model-3"]
    assert (first.offset, first.total, first.has_before, first.has_after) == (0, 7, False, True)
    second = model_page(store, after="model-3", limit=3)
    last = model_page(store, after=second.models[-1].name, limit=3)
    assert [m.name for m in last.models] == ["model-7"]
    assert (last.offset, last.has_before, last.has_after) == (6, True, False)
    back = model_page(store, before="model-7", limit=3)
    assert [m.name for m in back.models] == ["model-4", "model-5", "model-6"]
    assert back.offset == 3
    # Fewer than a page before the key: the first page, not a short one.
    assert model_page(store, before="model-2", limit=3).models[0].name == "model-1"
    at = model_page(store, at="model-5", limit=3)
    assert (at.models[0].name, at.offset) == ("model-5", 4)
    # Name or owner, case-insensitive; % is a character, not a wildcard.
    fraud = model_page(store, match="  100% ", limit=10)
    assert [m.name for m in fraud.models] == ["model-3", "model-6"]
    assert model_page(store, match="MODEL-7").total == 1
    nothing = model_page(store, match="zzz")
    assert (nothing.models, nothing.total, nothing.has_after) == ([], 0, False)
    with pytest.raises(ValueError):
        model_page(store, after="a", before="b")


def test_a_versions_stages_read_in_the_order_reached_whatever_the_rows_order(team: Team) -> None:
    """The stages rows stored in another order than reached (as PostgreSQL leaves an updated
    row): a version's stages still read dev, staging, production, on both backends."""
    from console.registry.views import get_model
    from console.store.models import StageAssignment
    from tests.workflow_helpers import register_versions

    register_versions(team, 1)
    reached = {"dev": "2026-01-01", "staging": "2026-01-02", "production": "2026-01-03"}
    with team.store.session() as session:
        for stage in ("production", "dev", "staging"):
            session.add(
                StageAssignment(model="tumour", stage=stage, version=1, updated_at=reached[stage])
            )
    [version] = get_model(team.store, "tumour").versions
    assert version.stages == ["dev", "staging", "production"]
