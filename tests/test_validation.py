"""`signoff validate`: checks against sklearn and numpy references, recording, and bad inputs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import Result
from sklearn import metrics as skm

from console.store.models import StageAssignment
from fixtures.demo import DEMO_PASSPHRASE
from tests.conftest import BACKENDS, Runner, Team, one_line_error, store_at

Unchanged = Callable[[Path], Callable[[], None]]
CLASSIFICATION = {
    "performance.accuracy",
    "performance.balanced_accuracy",
    "performance.precision",
    "performance.recall",
    "performance.f1",
    "performance.roc_auc",
    "performance.log_loss",
    "performance.brier_score",
    "performance.confusion_matrix",
}
REGRESSION = {"performance.rmse", "performance.mae", "performance.r2", "performance.mape"}
ALWAYS = {
    "data.missing_columns",
    "data.extra_columns",
    "data.type_changes",
    "data.null_rate",
    "data.out_of_range",
    "data.unseen_categories",
    "champion.not_worse",
    "reproducibility.predictions",
    "latency.inference",
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The tests that read or write the store run on the DuckDB file and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def demo(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch, on_backend: Callable[[Path], Path]
) -> Path:
    """A copy of the demo store, its users' keys unlocked by the demo passphrase."""
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    # These tests want the versions as registered, before the demo's promotions: no stage is
    # held, so no champion applies unless a test puts one there.
    import duckdb

    con = duckdb.connect(str(demo_home / "signoff.duckdb"))
    try:
        con.execute("DELETE FROM stages")
    finally:
        con.close()
    return on_backend(demo_home)


def holdout(home: Path, model: str, version: int) -> Path:
    return home / "demo-data" / f"{model}-v{version}-holdout.csv"


def validate(
    signoff: Runner,
    home: Path,
    ref: str,
    data: Path,
    target: str,
    *extra: str,
    user: str = "dana",
) -> Result:
    return signoff(
        "validate", ref, "--data", data, "--target", target, "--home", home, "--as", user, *extra
    )


def run_json(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def checks_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in run["checks"]}


def report_of(home: Path, run: dict[str, Any]) -> dict[str, Any]:
    digest = run["report_sha256"]
    path = home / "artifacts" / "sha256" / digest[:2] / digest
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest
    report: dict[str, Any] = json.loads(data)
    return report


def estimator_of(home: Path, model: str, version: int) -> Any:
    from console.registry.views import get_version, load_version_estimator

    store = store_at(home)
    try:
        view = get_version(store, model, version)
        return load_version_estimator(store, view), [c["name"] for c in view.input_schema]
    finally:
        store.dispose()


# ---- classification, regression, the record ------------------------------------------------


@pytest.mark.parametrize("backend", ["duckdb"])  # computation; recording a run is tested on both
def test_classification_values_match_sklearn(demo: Path, signoff: Runner) -> None:
    model, data = "breast-cancer-classifier", holdout(demo, "breast-cancer-classifier", 3)
    result = validate(signoff, demo, f"{model}:3", data, "malignant", "--json")
    assert result.exit_code == 0, result.output
    run = run_json(result)
    assert run["passed"] and run["status"] in ("pass", "warn")
    checks = checks_of(run)
    assert CLASSIFICATION | ALWAYS | {"robustness.flip_rate"} <= set(checks)
    assert {f"drift.psi.{c}" for c in ("mean_radius", "worst_area")} <= set(checks)
    assert checks["performance.accuracy"]["status"] == "pass"
    assert checks["performance.roc_auc"]["status"] == "pass"

    estimator, features = estimator_of(demo, model, 3)
    frame = pd.read_csv(data)
    y, x = frame["malignant"], frame[features]
    predicted, proba = estimator.predict(x), estimator.predict_proba(x)
    expected = {
        "accuracy": skm.accuracy_score(y, predicted),
        "balanced_accuracy": skm.balanced_accuracy_score(y, predicted),
        "precision": skm.precision_score(y, predicted),
        "recall": skm.recall_score(y, predicted),
        "f1": skm.f1_score(y, predicted),
        "roc_auc": skm.roc_auc_score(y, proba[:, 1]),
        "log_loss": skm.log_loss(y, proba),
        "brier_score": skm.brier_score_loss(y, proba[:, 1]),
    }
    report = checks_of(report_of(demo, run))
    for name, value in expected.items():
        assert report[f"performance.{name}"]["value"] == pytest.approx(value, rel=1e-12), name
        stored = checks[f"performance.{name}"]
        assert stored["value"] == pytest.approx(value, rel=1e-6), name
        low, high = stored["detail"]["ci95"]
        assert low <= value + 1e-9 and value - 1e-9 <= high, name
    matrix = checks["performance.confusion_matrix"]["detail"]["matrix"]
    assert matrix == skm.confusion_matrix(y, predicted).tolist()


