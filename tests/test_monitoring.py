"""Monitoring: logs and outcomes in, drift, decay, champion/challenger, retraining, the demo.

Most tests run on a copy of a small team store (credit-risk v1 in production, v2 its 10%
canary, both validated), built once per module; the demo tests run on a copy of the demo
store after `add_demo_monitoring`, also built once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sqlmodel import select

from audit.keys import KeyStore, Signer
from console import api
from console.errors import BadInput
from console.monitoring import (
    evaluate_drift,
    ingest_outcomes,
    ingest_predictions,
    list_alerts,
    list_jobs,
    monitoring_summary,
    resolve_alert,
)
from console.monitoring.compare import ABORT, STEP, WAIT, Arm, _decide, canary_state
from console.monitoring.settings import DEFAULTS, monitoring_settings
from console.registry.views import get_dataset, get_model, get_version
from console.release.policy import parse_policy
from console.store.db import Store, open_store
from console.store.models import RetrainingJob, StageAssignment
from console.validation.reference import parse_profile
from fixtures.credit import CATEGORICAL_COLUMNS, NUMERIC_COLUMNS, make_credit_drifted
from tests.conftest import (
    BACKENDS,
    PASSPHRASE,
    Runner,
    demo_store,
    make_team,
    one_line_error,
    store_at,
)

Unchanged = Callable[[Path], Callable[[], None]]
MODEL = "credit-risk"
FEATURES = [*NUMERIC_COLUMNS, *CATEGORICAL_COLUMNS]
WEEK_ONE = datetime(2026, 9, 7)  # a Monday: windows start on Mondays
ROWS_PER_WEEK = 300
# The weeks of logged traffic are dated before the template promotes v1 (at the test's clock).
BACKFILL = "test: weeks of traffic dated before the template's promotion"
POLICY = """\
version = 1
stages = ["dev", "production"]

[stage.dev]
approvals = 1
approver_roles = ["reviewer", "risk-officer"]
gates = []
may_skip = true

[stage.production]
approvals = 1
approver_roles = ["reviewer", "risk-officer"]
gates = []
canary_steps = [10, 50, 100]

[rollback]
break_glass_roles = ["release-manager", "admin"]

[monitoring]
min_window_rows = 100
min_compare_rows = 100
"""


# ---- the team store ---------------------------------------------------------------------------


def _pipeline(c: float) -> Pipeline:
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    prepare = ColumnTransformer(
        [
            ("numeric", numeric, list(NUMERIC_COLUMNS)),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_COLUMNS)),
        ]
    )
    return Pipeline([("prepare", prepare), ("classify", LogisticRegression(C=c, max_iter=2000))])


def _week(
    week: int, shift: float, version: int, estimator: Pipeline
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One week of logged predictions (and the applicants' outcomes and gender)."""
    frame = make_credit_drifted(ROWS_PER_WEEK, seed=300 + week, shift=shift)
    start = WEEK_ONE + timedelta(weeks=week)
    stamps = [start + timedelta(minutes=30 * i + 7) for i in range(ROWS_PER_WEEK)]
    ids = [f"w{week}-{i:04d}" for i in range(ROWS_PER_WEEK)]
    log = pd.DataFrame(
        {
            "timestamp": [s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in stamps],
            "version": version,
            "request_id": ids,
            "prediction": estimator.predict(frame[FEATURES]),
            "score": estimator.predict_proba(frame[FEATURES])[:, 1],
        }
    )
    return pd.concat([log, frame[FEATURES]], axis=1), frame.assign(request_id=ids)


