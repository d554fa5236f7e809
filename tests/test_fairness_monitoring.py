"""Fairness watched in production: sensitive columns kept in logs, gaps per window, alerts.

The tests run on a copy of a small team store built once per module: credit-risk v1 in
production, validated over two sensitive attributes (gender and age_band); four weeks of logged
predictions carrying both attributes, and outcomes for most of them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from console import api
from console.auditing.trail import list_events
from console.monitoring import list_alerts
from console.monitoring.logs import log_batches
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from fixtures.credit import make_credit_drifted
from tests.conftest import Runner, make_team, one_line_error
from tests.test_monitoring import FEATURES, MODEL, POLICY, WEEK_ONE, _pipeline

Unchanged = Callable[[Path], Callable[[], None]]
ROWS = 400  # per week


def _weeks(estimator: object, weeks: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`weeks` weeks of logged predictions with gender and age_band, and their outcomes."""
    logs, outcomes = [], []
    for week in range(weeks):
        frame = make_credit_drifted(ROWS, seed=500 + week, shift=0.0)
        start = WEEK_ONE + timedelta(weeks=week)
        ids = [f"w{week}-{i:04d}" for i in range(ROWS)]
        logs.append(
            pd.DataFrame(
                {
                    "timestamp": [
                        (start + timedelta(minutes=20 * i + 3)).strftime("%Y-%m-%dT%H:%M:%SZ")
                        for i in range(ROWS)
                    ],
                    "version": 1,
                    "request_id": ids,
                    "prediction": estimator.predict(frame[FEATURES]),  # type: ignore[attr-defined]
                    "score": estimator.predict_proba(frame[FEATURES])[:, 1],  # type: ignore[attr-defined]
                    **{c: frame[c] for c in FEATURES},
                    "gender": frame["gender"],
                    "age_band": frame["age_band"],
                }
            )
        )
        outcomes.append(pd.DataFrame({"request_id": ids, "outcome": frame["default"]}))
    return pd.concat(logs, ignore_index=True), pd.concat(outcomes, ignore_index=True)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fairwatch")
    team = make_team(root / "home", root / "keys")
    train = make_credit_drifted(2000, seed=1, shift=0.0)
    fitted = _pipeline(1.0).fit(train[FEATURES], train["default"])
    api.register_model(
        team.store, team["dana"], MODEL, fitted, train[[*FEATURES, "default"]], target="default"
    )
    holdout = root / "holdout.csv"
    make_credit_drifted(800, seed=2, shift=0.0).to_csv(holdout, index=False)
    from console.release.decisions import decide
    from console.release.deployments import promote
    from console.release.policy import set_policy
    from console.release.requests import request_promotion
    from console.validation.service import run_validation

    run_validation(team.store, team["dana"], MODEL, 1, holdout, "default", ["gender", "age_band"])
    set_policy(team.store, team["ada"], POLICY, "policy.toml")
    view = request_promotion(team.store, team["dana"], MODEL, 1, "production", "v1", None)
    decide(team.store, team["rita"], view.id, "approve", "reviewed")
    promote(team.store, team["rel"], view.id)
    data = root / "data"
    data.mkdir()
    log, outcomes = _weeks(fitted)
    log.to_csv(data / "log.csv", index=False)
    outcomes.to_csv(data / "labels.csv", index=False)
    # Week 1 (the second) gets no outcomes: its window has no labelled rows.
    outcomes[~outcomes["request_id"].str.startswith("w1-")].to_csv(
        data / "labels-gap.csv", index=False
    )
    team.store.dispose()
    yield root


@pytest.fixture
def home(template: Path, tmp_path: Path, isolated_env: Path) -> Path:
    shutil.copytree(template / "home", tmp_path / "home")
    shutil.copytree(template / "keys", isolated_env, dirs_exist_ok=True)
    return tmp_path / "home"


@pytest.fixture
def data(template: Path) -> Path:
    return template / "data"