@pytest.mark.parametrize("backend", ["duckdb"])  # computation; recording a run is tested on both
def test_regression_values_match_sklearn(demo: Path, signoff: Runner) -> None:
    model, data = "diabetes-regressor", holdout(demo, "diabetes-regressor", 2)
    result = validate(signoff, demo, f"{model}:2", data, "progression", "--json")
    assert result.exit_code == 0, result.output
    run = run_json(result)
    checks = checks_of(report_of(demo, run))
    assert REGRESSION | ALWAYS | {"robustness.prediction_shift"} <= set(checks)
    assert not CLASSIFICATION & set(checks)

    estimator, features = estimator_of(demo, model, 2)
    frame = pd.read_csv(data)
    y, predicted = frame["progression"], estimator.predict(frame[features])
    expected = {
        "rmse": float(np.sqrt(skm.mean_squared_error(y, predicted))),
        "mae": skm.mean_absolute_error(y, predicted),
        "r2": skm.r2_score(y, predicted),
        "mape": skm.mean_absolute_percentage_error(y, predicted),
    }
    for name, value in expected.items():
        check = checks[f"performance.{name}"]
        assert check["value"] == pytest.approx(value, rel=1e-12), name
        low, high = check["detail"]["ci95"]
        assert low < value < high, name
    assert checks["performance.r2"]["threshold"] == 0.3


@pytest.fixture
def demo_as_built(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch, on_backend: Callable[[Path], Path]
) -> Path:
    """A copy of the demo store with its stages as the log says (the log verifies in full)."""
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    return on_backend(demo_home)