@dataclass(frozen=True)
class Files:
    log: Path  # four weeks of v1 in production; weeks 3 and 4 drifted
    labels: Path  # outcomes for 85% of them
    retrain: Path  # the drifted weeks' applicants with outcomes (and gender)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """credit-risk v1 in production with v2 its 10% canary, both validated; data files."""
    root = tmp_path_factory.mktemp("monitoring")
    team = make_team(root / "home", root / "keys")
    train = make_credit_drifted(2000, seed=1, shift=0.0)
    fitted = {}
    for version, c in ((1, 1.0), (2, 0.05)):
        fitted[version] = _pipeline(c).fit(train[FEATURES], train["default"])
        api.register_model(
            team.store, team["dana"], MODEL, fitted[version], train[[*FEATURES, "default"]],
            target="default",
        )  # fmt: skip
    holdout = root / "holdout.csv"
    make_credit_drifted(800, seed=2, shift=0.0).to_csv(holdout, index=False)
    from console.release.decisions import decide
    from console.release.deployments import promote
    from console.release.policy import set_policy
    from console.release.requests import request_promotion
    from console.validation.service import run_validation

    for version in (1, 2):
        run_validation(team.store, team["dana"], MODEL, version, holdout, "default", "gender")
    set_policy(team.store, team["ada"], POLICY, "policy.toml")
    for version, canary in ((1, 100), (2, None)):
        view = request_promotion(
            team.store, team["dana"], MODEL, version, "production", f"v{version}", canary
        )
        decide(team.store, team["rita"], view.id, "approve", "reviewed")
        promote(team.store, team["rel"], view.id)

    logs, people = zip(
        *(_week(w, 1.0 if w >= 2 else 0.0, 1, fitted[1]) for w in range(4)), strict=True
    )
    data = root / "data"
    data.mkdir()
    log = pd.concat(logs, ignore_index=True)
    log.to_csv(data / "log.csv", index=False)
    everyone = pd.concat(people, ignore_index=True)
    labelled = everyone.sample(frac=0.85, random_state=0)
    labelled[["request_id", "default"]].rename(columns={"default": "outcome"}).to_csv(
        data / "labels.csv", index=False
    )
    drifted = everyone[everyone["request_id"].str.startswith(("w2-", "w3-"))]
    drifted[[*FEATURES, "default", "gender"]].to_csv(data / "retrain.csv", index=False)
    team.store.dispose()
    yield root


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Monitoring runs on the DuckDB file and on a PostgreSQL team store."""
    return str(request.param)


@pytest.fixture
def home(
    template: Path, tmp_path: Path, isolated_env: Path, on_backend: Callable[[Path], Path]
) -> Path:
    """A copy of the template store on the test's backend; its team's keys in this test's key
    directory."""
    shutil.copytree(template / "home", tmp_path / "home")
    shutil.copytree(template / "keys", isolated_env, dirs_exist_ok=True)
    return on_backend(tmp_path / "home")


@pytest.fixture
def files(template: Path) -> Files:
    data = template / "data"
    return Files(data / "log.csv", data / "labels.csv", data / "retrain.csv")


def signer(home: Path, name: str) -> Signer:
    keys = KeyStore(home.parent / "keys")
    return Signer(name, keys.load_private(name, PASSPHRASE.encode()))


@pytest.fixture
def store(home: Path) -> Store:
    return store_at(home)


def ingested(store: Store, files: Files) -> Store:
    me = signer(store.home, "rel")
    ingest_predictions(store, me, MODEL, files.log, stage="production", allow_backfill=BACKFILL)
    ingest_outcomes(store, me, MODEL, files.labels)
    return store


def run(signoff: Runner, home: Path, *args: object) -> tuple[int, str]:
    result = signoff(*args, "--home", home)
    return result.exit_code, result.output


# ---- end to end from the CLI -------------------------------------------------------------------


def test_ingest_labels_and_drift_from_the_cli(
    home: Path, files: Files, signoff: Runner, unchanged: Unchanged
) -> None:
    code, out = run(
        signoff, home, "monitor", "ingest", MODEL, "--predictions", files.log, "--as", "rel",
        "--allow-backfill", BACKFILL,
    )  # fmt: skip
    assert code == 0, out
    assert "log 1: 1200 predictions of credit-risk (v1: 1200)" in out
    assert "in production" in out  # the last stage serving v1
    code, out = run(
        signoff, home, "monitor", "labels", MODEL, "--file", files.labels, "--as", "rel"
    )
    assert code == 0, out
    assert "1020 outcomes of credit-risk, 1020 matched" in out

    check = unchanged(home)
    code, out = run(signoff, home, "monitor", "drift", MODEL)  # nobody acts: nothing recorded
    assert code == 1, out
    assert "not recorded" in out and "debt_to_income" in out
    check()

    code, out = run(signoff, home, "monitor", "drift", MODEL, "--as", "raj")
    assert code == 1, out
    assert "recorded 4 window(s)" in out
    alerts = list_alerts(store_at(home), MODEL)
    assert alerts and {a.kind for a in alerts} >= {"drift.psi", "drift.ks"}
    assert {a.window_start[:10] for a in alerts} <= {"2026-09-21", "2026-09-28"}  # drifted weeks
    assert all(a.status == "open" and a.opened_by == "raj" for a in alerts)

    check = unchanged(home)  # the same windows again: nothing new, not even an event
    code, out = run(signoff, home, "monitor", "drift", MODEL, "--as", "raj")
    assert code == 1 and "nothing new to record" in out
    check()
    assert len(list_alerts(store_at(home), MODEL)) == len(alerts)

    code, out = run(signoff, home, "monitor", "drift", MODEL, "--since", "2026-09-14", "--json")
    data = json.loads(out)
    assert code == 1
    assert [w["start"][:10] for w in data["evaluation"]["windows"]] == [
        "2026-09-14",
        "2026-09-21",
        "2026-09-28",
    ]
    assert len(data["open_alerts"]) == len(alerts)

    code, out = run(
        signoff, home, "monitor", "drift", MODEL, "--window", "1w", "--since", "2026-09-14"
    )
    assert code == 1 and "per 1w window" in out
    code, out = run(signoff, home, "monitor", "alerts", MODEL)
    assert code == 0 and "drift.psi" in out and "no open retraining jobs" in out
    assert run(signoff, home, "audit", "verify")[0] == 0


def test_performance_decay_and_alert_resolution(
    home: Path, files: Files, signoff: Runner, unchanged: Unchanged
) -> None:
    ingested(store_at(home), files)
    code, out = run(signoff, home, "monitor", "performance", MODEL, "--as", "raj")
    assert "baseline v1 (validation run 1): accuracy" in out
    data = json.loads(run(signoff, home, "monitor", "performance", MODEL, "--json")[1])
    windows = data["evaluation"]["windows"]
    assert [w["rows"] for w in windows] == [255, 255, 255, 255] or sum(
        w["rows"] for w in windows
    ) == 1020
    for window in windows:
        accuracy = window["result"]["metrics"]["accuracy"]
        low, high = accuracy["ci95"]
        assert low <= accuracy["value"] <= high
    decayed = [a for a in list_alerts(store_at(home), MODEL) if a.kind == "performance.decay"]
    assert code == (1 if decayed else 0)
    for alert in decayed:  # a decay alert: beyond tolerance, the whole interval below baseline
        assert alert.value is not None and alert.value > DEFAULTS["decay_tolerance"]  # type: ignore[operator]
        assert alert.detail["ci95"][1] < alert.detail["baseline"]  # type: ignore[index]

    run(signoff, home, "monitor", "drift", MODEL, "--as", "raj")
    first = list_alerts(store_at(home), MODEL)[0]
    check = unchanged(home)
    result = signoff("monitor", "resolve", first.id, "--reason", "x", "--as", "rel", "--home", home)
    assert "needs the role risk-officer or admin" in one_line_error(result, 3)
    check()
    code, out = run(
        signoff, home, "monitor", "resolve", first.id, "--reason", "pipeline fixed", "--as", "raj"
    )
    assert code == 0, out
    assert list_alerts(store_at(home), MODEL, status="resolved")[0].id == first.id
    check = unchanged(home)  # a resolved alert is not reopened for the same window
    run(signoff, home, "monitor", "drift", MODEL, "--as", "raj")
    check()
    assert run(signoff, home, "audit", "verify")[0] == 0


def test_check_is_idempotent_and_retrain_opens_a_request_without_promoting(
    home: Path, files: Files, signoff: Runner, unchanged: Unchanged
) -> None:
    ingested(store_at(home), files)
    code, out = run(signoff, home, "monitor", "check", "--as", "rel")
    assert code == 0, out
    assert "opened retraining job 1 for v1" in out and "drift_alert" in out
    check = unchanged(home)
    code, out = run(signoff, home, "monitor", "check", "--as", "rel")  # cron runs it again
    assert code == 0 and "retraining job 1 for v1 is already open" in out
    check()
    store = store_at(home)
    with store.session() as session:
        assert len(session.exec(select(RetrainingJob)).all()) == 1
    [job] = list_jobs(store, MODEL)
    assert job.version == 1 and job.stage == "production" and job.status == "open"

    check = unchanged(home)
    result = signoff("retrain", MODEL, "--data", files.retrain, "--as", "rita", "--home", home)
    assert "needs the role author or admin" in one_line_error(result, 3)
    check()

    code, out = run(signoff, home, "retrain", MODEL, "--data", files.retrain, "--as", "dana")
    assert code == 0, out
    assert "credit-risk:3 retrained from v1 (job 1)" in out and "request 3 to dev" in out
    version = get_version(store, MODEL, 3)
    assert version.parent == 1
    assert version.tags["retrain.trigger"] == "job 1"
    assert (
        version.tags["retrain.data_sha256"]
        == hashlib.sha256(files.retrain.read_bytes()).hexdigest()
    )
    seeded = version.tags["retrain.seeded_params"].split(",")
    assert seeded == ["classify__random_state"]  # unseeded before: now the fixed seed
    parent = get_version(store, MODEL, 1).params
    assert {k: v for k, v in version.params.items() if k not in seeded} == {
        k: v for k, v in parent.items() if k not in seeded
    }  # the same hyperparameters
    from console.release.evidence import latest_validation
    from console.release.requests import get_request

    run_ = latest_validation(store, MODEL, 3)
    assert run_ is not None and run_.sensitive == "gender"  # as v1's last validation
    request = get_request(store, 3)
    assert (request.model, request.version, request.stage, request.status) == (
        MODEL,
        3,
        "dev",
        "open",
    )
    with store.session() as session:  # nothing moved: v1 serves, v2 is still the canary
        production = session.get(StageAssignment, (MODEL, "production"))
        assert production is not None
        assert (production.version, production.canary_version) == (1, 2)
        assert session.get(StageAssignment, (MODEL, "dev")) is None
    [job] = list_jobs(store, MODEL)
    assert (job.status, job.result_version, job.request_id) == ("retrained", 3, 3)

    # Refitting is deterministic: the same data gives the same candidate (skops archives carry
    # their write time, so compare what the models do, not their bytes).
    code, out = run(
        signoff,
        home,
        "retrain",
        MODEL,
        "--data",
        files.retrain,
        "--from-version",
        "1",
        "--as",
        "dana",
    )
    assert code == 0, out
    from console.registry.views import load_version_estimator

    x = pd.read_csv(files.retrain)[FEATURES]
    first, again = (load_version_estimator(store, get_version(store, MODEL, n)) for n in (3, 4))
    assert np.array_equal(first.predict_proba(x), again.predict_proba(x))
    assert get_version(store, MODEL, 4).tags["retrain.trigger"] == "manual"
    assert run(signoff, home, "audit", "verify")[0] == 0


def test_compare_champion_and_canary(
    home: Path, files: Files, signoff: Runner, tmp_path: Path
) -> None:
    store = store_at(home)
    state = canary_state(store, MODEL, "production")
    assert state is not None and (state.champion, state.canary) == (1, 2)
    started = datetime.strptime(state.started_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    frame = make_credit_drifted(1200, seed=77, shift=0.0)
    from console.registry.views import load_version_estimator

    rows = []
    for version in (1, 2):
        estimator = load_version_estimator(store, get_version(store, MODEL, version))
        part = frame.iloc[:600] if version == 1 else frame.iloc[600:]
        rows.append(
            pd.DataFrame(
                {
                    "timestamp": [
                        (started + timedelta(minutes=i + 1)).isoformat() + "Z"
                        for i in range(len(part))
                    ],
                    "version": version,
                    "request_id": [f"c{version}-{i}" for i in range(len(part))],
                    "prediction": estimator.predict(part[FEATURES]),
                }
            )
            .join(part[FEATURES].reset_index(drop=True))
            .assign(outcome=part["default"].to_numpy())
        )
    log = pd.concat(rows, ignore_index=True)
    log.drop(columns="outcome").to_parquet(tmp_path / "canary.parquet")
    log[["request_id", "outcome"]].to_json(
        tmp_path / "outcomes.jsonl", orient="records", lines=True
    )
    assert (
        run(
            signoff,
            home,
            "monitor",
            "ingest",
            MODEL,
            "--predictions",
            tmp_path / "canary.parquet",
            "--as",
            "rel",
            "--allow-backfill",
            "test: canary traffic simulated ahead of the clock",
        )[0]
        == 0
    )
    assert (
        run(
            signoff,
            home,
            "monitor",
            "labels",
            MODEL,
            "--file",
            tmp_path / "outcomes.jsonl",
            "--as",
            "rel",
        )[0]
        == 0
    )

    code, out = run(signoff, home, "monitor", "compare", MODEL, "--stage", "production", "--json")
    data = json.loads(out)
    correct = log["prediction"] == log["outcome"]
    p1, p2 = correct[log["version"] == 1].mean(), correct[log["version"] == 2].mean()
    pooled = correct.mean()
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (2 / 600))
    assert data["champion"]["rows"] == 600 and data["canary"]["rows"] == 600
    assert data["metric"] == "accuracy" and "roc_auc not computable" in data["metric_note"]
    assert data["difference"] == pytest.approx(p2 - p1, abs=1e-12)
    assert data["z"] == pytest.approx(z, rel=1e-9)
    assert data["p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)
    assert data["recommendation"] in (STEP, WAIT, ABORT)
    assert data["canary_share"] == 10
    assert code == (1 if data["recommendation"] == ABORT else 0)
    code, out = run(signoff, home, "monitor", "compare", MODEL, "--stage", "production")
    assert "recommendation:" in out and "champion v1 vs canary v2 at 10%" in out
    result = signoff("monitor", "compare", MODEL, "--stage", "dev", "--home", home)
    assert "no canary runs for credit-risk in dev" in one_line_error(result)


def test_compare_recommendations() -> None:
    def decide(p1: float, p2: float, n: int) -> str:
        arms = Arm(1, n, p1, None), Arm(2, n, p2, None)
        return _decide(
            MODEL, "production", *arms, 10, "x", "accuracy", 0.01, 200, 0.05
        ).recommendation

    assert decide(0.85, 0.75, 5000) == ABORT  # clearly worse, beyond tolerance
    assert decide(0.85, 0.86, 5000) == STEP  # not worse beyond tolerance
    assert decide(0.85, 0.84, 300) == WAIT  # inconclusive
    assert decide(0.85, 0.60, 50) == WAIT  # too few outcomes to say anything


@pytest.mark.parametrize(
    "backend", ["duckdb"]
)  # computation over the logs, in-process DuckDB on both
def test_drift_in_duckdb_agrees_with_numpy(home: Path, files: Files) -> None:
    store = ingested(store_at(home), files)
    evaluation = evaluate_drift(store, MODEL)
    window = evaluation.windows[3]  # the fourth week, drifted
    assert window.start.startswith("2026-09-28") and window.rows == ROWS_PER_WEEK
    log = pd.read_csv(files.log)
    stamps = pd.to_datetime(log["timestamp"]).dt.tz_localize(None)
    rows = log[(stamps >= pd.Timestamp("2026-09-28")) & (stamps < pd.Timestamp("2026-10-05"))]
    profile = parse_profile(
        get_dataset(store, get_version(store, MODEL, 1).train_dataset_sha256).profile
    )
    features = window.result["features"]
    assert isinstance(features, dict)

    def psi(expected: np.ndarray, actual: np.ndarray) -> float:
        e = np.maximum(expected / expected.sum(), 1e-4)
        a = np.maximum(actual / actual.sum(), 1e-4)
        return float(np.sum((a - e) * np.log(a / e)))

    for name in ("debt_to_income", "loan_amount", "credit_history_years"):
        ref = profile[name]
        values = rows[name].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        edges = np.asarray(ref.edges)
        bins = np.searchsorted(edges[1:-1], finite, side="right")  # outer bins open-ended
        actual = np.bincount(bins, minlength=len(edges) - 1).astype(float)
        below_ref = np.concatenate([[0], np.cumsum(ref.counts)[:-1]]) / sum(ref.counts)
        below_new = np.array([(finite < e).mean() for e in edges[:-1]])
        ks = max(np.abs(below_new - below_ref).max(), (finite > edges[-1]).mean())
        stats = features[name]
        assert stats["psi"] == pytest.approx(psi(np.asarray(ref.counts, float), actual), rel=1e-9)
        assert stats["ks_statistic"] == pytest.approx(ks, rel=1e-9)
        assert stats["null_rate"] == pytest.approx(np.isnan(values).mean(), abs=1e-12)
        outside = ((finite < edges[0]) | (finite > edges[-1])).mean()
        assert stats["out_of_range_share"] == pytest.approx(outside, abs=1e-12)
    ref = profile["employment_type"]
    counts = rows["employment_type"].value_counts()
    actual = np.array([counts.get(k, 0) for k in ref.frequencies] + [0], float)
    actual[-1] = len(rows) - actual.sum()
    expected = np.array([*ref.frequencies.values(), ref.other_count], float)
    assert features["employment_type"]["psi"] == pytest.approx(psi(expected, actual), rel=1e-9)


# ---- bad input: one line, exit 2, nothing stored ----------------------------------------------


def _bad_log(files: Files, tmp_path: Path, change: str) -> Path:
    log = pd.read_csv(files.log).head(50).copy()
    log["request_id"] = [f"new-{i}" for i in range(len(log))]
    path = tmp_path / "bad.csv"
    if change == "unknown_versions":
        log.loc[log.index[:5], "version"] = 7
        log.loc[log.index[5:7], "version"] = 9
    elif change == "missing_features":
        log = log.drop(columns=["income", "age"])
    elif change == "bad_timestamp":
        log["timestamp"] = log["timestamp"].astype(object)
        log.loc[log.index[:3], "timestamp"] = "yesterday"
    elif change == "not_a_number":
        log["income"] = log["income"].astype(object)
        log.loc[log.index[10], "income"] = "a lot"
    elif change == "duplicate_ids":
        log.loc[log.index[1], "request_id"] = "new-0"
    elif change == "header_only":
        log = log.head(0)
    if change == "empty_file":
        path.write_bytes(b"")
    else:
        log.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "backend", ["duckdb"]
)  # the files fail before the store; a refused second log is on both
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "unknown_versions",
            "7 of 50 rows name versions credit-risk does not have: 7 (5 rows), 9 (2 rows)",
        ),
        ("missing_features", "lacks 2 feature column(s) of credit-risk:1: 'age', 'income'"),
        ("bad_timestamp", "3 of 50 rows have a timestamp that does not parse (e.g. 'yesterday')"),
        (
            "not_a_number",
            "1 of 50 values of the numeric feature 'income' are not numbers (e.g. 'a lot')",
        ),
        ("duplicate_ids", "1 request ids appear more than once (e.g. 'new-0')"),
        ("header_only", "bad.csv has no rows"),
        ("empty_file", "bad.csv is empty"),
    ],
)
def test_bad_prediction_logs_are_refused_whole(
    home: Path,
    files: Files,
    signoff: Runner,
    unchanged: Unchanged,
    tmp_path: Path,
    change: str,
    expected: str,
) -> None:
    path = _bad_log(files, tmp_path, change)
    check = unchanged(home)
    result = signoff(
        "monitor", "ingest", MODEL, "--predictions", path, "--as", "rel", "--home", home
    )
    line = one_line_error(result)
    assert expected in line.replace("missing_features", ""), line
    check()


def test_a_log_ingested_twice_or_overlapping_is_refused(
    home: Path, files: Files, signoff: Runner, unchanged: Unchanged, tmp_path: Path
) -> None:
    ingested(store_at(home), files)
    check = unchanged(home)
    result = signoff(
        "monitor", "ingest", MODEL, "--predictions", files.log, "--as", "rel", "--home", home
    )
    assert "was already ingested as log 1" in one_line_error(result)
    again = tmp_path / "again.csv"
    pd.read_csv(files.log).head(20).to_csv(again, index=False)
    result = signoff(
        "monitor", "ingest", MODEL, "--predictions", again, "--as", "rel", "--home", home
    )
    assert "20 request ids were already logged (e.g. 'w0-0000'" in one_line_error(result)
    check()


def test_labels_for_ids_never_logged_are_reported_not_dropped(
    home: Path, files: Files, signoff: Runner, unchanged: Unchanged, tmp_path: Path
) -> None:
    store = store_at(home)
    ingest_predictions(store, signer(home, "rel"), MODEL, files.log, allow_backfill=BACKFILL)
    labels = pd.read_csv(files.labels).head(30)
    labels.loc[labels.index[:2], "request_id"] = ["ghost-1", "ghost-2"]
    path = tmp_path / "labels.csv"
    labels.to_csv(path, index=False)
    check = unchanged(home)
    result = signoff("monitor", "labels", MODEL, "--file", path, "--as", "rel", "--home", home)
    line = one_line_error(result)
    assert "2 of 30 request ids were never logged (e.g. 'ghost-1', 'ghost-2'" in line
    assert "--allow-unmatched" in line
    for bad, expected in (
        (labels.assign(outcome="yes"), "30 of 30 outcomes are labels the model never predicts"),
        (labels.head(0), "has no rows"),
        (labels.drop(columns="request_id"), "lacks the column request_id"),
    ):
        bad.to_csv(path, index=False)
        result = signoff("monitor", "labels", MODEL, "--file", path, "--as", "rel", "--home", home)
        assert expected in one_line_error(result)
    check()
    labels.to_csv(path, index=False)
    code, out = run(
        signoff,
        home,
        "monitor",
        "labels",
        MODEL,
        "--file",
        path,
        "--allow-unmatched",
        "--as",
        "rel",
    )
    assert code == 0 and "2 not logged yet" in out
    summary = monitoring_summary(store, MODEL)
    assert [(b.rows, b.matched, b.unmatched) for b in summary.outcomes] == [(30, 28, 2)]


def test_roles_and_a_swapped_log(
    home: Path, files: Files, signoff: Runner, unchanged: Unchanged
) -> None:
    check = unchanged(home)
    result = signoff(
        "monitor", "ingest", MODEL, "--predictions", files.log, "--as", "aud", "--home", home
    )
    assert "needs the role release-manager or author or admin" in one_line_error(result, 3)
    result = signoff("monitor", "check", "--as", "aud", "--home", home)
    one_line_error(result, 3)
    check()
    store = ingested(store_at(home), files)
    [log] = monitoring_summary(store, MODEL).logs
    from console.store.artifacts import ArtifactStore

    path = ArtifactStore(store.artifacts_dir).path_for(log.artifact_sha256)
    path.chmod(0o644)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{path}') LIMIT 10) TO '{path}.x' (FORMAT parquet)"
    )
    con.close()
    Path(f"{path}.x").replace(path)
    result = signoff("monitor", "drift", MODEL, "--home", home)
    assert "does not match its digest" in one_line_error(result, 1)


# ---- policy, read models, migration -----------------------------------------------------------


def test_the_monitoring_policy_is_strict_and_its_defaults_are_the_default_policy() -> None:
    from console.release.policy import default_policy_text

    assert monitoring_settings(parse_policy(default_policy_text(), "default")).thresholds() == (
        monitoring_settings(parse_policy("version = 1\n", "empty")).thresholds()
    )
    assert parse_policy(default_policy_text(), "default").monitoring == {
        k: (float(v) if isinstance(v, float) else v) for k, v in DEFAULTS.items()
    }
    for table, message in (
        ("[monitoring]\nmax_psy = 0.2\n", "line 2: unknown key 'max_psy' in [monitoring]"),
        ('[monitoring]\nwindow = "7 days"\n', 'window must be a length like "7d"'),
        ("[monitoring]\nmax_ks_pvalue = 5\n", "between 0 and 1"),
        ('[monitoring]\nretrain_triggers = ["moon"]\n', "retrain_triggers must be a list"),
        ("[monitoring]\nmin_window_rows = 0\n", "whole number >= 1"),
    ):
        with pytest.raises(BadInput, match=message.replace("[", r"\[").replace("(", r"\(")):
            parse_policy(table, "p.toml")


def test_summary_as_of_a_log_size(home: Path, files: Files) -> None:
    store = ingested(store_at(home), files)
    raj = signer(home, "raj")
    before = monitoring_summary(store, MODEL)
    from console.monitoring.runs import monitor

    monitor(store, raj, MODEL, "drift")
    alerts = list_alerts(store, MODEL)
    first_alert = min(a.event_seq for a in alerts)
    resolved = resolve_alert(store, raj, alerts[0].id, "known upstream change")
    assert resolved.resolved_seq is not None
    then = monitoring_summary(store, MODEL, upto_seq=first_alert)
    assert then.alerts == [] and len(then.drift_windows) == 4
    assert then.logged_rows == 1200 and then.labelled_rows == 1020
    at = monitoring_summary(store, MODEL, upto_seq=resolved.resolved_seq)
    assert len(at.open_alerts) == len(alerts)  # the resolution is event N itself: not yet
    now = monitoring_summary(store, MODEL)
    assert len(now.open_alerts) == len(alerts) - 1
    assert (
        before.drift_windows == []
        and now.series
        and now.series[0].starts[0].startswith("2026-09-07")
    )
    json.dumps(now.as_dict())


@pytest.mark.parametrize("backend", ["duckdb"])  # edits the DuckDB file
def test_an_older_store_gets_the_monitoring_tables(home: Path) -> None:
    con = duckdb.connect(str(home / "signoff.duckdb"))
    for table in (
        "prediction_logs",
        "outcome_batches",
        "monitoring_windows",
        "monitoring_alerts",
        "retraining_jobs",
    ):
        con.execute(f"DROP TABLE {table}")
    con.execute("DELETE FROM schema_version WHERE version >= 3")
    con.close()
    open_store(home).dispose()
    con = duckdb.connect(str(home / "signoff.duckdb"))
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    con.close()
    assert {"prediction_logs", "monitoring_alerts", "retraining_jobs"} <= tables


# ---- the demo ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def monitored_demo(demo_template: Path) -> Path:
    """The demo store, which `signoff demo` builds with the monitoring story included."""
    return demo_template


def test_the_demo_tells_the_monitoring_story(monitored_demo: Path) -> None:
    store = Store(monitored_demo)
    summary = monitoring_summary(store, MODEL)
    assert len(summary.logs) == 8 and summary.logged_rows == 8 * 1500
    assert 0.8 < summary.labelled_rows / summary.logged_rows < 0.9
    weeks = [w.start[:10] for w in summary.drift_windows]
    assert len(weeks) == 8 and weeks[0] == "2026-09-07" and weeks[-1] == "2026-10-26"
    drift = [a for a in summary.open_alerts if a.kind.startswith("drift.")]
    assert drift and min(a.window_start for a in drift) >= summary.drift_windows[4].start
    assert all(w.status == "ok" for w in summary.drift_windows[:4])
    [job] = summary.jobs
    assert job.status == "retrained" and job.result_version == 3
    model = get_model(store, MODEL)
    assert model.stages["production"] == 2  # nothing was promoted
    v3 = get_version(store, MODEL, 3)
    assert v3.parent == 2 and v3.tags["retrain.trigger"] == "job 1"
    from console.release.requests import get_request

    request = get_request(demo_store(monitored_demo), job.request_id or 0)
    assert (request.version, request.stage, request.status) == (3, "dev", "open")
    from console.auditing.trail import verify_store

    assert verify_store(store).ok


async def test_the_monitoring_screen_shows_drift_alerts_and_jobs(monitored_demo: Path) -> None:
    from textual.widgets import DataTable, Sparkline, Static
    from textual.worker import WorkerCancelled

    from console.tui.app import make_app
    from console.tui.screens.monitoring import MonitoringScreen

    app = make_app(demo_store(monitored_demo), user="raj")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.push_screen(MonitoringScreen(MODEL))
        for _ in range(3):  # a newer exclusive load may replace the first one
            with contextlib.suppress(WorkerCancelled):
                await app.workers.wait_for_complete()
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MonitoringScreen)
        features = screen.query_one("#monitoring-features", DataTable)
        names = [str(features.get_row_at(i)[0]) for i in range(features.row_count)]
        assert "debt_to_income" in names and "prediction" in names
        alerts = screen.query_one("#monitoring-alert-table", DataTable)
        # One row per incident (version and window), the latest first, its worst alert last.
        # The demo's drifting weeks also breach fairness: those alerts join the week's incident.
        latest = [str(cell) for cell in alerts.get_row_at(0)]
        assert alerts.row_count >= 1 and latest[4].startswith(("drift.", "fairness."))
        assert "debt_to_income" in latest[3]
        from console.monitoring.incidents import list_incidents

        opened = list_incidents(demo_store(monitored_demo), MODEL, status="open")
        newest = max(opened, key=lambda i: i.window_start)
        assert latest[0] == str(newest.id)
        assert any(k.startswith("drift.") for k in newest.kinds)
        assert any(k.startswith("fairness.") for k in newest.kinds)
        jobs = screen.query_one("#monitoring-job-table", DataTable)
        assert "v3 (request" in str(jobs.get_row_at(0)[4])
        assert len(screen.query_one("#monitoring-trend", Sparkline).data or []) == 8
        await pilot.press("f", "down", "down")
        await pilot.pause()
        label = str(screen.query_one("#monitoring-trend-label", Static).render())
        assert names[2] in label


@pytest.mark.parametrize("backend", ["duckdb"])  # computation over the log file
def test_window_counts_equal_the_validation_scan_with_nan_and_infinities(
    home: Path, files: Files, tmp_path: Path
) -> None:
    """One window's statistics equal those of the validation suite's scan of the same rows."""
    from console.monitoring.drift_statistics import feature_statistics
    from console.validation.reference import measure_file

    log = pd.read_csv(files.log).head(ROWS_PER_WEEK)  # the first week
    log["request_id"] = [f"odd-{i}" for i in range(len(log))]
    log["debt_to_income"] = log["debt_to_income"].astype(object)
    log.loc[log.index[:4], "debt_to_income"] = ["inf", "-inf", "NaN", "-inf"]
    log.loc[log.index[4:9], "loan_amount"] = [1e9, -5.0, np.nan, 1e9, 3.0]
    path = tmp_path / "odd.csv"
    log.to_csv(path, index=False)
    store = store_at(home)
    ingest_predictions(store, signer(home, "rel"), MODEL, path, allow_backfill=BACKFILL)
    [window] = evaluate_drift(store, MODEL).windows
    profile = parse_profile(
        get_dataset(store, get_version(store, MODEL, 1).train_dataset_sha256).profile
    )
    from console.store.artifacts import ArtifactStore

    [batch] = monitoring_summary(store, MODEL).logs  # the stored log, typed as ingest wrote it
    stored = ArtifactStore(store.artifacts_dir).path_for(batch.artifact_sha256)
    measured = measure_file(stored, "parquet", profile, FEATURES)
    assert measured.columns["debt_to_income"].nulls == 1 and measured.rows == len(log)
    features = window.result["features"]
    assert isinstance(features, dict)
    for name in FEATURES:
        expected = feature_statistics(measured.columns[name], len(log))
        assert features[name] == pytest.approx(expected, nan_ok=True), name


def test_bad_retraining_data_is_refused_before_anything_is_written(
    home: Path, files: Files, signoff: Runner, unchanged: Unchanged, tmp_path: Path
) -> None:
    data = pd.read_csv(files.retrain)
    path = tmp_path / "retrain.csv"
    check = unchanged(home)
    for frame, option, expected in (
        (data.drop(columns="gender"), (), "lacks the column 'gender'"),
        (data.drop(columns="income"), (), "lacks credit-risk:1's column(s) income"),
        (data.assign(default=np.nan), (), "rows have no target 'default'"),
        (data.assign(w=-1.0), ("--sample-weight", "w"), "must hold finite numbers >= 0"),
        (data, ("--sample-weight", "nope"), "--sample-weight 'nope' is not a column"),
        (data.head(10), (), "retraining needs at least 40"),
    ):
        frame.to_csv(path, index=False)
        result = signoff(
            "retrain", MODEL, "--data", path, *option, "--from-version", "1", "--as", "dana",
            "--home", home,
        )  # fmt: skip
        assert expected in one_line_error(result), expected
    check()
    data.assign(w=1.0).to_csv(path, index=False)
    code, out = run(
        signoff, home, "retrain", MODEL, "--data", path, "--sample-weight", "w", "--as", "dana"
    )
    assert code == 0, out
    assert get_version(store_at(home), MODEL, 3).tags["retrain.sample_weight"] == "w"


def test_the_overview_lists_monitored_models_in_one_read(
    demo_home: Path, on_backend: Callable[[Path], Path]
) -> None:
    from console.monitoring.overview import monitoring_overview
    from console.registry.views import list_models

    store = store_at(on_backend(demo_home))  # a copy: this test resolves the alerts
    overview = monitoring_overview(store, "production")
    listed = {m.name: m for m in overview.models}
    assert list(listed) == [MODEL]  # the demo logs predictions of credit-risk only
    summary = monitoring_summary(store, MODEL)
    row = listed[MODEL]
    assert (row.serving, row.logged_rows) == (2, summary.logged_rows)
    assert (row.open_alerts, row.open_jobs) == (len(summary.open_alerts), len(summary.open_jobs))
    serving_unlogged = [
        m.name
        for m in list_models(store)
        if m.stages.get("production") is not None and not monitoring_summary(store, m.name).logs
    ]
    assert overview.unmonitored_serving == len(serving_unlogged)
    # Open alerts sort first: resolve them all and the model stays listed for its logs.
    with store.session() as session:
        session.connection().exec_driver_sql("UPDATE monitoring_alerts SET status = 'resolved'")
    [quiet] = monitoring_overview(store, "production").models
    assert (quiet.name, quiet.open_alerts, quiet.logged_rows) == (MODEL, 0, summary.logged_rows)