def run(signoff: Runner, home: Path, *args: object) -> tuple[int, str]:
    result = signoff(*args, "--home", home)
    return result.exit_code, result.output


def ingest(signoff: Runner, home: Path, log: Path, *extra: str) -> tuple[int, str]:
    return run(signoff, home, "monitor", "ingest", MODEL, "--predictions", log, *extra, "--as", "rel")


def stored_columns(home: Path) -> list[str]:
    (batch,) = log_batches(Store(home), MODEL)
    path = ArtifactStore(Store(home).artifacts_dir).path_for(batch.artifact_sha256)
    con = duckdb.connect()
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    finally:
        con.close()
    return {str(r[0]): str(r[1]) for r in described}  # type: ignore[return-value]


# ---- slice 1: ingest keeps sensitive columns ----------------------------------------------------


def test_ingest_keeps_the_validated_attributes_by_default(
    home: Path, data: Path, signoff: Runner
) -> None:
    code, out = ingest(signoff, home, data / "log.csv", "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["sensitive_columns"] == ["gender", "age_band"]  # the latest validation's
    assert "gender" not in result["ignored_columns"]
    columns = stored_columns(home)
    assert columns["gender"] == "VARCHAR" and columns["age_band"] == "VARCHAR"
    (batch,) = log_batches(Store(home), MODEL)
    assert batch.sensitive == ["gender", "age_band"]
    (event,) = list_events(Store(home), action="monitoring.ingested")
    assert event.payload["sensitive_columns"] == ["gender", "age_band"]
    assert run(signoff, home, "audit", "verify")[0] == 0


def test_ingest_sensitive_named_explicitly_and_refusals(
    home: Path, data: Path, signoff: Runner, unchanged: Unchanged, tmp_path: Path
) -> None:
    check = unchanged(home)
    assert "has no column 'ethnicity' for --sensitive" in one_line_error(
        signoff("monitor", "ingest", MODEL, "--predictions", data / "log.csv",
                "--sensitive", "ethnicity", "--as", "rel", "--home", home)  # fmt: skip
    )
    result = signoff(
        "monitor", "ingest", MODEL, "--predictions", data / "log.csv",
        "--sensitive", "prediction", "--as", "rel", "--home", home,
    )  # fmt: skip
    assert "reserves" in one_line_error(result)
    result = signoff(
        "monitor", "ingest", MODEL, "--predictions", data / "log.csv",
        "--sensitive", "gender", "--sensitive", "gender", "--as", "rel", "--home", home,
    )  # fmt: skip
    assert "twice" in one_line_error(result)
    banded = pd.read_csv(data / "log.csv").assign(age_band=lambda f: range(len(f)))
    banded.to_csv(tmp_path / "unbanded.csv", index=False)
    result = signoff(
        "monitor", "ingest", MODEL, "--predictions", tmp_path / "unbanded.csv",
        "--sensitive", "age_band", "--as", "rel", "--home", home,
    )  # fmt: skip
    assert "band it into at most 50 groups" in one_line_error(result)
    check()

    code, out = ingest(signoff, home, data / "log.csv", "--sensitive", "gender")
    assert code == 0, out
    assert "sensitive columns kept: gender" in out and "ignored columns: age_band" in out
    assert log_batches(Store(home), MODEL)[0].sensitive == ["gender"]


def test_a_sensitive_column_that_is_a_feature_is_allowed_and_kept_once(
    home: Path, data: Path, signoff: Runner
) -> None:
    """Decided: allowed. The feature is in the log already (typed as the feature); recording it
    as sensitive only tells fairness to read it as groups. It is not stored twice."""
    code, out = ingest(
        signoff, home, data / "log.csv", "--sensitive", "employment_type", "--sensitive", "gender"
    )
    assert code == 0, out
    assert log_batches(Store(home), MODEL)[0].sensitive == ["employment_type", "gender"]
    columns = stored_columns(home)
    assert "employment_type" in columns and "age_band" not in columns