def test_the_run_is_recorded_with_its_report_and_event(
    demo_as_built: Path, signoff: Runner
) -> None:
    demo = demo_as_built
    data = holdout(demo, "credit-risk", 1)
    result = validate(signoff, demo, "credit-risk:1", data, "default", "--json")
    assert result.exit_code == 0, result.output
    run = run_json(result)
    report = report_of(demo, run)
    assert {c["name"] for c in report["checks"]} == {c["name"] for c in run["checks"]}
    assert report["run_id"] == run["id"] and report["status"] == run["status"]
    assert report["dataset"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert report["dataset"]["sha256"] == run["dataset_sha256"]
    assert report["model"]["artifact_sha256"]
    assert report["environment"]["packages"]["scikit-learn"]
    # Canonical JSON: sorted keys, no white space, nothing a strict parser refuses.
    raw = (
        demo / "artifacts" / "sha256" / run["report_sha256"][:2] / run["report_sha256"]
    ).read_bytes()
    from audit.canonical import canonical_json

    assert canonical_json(json.loads(raw)) == raw

    log = signoff("audit", "log", "--home", demo, "--json", "--action", "validation.completed")
    assert log.exit_code == 0, log.output
    assert run["report_sha256"] in log.output
    verified = signoff("audit", "verify", "--home", demo)
    assert verified.exit_code == 0, verified.output

    listed = signoff("validations", "credit-risk", "--home", demo)
    assert listed.exit_code == 0 and "credit-risk-v1-holdout.csv" in listed.output
    as_json = json.loads(signoff("validations", "credit-risk:1", "--home", demo, "--json").output)
    # The demo validated every version once; this run comes after the demo's.
    assert [r["id"] for r in as_json][-1] == run["id"] and len(as_json) == 2
    assert signoff("validations", "ghost-model", "--home", demo).exit_code == 2
    text = validate(signoff, demo, "credit-risk:1", data, "default")
    assert text.exit_code == 0 and "drift.psi.income" in text.output and "PASS" in text.output


@pytest.mark.parametrize("backend", ["duckdb"])  # computation over the data file, the same on both
def test_fairness_fails_for_credit_risk_v1(demo: Path, signoff: Runner) -> None:
    data = holdout(demo, "credit-risk", 1)
    result = validate(signoff, demo, "credit-risk:1", data, "default", "--sensitive", "gender")
    assert result.exit_code == 1, result.output
    assert "failed: fairness.demographic_parity" in result.output
    run = json.loads(signoff("validations", "credit-risk:1", "--home", demo, "--json").output)[-1]
    checks = checks_of(run)
    parity = checks["fairness.demographic_parity"]
    assert parity["status"] == "fail" and parity["threshold"] == pytest.approx(0.1)

    estimator, features = estimator_of(demo, "credit-risk", 1)
    frame = pd.read_csv(data)
    predicted = estimator.predict(frame[features])
    rates = pd.Series(predicted == 1).groupby(frame["gender"]).mean()
    assert parity["value"] == pytest.approx(rates.max() - rates.min(), rel=1e-6)
    assert 0.15 < parity["value"] < 0.2
    low, high = parity["detail"]["ci95"]
    assert low < parity["value"] < high
    positives = frame["default"] == 1
    tpr = pd.Series(predicted[positives] == 1).groupby(frame["gender"][positives].to_numpy()).mean()
    assert checks["fairness.equal_opportunity"]["value"] == pytest.approx(
        tpr.max() - tpr.min(), rel=1e-6
    )
    groups = checks["fairness.groups"]["detail"]["groups"]
    assert set(groups) == {"female", "male"}
    assert groups["female"]["count"] + groups["male"]["count"] == len(frame)
    # The sensitive column is not a model input, and the run says so.
    assert "gender" in checks["data.extra_columns"]["detail"]["columns"]


# ---- drift ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["duckdb"])  # computation over the data files
def test_shifted_income_drifts_and_an_unshifted_copy_does_not(
    demo: Path, signoff: Runner, tmp_path: Path
) -> None:
    frame = pd.read_csv(holdout(demo, "credit-risk", 1))
    same = tmp_path / "same.csv"
    frame.to_csv(same, index=False)
    shifted = tmp_path / "shifted.csv"
    frame.assign(income=frame["income"] * 0.5).to_csv(shifted, index=False)

    calm = validate(signoff, demo, "credit-risk:1", same, "default", "--json")
    assert calm.exit_code == 0, calm.output
    drift = [c for c in run_json(calm)["checks"] if c["category"] == "drift"]
    assert drift and all(c["status"] == "pass" for c in drift), drift

    moved = validate(signoff, demo, "credit-risk:1", shifted, "default", "--json")
    assert moved.exit_code == 1, moved.output
    checks = checks_of(run_json(moved))
    assert checks["drift.psi.income"]["status"] == "fail"
    assert checks["drift.psi.income"]["value"] > 1.0
    assert checks["drift.ks.income"]["status"] == "fail"
    assert checks["drift.ks.income"]["detail"]["p_value"] < 1e-10
    assert checks["drift.psi.age"]["status"] == "pass"
    assert checks["data.out_of_range"]["detail"]["columns"]["income"]["below_min"] > 0


def _numpy_reference(
    train: pd.Series, current: pd.Series, edges: list[float]
) -> tuple[list[int], list[int], float, float]:
    """PSI bins and binned KS on the profile's edges, computed from the rows with numpy."""
    from console.validation.drift import EPSILON

    t = train.dropna().to_numpy(dtype=float)
    c = current.dropna().to_numpy(dtype=float)
    e = np.asarray(edges)
    # Training bins [e_i, e_i+1), the last closed; current bins with open outer ends.
    ref = np.bincount(
        np.clip(np.searchsorted(e, t, side="right") - 1, 0, e.size - 2), minlength=e.size - 1
    )
    cur = np.bincount(
        np.clip(np.searchsorted(e, c, side="right") - 1, 0, e.size - 2), minlength=e.size - 1
    )
    p, q = np.maximum(ref / ref.sum(), EPSILON), np.maximum(cur / cur.sum(), EPSILON)
    psi = float(np.sum((q - p) * np.log(q / p)))
    below_t = np.array([(t < x).mean() for x in e[:-1]])
    below_c = np.array([(c < x).mean() for x in e[:-1]])
    d = float(max(np.abs(below_c - below_t).max(), (c > e[-1]).mean()))
    return ref.tolist(), cur.tolist(), psi, d


@pytest.mark.parametrize("backend", ["duckdb"])  # in-process DuckDB on both stores
def test_duckdb_drift_agrees_with_a_numpy_reference(demo: Path, tmp_path: Path) -> None:
    from scipy import stats

    from console.registry.views import get_dataset, get_version
    from console.validation.drift import binned_ks, drift_checks, ks_pvalue, numeric_bins
    from console.validation.reference import measure_file, parse_profile
    from console.validation.thresholds import DEFAULTS

    store = store_at(demo)
    view = get_version(store, "credit-risk", 1)
    profile = parse_profile(get_dataset(store, view.train_dataset_sha256).profile)
    store.dispose()
    train = pd.read_csv(demo / "demo-data" / "credit-risk-v1-train.csv")
    current = pd.read_csv(holdout(demo, "credit-risk", 1))
    current["income"] = current["income"] * 0.8  # some drift, so the numbers are not all tiny
    parquet = tmp_path / "current.parquet"
    current.to_parquet(parquet, index=False)
    numeric = ["age", "income", "loan_amount", "debt_to_income", "credit_history_years"]
    measures = measure_file(parquet, "parquet", profile, numeric)
    checks = checks_of(
        {"checks": [c.as_dict() for c in drift_checks(list(measures.columns.values()), DEFAULTS)]}
    )
    for name in numeric:
        measure = measures.columns[name]
        ref, cur, psi, d = _numpy_reference(train[name], current[name], profile[name].edges)
        assert ref == profile[name].counts, name  # the profile's counts are the training rows'
        _, actual = numeric_bins(measure)
        assert actual.tolist() == cur, name
        assert checks[f"drift.psi.{name}"]["value"] == pytest.approx(psi, rel=1e-9, abs=1e-12)
        ks = binned_ks(measure)
        assert ks is not None
        assert ks[0] == pytest.approx(d, abs=1e-12), name
        assert checks[f"drift.ks.{name}"]["value"] == pytest.approx(
            ks_pvalue(d, len(train[name].dropna()), len(current[name].dropna())), rel=1e-9
        )
        # The binned statistic never exceeds the full two-sample one, and stays close to it.
        full = stats.ks_2samp(train[name].dropna(), current[name].dropna()).statistic
        assert d <= full + 1e-12 and full - d < 0.05, (name, d, full)
    assert checks["drift.psi.income"]["value"] > checks["drift.psi.age"]["value"]


def test_kolmogorov_distribution_matches_scipy() -> None:
    from scipy import stats

    from console.validation.drift import kolmogorov_sf, ks_pvalue, psi_noise

    for x in [0.0, 0.05, 0.2, 0.5, 0.8, 0.99, 1.0, 1.01, 1.36, 1.63, 2.0, 3.0, 5.0, 10.0]:
        assert kolmogorov_sf(x) == pytest.approx(float(stats.kstwobign.sf(x)), abs=1e-12), x
    assert ks_pvalue(0.0, 10, 10) == 1.0 and ks_pvalue(1.0, 10_000, 10_000) == 0.0
    # The noise level of PSI is the chi-square 99% point scaled by 1/n + 1/m.
    chi2 = float(stats.chi2.ppf(0.99, 9))
    assert psi_noise(10, 1000, 1000) == pytest.approx(chi2 * 0.002, rel=0.01)


def test_bootstrap_statistics_equal_sklearn_on_the_full_sample() -> None:
    """Each vectorised statistic, given the identity resample, is the sklearn metric."""
    from console.validation.bootstrap import BootstrapPlan, auc_of, confusion_counts, r2_of
    from console.validation.performance import _from_confusion

    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 500)
    pred = np.where(rng.random(500) < 0.7, y, rng.integers(0, 3, 500))
    identity = np.arange(500, dtype=np.intp)[None, :]
    counts = confusion_counts(y, pred, 3)
    for kind, expected in (
        ("accuracy", skm.accuracy_score(y, pred)),
        ("balanced_accuracy", skm.balanced_accuracy_score(y, pred)),
        ("precision", skm.precision_score(y, pred, average="macro", zero_division=0)),
        ("recall", skm.recall_score(y, pred, average="macro", zero_division=0)),
        ("f1", skm.f1_score(y, pred, average="macro", zero_division=0)),
    ):
        assert _from_confusion(kind, 3, counts)(identity)[0] == pytest.approx(expected), kind
    scores = np.round(rng.random(500), 1)  # many ties
    assert auc_of(y == 1, scores)(identity)[0] == pytest.approx(skm.roc_auc_score(y == 1, scores))
    target, guess = rng.normal(size=500), rng.normal(size=500)
    assert r2_of(target, guess)(identity)[0] == pytest.approx(skm.r2_score(target, guess))
    # Above MAX_ROWS the draws are m-out-of-n, scaled back to n: the interval still narrows.
    wide, narrow = BootstrapPlan(rows=50_000), BootstrapPlan(rows=400_000)
    assert narrow.draw < narrow.rows and narrow.scale == pytest.approx(0.5)
    values = rng.random(400_000)
    from console.validation.bootstrap import mean_of

    w = wide.interval(0.5, wide.run({"m": mean_of(values[:50_000])})["m"])
    n = narrow.interval(0.5, narrow.run({"m": mean_of(values)})["m"])
    assert w is not None and n is not None
    assert (n.high - n.low) < (w.high - w.low) * 0.5


def test_bootstrap_auc_counts_every_pair_exactly_ties_and_repeats_included() -> None:
    """Each resample's AUC is the pair count itself: (positive above negative) + half of each
    tie, over the rows drawn with their repeats, divided by positives x negatives, to the bit."""
    from console.validation.bootstrap import auc_of

    rng = np.random.default_rng(11)
    for trial in range(60):
        n = int(rng.integers(1, 60))
        scores = [rng.random(n), np.round(rng.random(n), 1), np.full(n, 0.5)][trial % 3]
        positive = rng.random(n) < rng.random()
        index = rng.integers(0, n, size=(int(rng.integers(1, 6)), int(rng.integers(1, 80))))
        found = auc_of(positive, scores)(index.astype(np.intp))
        for row, value in zip(index, found, strict=True):
            s, p = scores[row], positive[row]
            above = (s[p][:, None] > s[~p][None, :]).sum()
            tied = (s[p][:, None] == s[~p][None, :]).sum()
            pairs = float(p.sum()) * float((~p).sum())
            if pairs == 0:
                assert np.isnan(value)
            else:
                assert value == (float(2 * above + tied) * 0.5) / pairs, (trial, value)


# ---- champion / challenger ------------------------------------------------------------------


def _assign(home: Path, model: str, **stages: int) -> None:
    store = store_at(home)
    with store.session() as session:
        for stage, version in stages.items():
            session.add(
                StageAssignment(model=model, stage=stage, version=version, updated_at="2026-01-01")
            )
    store.dispose()


def test_champion_challenger(demo: Path, signoff: Runner) -> None:
    model = "breast-cancer-classifier"
    _assign(demo, model, dev=3, staging=2)
    data = holdout(demo, model, 3)  # has every feature of v1, v2 and v3
    # v3 holds dev, so it would move to staging, held by v2 (tolerance 0.01).
    result = validate(signoff, demo, f"{model}:3", data, "malignant", "--json")
    assert result.exit_code == 0, result.output
    run = run_json(result)
    check = checks_of(run)["champion.not_worse"]
    detail = check["detail"]
    assert run["stage"] == "staging" and detail["champion_version"] == 2
    assert detail["metric"] == "roc_auc" and check["threshold"] == pytest.approx(-0.01)
    frame = pd.read_csv(data)
    auc = {}
    for version in (1, 2, 3):
        estimator, features = estimator_of(demo, model, version)
        scores = estimator.predict_proba(frame[features])[:, 1]
        auc[version] = skm.roc_auc_score(frame["malignant"], scores)
    assert detail["delta"] == pytest.approx(auc[3] - auc[2], rel=1e-9)
    low, high = detail["ci95"]
    assert low <= detail["delta"] <= high and low >= -0.01
    assert check["status"] == "pass"
    assert detail["secondary"]["metric"] == "accuracy"
    assert run["summary"]["champion"] == {
        "stage": "staging",
        "version": 2,
        "status": "pass",
        "delta": pytest.approx(auc[3] - auc[2], rel=1e-9),
    }

    # v1 against the dev champion v3, with no tolerance: clearly worse.
    worse = validate(signoff, demo, f"{model}:1", data, "malignant", "--stage", "dev", "--json")
    assert worse.exit_code == 1, worse.output
    check = checks_of(run_json(worse))["champion.not_worse"]
    assert check["detail"]["champion_version"] == 3 and check["status"] == "fail"
    assert check["value"] == pytest.approx(auc[1] - auc[3], rel=1e-6)
    assert check["detail"]["ci95"][0] < 0

    # v2 holds staging and nobody holds production: nothing to compare with.
    alone = validate(signoff, demo, f"{model}:2", data, "malignant", "--json")
    champion = checks_of(run_json(alone))["champion.not_worse"]
    assert champion["status"] == "info" and "production" in champion["detail"]["note"]


def test_champion_missing_features_fails_the_comparison(demo: Path, signoff: Runner) -> None:
    model = "breast-cancer-classifier"
    _assign(demo, model, dev=3)
    # v1's holdout has v1's three features only; the dev champion v3 needs all thirty.
    data = holdout(demo, model, 1)
    result = validate(signoff, demo, f"{model}:1", data, "malignant", "--json")
    check = checks_of(run_json(result))["champion.not_worse"]
    assert check["status"] == "fail" and "lacks champion" in check["detail"]["note"]
    assert result.exit_code == 1


# ---- reproducibility, progress ----------------------------------------------------------------


@pytest.mark.parametrize("backend", ["duckdb"])  # computation over the data file
def test_reproducibility_digest_is_stable_across_runs(demo: Path, signoff: Runner) -> None:
    data = holdout(demo, "breast-cancer-classifier", 2)
    digests = []
    for _ in range(2):
        result = validate(signoff, demo, "breast-cancer-classifier:2", data, "malignant", "--json")
        assert result.exit_code == 0, result.output
        check = checks_of(run_json(result))["reproducibility.predictions"]
        assert check["status"] == "pass"
        assert check["detail"]["first"] == check["detail"]["second"]
        digests.append(check["detail"]["first"]["predictions_sha256"])
        env = check["detail"]["environment"]
        assert env["python"] and env["packages"]["numpy"] and env["packages"]["duckdb"]
    assert digests[0] == digests[1]
    estimator, features = estimator_of(demo, "breast-cancer-classifier", 2)
    from console.validation.prediction import array_sha256

    predicted = np.asarray(estimator.predict(pd.read_csv(data)[features]))
    assert array_sha256(predicted) == digests[0]


@pytest.mark.parametrize("backend", ["duckdb"])  # progress output, not the store
def test_large_files_show_progress_on_stderr(
    demo: Path, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.cli import validate_cmds

    monkeypatch.setattr(validate_cmds, "PROGRESS_ROWS", 10)
    monkeypatch.setattr(validate_cmds, "_COUNT_FROM_BYTES", 0)
    data = holdout(demo, "diabetes-regressor", 1)
    result = validate(signoff, demo, "diabetes-regressor:1", data, "progression", "--json")
    assert result.exit_code in (0, 1), result.output
    assert "validating" in result.stderr or "recording" in result.stderr
    assert json.loads(result.stdout)["model"] == "diabetes-regressor"


# ---- a multiclass model, Parquet input, the Python API ------------------------------------------


def test_multiclass_on_parquet_through_the_api(team: Team, tmp_path: Path) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from console import api
    from console.validation import run_validation

    iris = load_iris(as_frame=True)
    frame = iris.frame.rename(columns=lambda c: str(c).replace(" (cm)", "").replace(" ", "_"))
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, test = frame.iloc[:100], frame.iloc[100:].copy()
    model = LogisticRegression(max_iter=1000).fit(train.drop(columns="target"), train["target"])
    api.register_model(team.store, team["dana"], "iris", model, train, target="target")
    test["site"] = np.where(np.arange(len(test)) % 2 == 0, "north", "south")
    data = tmp_path / "test.parquet"
    test.to_parquet(data, index=False)
    labels: list[str] = []
    view = run_validation(
        team.store,
        team["rita"],
        "iris",
        1,
        data,
        "target",
        sensitive="site",
        progress=lambda label, _fraction: labels.append(label),
    )
    assert labels[0] == "reading data" and labels[-1] == "done"
    accuracy = view.check("performance.accuracy")
    assert accuracy is not None
    assert accuracy.value == pytest.approx(
        skm.accuracy_score(test["target"], model.predict(test.drop(columns=["target", "site"]))),
        rel=1e-6,
    )
    auc = view.check("performance.roc_auc")
    assert auc is not None and auc.value == pytest.approx(
        skm.roc_auc_score(
            test["target"],
            model.predict_proba(test.drop(columns=["target", "site"])),
            multi_class="ovr",
        ),
        rel=1e-6,
    )
    assert view.check("fairness.demographic_parity") is not None
    assert view.actor == "rita" and view.passed == (view.status != "fail")


# ---- bad input: one line, exit 2, nothing stored ---------------------------------------------


def _bad_case(case: str, home: Path, tmp: Path) -> tuple[list[str], str]:
    """Arguments for `signoff validate` and a fragment of the expected message."""
    credit = holdout(home, "credit-risk", 1)
    cancer = holdout(home, "breast-cancer-classifier", 3)
    frame = pd.read_csv(credit)
    out = tmp / f"{case.replace(' ', '-')}.csv"
    base = ["credit-risk:1", "--data", str(out), "--target", "default"]
    if case == "missing target column":
        return [
            "credit-risk:1",
            "--data",
            str(credit),
            "--target",
            "defaulted",
        ], "target column 'defaulted'"
    if case == "missing feature columns":
        frame.drop(columns=["income", "purpose"]).to_csv(out, index=False)
        return base, "lacks credit-risk:1's feature columns income, purpose"
    if case == "non-numeric target":
        frame.assign(default=np.where(frame["default"] == 1, "yes", "no")).to_csv(out, index=False)
        return base, "is not numeric"
    if case == "unknown labels":
        frame.assign(default=frame["default"] * 2).to_csv(out, index=False)
        return base, "never predicts"
    if case == "target with gaps":
        frame.assign(default=frame["default"].where(frame.index % 7 != 0)).to_csv(out, index=False)
        return base, "empty values"
    if case == "empty file":
        out.write_bytes(b"")
        return base, "empty"
    if case == "header only":
        out.write_text(",".join(frame.columns) + "\n")
        return base, "no rows"
    if case == "not csv or parquet":
        out.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
        return base, "neither Parquet nor a UTF-8 CSV"
    if case == "missing file":
        return [
            "credit-risk:1",
            "--data",
            str(tmp / "nope.csv"),
            "--target",
            "default",
        ], "does not exist"
    if case == "nan the model cannot take":
        broken = pd.read_csv(cancer)
        broken.loc[3, "mean_radius"] = np.nan
        broken.to_csv(out, index=False)
        return ["breast-cancer-classifier:3", "--data", str(out), "--target", "malignant"], (
            "cannot take missing values, and nan-the-model-cannot-take.csv has them in mean_radius"
        )
    if case == "single sensitive group":
        frame.assign(gender="female").to_csv(out, index=False)
        return [*base, "--sensitive", "gender"], "single group ('female')"
    if case == "missing sensitive column":
        return [
            "credit-risk:1",
            "--data",
            str(credit),
            "--target",
            "default",
            "--sensitive",
            "race",
        ], ("sensitive column 'race' is not in")
    if case == "unknown model":
        return ["ghost:1", "--data", str(credit), "--target", "default"], "no model 'ghost'"
    if case == "unknown version":
        return ["credit-risk:9", "--data", str(credit), "--target", "default"], "no version 9"
    if case == "no version":
        return ["credit-risk", "--data", str(credit), "--target", "default"], "names no version"
    if case == "unknown stage":
        return ["credit-risk:1", "--data", str(credit), "--target", "default", "--stage", "qa"], (
            "unknown stage 'qa'"
        )
    raise AssertionError(case)


BAD_CASES = [
    "missing target column",
    "missing feature columns",
    "non-numeric target",
    "unknown labels",
    "target with gaps",
    "empty file",
    "header only",
    "not csv or parquet",
    "missing file",
    "nan the model cannot take",
    "single sensitive group",
    "missing sensitive column",
    "unknown model",
    "unknown version",
    "no version",
    "unknown stage",
]


@pytest.mark.parametrize("backend", ["duckdb"])  # the inputs fail before the store; see below
@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_one_line_and_stores_nothing(
    case: str, demo: Path, signoff: Runner, tmp_path: Path, unchanged: Unchanged
) -> None:
    args, needle = _bad_case(case, demo, tmp_path)
    check = unchanged(demo)
    result = signoff("validate", *args, "--home", demo, "--as", "dana")
    line = one_line_error(result)
    assert needle in line, line
    check()


STORE_CASES = ["unknown model", "unknown version", "no version", "unknown stage"]


def test_bad_references_are_one_line_and_store_nothing_on_every_backend(
    demo: Path, signoff: Runner, tmp_path: Path, unchanged: Unchanged
) -> None:
    check = unchanged(demo)
    for case in STORE_CASES:
        args, needle = _bad_case(case, demo, tmp_path)
        line = one_line_error(signoff("validate", *args, "--home", demo, "--as", "dana"))
        assert needle in line, (case, line)
    check()


def test_only_validating_roles_may_validate(
    demo: Path, signoff: Runner, unchanged: Unchanged
) -> None:
    check = unchanged(demo)
    data = holdout(demo, "credit-risk", 1)
    for user in ("aud", "rel"):
        line = one_line_error(
            validate(signoff, demo, "credit-risk:1", data, "default", user=user), 3
        )
        assert "needs the role" in line
    check()
    ok = validate(signoff, demo, "credit-risk:1", data, "default", user="raj")
    assert ok.exit_code == 0, ok.output


def _artifact(home: Path, model: str, version: int) -> Path:
    store = store_at(home)
    from console.registry.views import get_version

    digest = get_version(store, model, version).artifact_sha256
    store.dispose()
    return home / "artifacts" / "sha256" / digest[:2] / digest


def test_a_swapped_artifact_is_an_integrity_failure(
    demo: Path, signoff: Runner, unchanged: Unchanged
) -> None:
    target, other = _artifact(demo, "credit-risk", 1), _artifact(demo, "credit-risk", 2)
    target.chmod(0o644)
    target.write_bytes(other.read_bytes())
    check = unchanged(demo)
    result = validate(signoff, demo, "credit-risk:1", holdout(demo, "credit-risk", 1), "default")
    line = one_line_error(result, 1)
    assert "does not match its digest" in line
    check()


def test_a_swapped_champion_artifact_is_an_integrity_failure(
    demo: Path, signoff: Runner, unchanged: Unchanged
) -> None:
    model = "breast-cancer-classifier"
    _assign(demo, model, dev=2)
    champion = _artifact(demo, model, 2)
    champion.chmod(0o644)
    champion.write_bytes(b"not the model")
    check = unchanged(demo)
    result = validate(signoff, demo, f"{model}:3", holdout(demo, model, 3), "malignant")
    assert "does not match its digest" in one_line_error(result, 1)
    check()


def test_a_failed_transaction_leaves_no_report_behind(
    demo: Path, unchanged: Unchanged, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit.keys import KeyStore, Signer
    from console.store.artifacts import ArtifactStore
    from console.validation import record, run_validation

    signer = Signer(
        "dana", KeyStore(demo / "demo-keys").load_private("dana", DEMO_PASSPHRASE.encode())
    )
    written: list[str] = []
    original = ArtifactStore.put_bytes

    def spy(self: Any, data: bytes) -> tuple[str, bool]:
        digest, created = original(self, data)
        written.append(digest)
        return digest, created

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(ArtifactStore, "put_bytes", spy)
    monkeypatch.setattr(record, "append_event", broken)
    check = unchanged(demo)
    store = store_at(demo)
    data = holdout(demo, "diabetes-regressor", 1)
    with pytest.raises(RuntimeError, match="disk is full"):
        run_validation(store, signer, "diabetes-regressor", 1, data, "progression")
    store.dispose()
    assert len(written) == 1
    assert not (demo / "artifacts" / "sha256" / written[0][:2] / written[0]).exists()
    check()
