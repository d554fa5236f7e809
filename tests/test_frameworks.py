"""XGBoost, LightGBM and ONNX models: registered from their own formats, validated, packaged,
retrained, and every file that is not what it claims refused in one line."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from skl2onnx import to_onnx
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression

from console import api
from console.registry.views import get_version
from tests.conftest import Runner, Team, one_line_error
from tests.workflow_helpers import tolerate_uncalibrated_models


@pytest.fixture(autouse=True)
def _uncalibrated_models_allowed(request: pytest.FixtureRequest) -> None:
    """The small test models here are overfit, so not calibrated: these tests are about each
    framework's path through signoff."""
    if "team" in request.fixturenames:
        tolerate_uncalibrated_models(request.getfixturevalue("team"))


FEATURES = ["radius", "texture", "perimeter", "area"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Training data (classification and regression) and one file per framework and task."""
    from sklearn.datasets import load_breast_cancer

    out = tmp_path_factory.mktemp("frameworks")
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, [0, 1, 2, 3]].copy()
    frame.columns = FEATURES
    frame["malignant"] = 1 - data.target
    x, y = frame[FEATURES], frame["malignant"]
    reg = frame.drop(columns="malignant").rename(columns={"area": "size"})
    rx, ry = reg[["radius", "texture", "perimeter"]], reg["size"]
    paths = {"csv": out / "train.csv", "reg_csv": out / "reg.csv"}
    frame.to_csv(paths["csv"], index=False)
    reg.to_csv(paths["reg_csv"], index=False)

    classifier = xgb.XGBClassifier(n_estimators=20, max_depth=3, random_state=1).fit(x, y)
    for suffix in ("json", "ubj"):
        paths[f"xgb_{suffix}"] = out / f"xgb.{suffix}"
        classifier.save_model(paths[f"xgb_{suffix}"])
    booster = xgb.train({"objective": "reg:squarederror", "max_depth": 2}, xgb.DMatrix(rx, ry), 10)
    paths["xgb_reg"] = out / "xgb-reg.json"
    booster.save_model(paths["xgb_reg"])

    lgb_classifier = lgb.LGBMClassifier(n_estimators=20, verbose=-1, random_state=1).fit(x, y)
    paths["lgb"] = out / "lgb.txt"
    lgb_classifier.booster_.save_model(paths["lgb"])
    lgb_booster = lgb.train(
        {"objective": "regression", "verbose": -1}, lgb.Dataset(rx, ry), num_boost_round=10
    )
    paths["lgb_reg"] = out / "lgb-reg.txt"
    lgb_booster.save_model(paths["lgb_reg"])

    x32 = x.to_numpy(dtype=np.float32)
    logistic = LogisticRegression(max_iter=2000).fit(x32, y)
    paths["onnx"] = out / "clf.onnx"
    paths["onnx"].write_bytes(to_onnx(logistic, x32[:1]).SerializeToString())
    forest = RandomForestRegressor(n_estimators=5, random_state=0).fit(rx.to_numpy(np.float32), ry)
    paths["onnx_reg"] = out / "reg.onnx"
    paths["onnx_reg"].write_bytes(to_onnx(forest, rx.to_numpy(np.float32)[:1]).SerializeToString())
    return paths


def register(
    signoff: Runner, team: Team, artifact: Path, data: Path, target: str, *extra: str
) -> Any:
    return signoff(
        "register", "credit", "--artifact", artifact, "--train-data", data, "--target", target,
        "--home", team.home, "--as", "dana", *extra,
    )  # fmt: skip


CASES = {
    "xgb_json": ("csv", "malignant", "xgboost", "xgboost-json", "classification"),
    "xgb_ubj": ("csv", "malignant", "xgboost", "xgboost-ubj", "classification"),
    "xgb_reg": ("reg_csv", "size", "xgboost", "xgboost-json", "regression"),
    "lgb": ("csv", "malignant", "lightgbm", "lightgbm-text", "classification"),
    "lgb_reg": ("reg_csv", "size", "lightgbm", "lightgbm-text", "regression"),
    "onnx": ("csv", "malignant", "onnx", "onnx", "classification"),
    "onnx_reg": ("reg_csv", "size", "onnx", "onnx", "regression"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_framework_registers_validates_and_packages(
    case: str, team: Team, signoff: Runner, models: dict[str, Path], tmp_path: Path
) -> None:
    data_key, target, framework, fmt, task = CASES[case]
    # The name says nothing: the format is read from the content.
    renamed = tmp_path / "model.bin"
    renamed.write_bytes(models[case].read_bytes())
    result = register(signoff, team, renamed, models[data_key], target)
    assert result.exit_code == 0, result.output
    version = get_version(team.store, "credit", 1)
    assert (version.framework, version.artifact_format, version.task_type) == (framework, fmt, task)
    library = "onnxruntime" if framework == "onnx" else framework
    assert version.framework_version == __import__(library).__version__
    log = signoff("audit", "log", "--home", team.home, "--model", "credit", "--json")
    registered = [e for e in json.loads(log.output) if e["action"] == "version.registered"]
    assert registered[0]["payload"]["framework"] == framework

    validated = signoff(
        "validate", "credit:1", "--data", models[data_key], "--target", target,
        "--home", team.home, "--as", "dana", "--json",
    )  # fmt: skip
    assert validated.exit_code == 0, validated.output
    checks = {c["name"]: c for c in json.loads(validated.stdout)["checks"]}
    if task == "classification":
        assert checks["performance.roc_auc"]["value"] > 0.85
        assert checks["performance.accuracy"]["value"] > 0.8
        assert "robustness.flip_rate" in checks
    else:
        assert checks["performance.r2"]["value"] > 0.5
    assert checks["reproducibility.predictions"]["status"] == "pass"
    assert "latency.inference" in checks

    packaged = signoff(
        "package", "credit:1", "-o", tmp_path / "p.tar.gz", "--home", team.home, "--as", "rel"
    )
    assert packaged.exit_code == 0, packaged.output
    with tarfile.open(tmp_path / "p.tar.gz") as archive:
        names = {Path(n).name: n for n in archive.getnames()}
        lock = archive.extractfile(names["environment.lock"]).read().decode()  # type: ignore[union-attr]
    assert f"{library}=={__import__(library).__version__}" in lock.splitlines()
    assert {"xgboost": "model.json", "lightgbm": "model.txt", "onnx": "model.onnx"}.get(
        framework
    ) in names or (fmt == "xgboost-ubj" and "model.ubj" in names)


def test_the_python_api_saves_boosters_and_onnx_in_their_own_formats(
    team: Team, models: dict[str, Path]
) -> None:
    frame = pd.read_csv(models["csv"])
    x, y = frame[FEATURES], frame["malignant"]
    fitted: list[Any] = [
        xgb.XGBClassifier(n_estimators=5).fit(x, y),
        lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(x, y),
        to_onnx(
            LogisticRegression(max_iter=2000).fit(x.to_numpy(np.float32), y),
            x[:1].to_numpy(np.float32),
        ),
    ]
    for number, model in enumerate(fitted, start=1):
        done = api.register_model(team.store, team["dana"], "api", model, frame, target="malignant")
        assert done.version == number
    formats = [get_version(team.store, "api", n).artifact_format for n in (1, 2, 3)]
    assert formats == ["xgboost-json", "lightgbm-text", "onnx"]


def test_retraining_refits_boosters_and_refuses_onnx(
    team: Team, signoff: Runner, models: dict[str, Path], unchanged: Any
) -> None:
    from console.monitoring.retrain import retrain

    for number, key in enumerate(["xgb_ubj", "lgb", "onnx"], start=1):
        done = register(signoff, team, models[key], models["csv"], "malignant", "--tag", f"k={key}")
        assert done.exit_code == 0, done.output
        assert get_version(team.store, "credit", number).artifact_format != ""
    for parent, fmt in ((1, "xgboost-ubj"), (2, "lightgbm-text")):
        result = retrain(team.store, team["dana"], "credit", models["csv"], from_version=parent)
        child = get_version(team.store, "credit", result.version)
        assert (child.parent, child.artifact_format) == (parent, fmt)
        assert child.metrics["accuracy"] > 0.8
        if fmt == "lightgbm-text":  # the recorded parameters are the refit's parameters
            assert child.params["num_iterations"] == 20
            assert (
                child.params["num_leaves"]
                == get_version(team.store, "credit", 2).params["num_leaves"]
            )
    check = unchanged(team.home)
    line = one_line_error(
        signoff(
            "retrain",
            "credit",
            "--data",
            models["csv"],
            "--from-version",
            "3",
            "--as",
            "dana",
            "--home",
            team.home,
        )
    )
    assert "ONNX model" in line and "retrain it where it was built" in line
    check()


def _bad_files(models: dict[str, Path], tmp: Path) -> dict[str, tuple[Path, Path, str]]:
    csv = models["csv"]
    not_xgb = tmp / "config.json"
    not_xgb.write_text(json.dumps({"learning_rate": 0.1, "version": [1]}))
    broken_json = tmp / "broken.json"
    broken_json.write_text('{"learner": ')
    noise = tmp / "noise.bin"
    noise.write_bytes(np.random.default_rng(3).bytes(4096))
    newer_xgb = tmp / "newer.json"
    document = json.loads(models["xgb_json"].read_text())
    document["version"] = [99, 0, 0]
    newer_xgb.write_text(json.dumps(document))
    newer_ubj = tmp / "newer.ubj"
    raw = models["xgb_ubj"].read_bytes()
    at = raw.index(b"version")
    newer_ubj.write_bytes(raw[: at + len(b"version")] + raw[at + len(b"version") :].replace(
        b"i\x03", b"i\x63", 1
    ))  # fmt: skip
    newer_lgb = tmp / "newer.txt"
    newer_lgb.write_text(models["lgb"].read_text().replace("version=v4", "version=v99", 1))
    truncated_lgb = tmp / "truncated.txt"
    truncated_lgb.write_text(models["lgb"].read_text()[:300])
    wide = pd.read_csv(csv).assign(extra=1.0)
    wide_csv = tmp / "wide.csv"
    wide.to_csv(wide_csv, index=False)
    labels = pd.read_csv(csv).assign(malignant=lambda f: f["malignant"].map({0: "no", 1: "yes"}))
    labels_csv = tmp / "labels.csv"
    labels.to_csv(labels_csv, index=False)
    return {
        "json that is not xgboost": (not_xgb, csv, "not an XGBoost model"),
        "broken json": (broken_json, csv, "nor valid JSON"),
        "random bytes": (noise, csv, "not a model file signoff reads"),
        "newer xgboost json": (newer_xgb, csv, "written by XGBoost 99.0.0, newer than"),
        "newer xgboost ubj": (newer_ubj, csv, "written by XGBoost 99"),
        "newer lightgbm": (newer_lgb, csv, "written by LightGBM 99, newer than"),
        "truncated lightgbm": (truncated_lgb, csv, "corrupt LightGBM model"),
        "onnx inputs differ": (models["onnx"], wide_csv, "expects 4"),
        "onnx regressor on other columns": (models["onnx_reg"], csv, "expects 3"),
        "booster labels not 0..k-1": (models["xgb_json"], labels_csv, "encode the labels as 0..1"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "json that is not xgboost",
        "broken json",
        "random bytes",
        "newer xgboost json",
        "newer xgboost ubj",
        "newer lightgbm",
        "truncated lightgbm",
        "onnx inputs differ",
        "onnx regressor on other columns",
        "booster labels not 0..k-1",
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused(
    case: str, team: Team, signoff: Runner, models: dict[str, Path], tmp_path: Path, unchanged: Any
) -> None:
    artifact, data, needle = _bad_files(models, tmp_path)[case]
    check = unchanged(team.home)
    line = one_line_error(register(signoff, team, artifact, data, "malignant"))
    assert needle in line, line
    check()


@pytest.mark.parametrize(
    ("key", "module", "extra"),
    [
        ("xgb_json", "xgboost", "xgboost"),
        ("lgb", "lightgbm", "lightgbm"),
        ("onnx", "onnxruntime", "onnx"),
    ],
)
def test_a_framework_that_is_not_installed_names_the_pip_command(
    key: str,
    module: str,
    extra: str,
    team: Team,
    signoff: Runner,
    models: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    unchanged: Any,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    check = unchanged(team.home)
    line = one_line_error(register(signoff, team, models[key], models["csv"], "malignant"))
    assert f"pip install 'signoff[{extra}]'" in line, line
    check()


def test_detection_reads_content_not_names(models: dict[str, Path]) -> None:
    from console.registry.formats import detect_format

    found = {key: detect_format(models[key].read_bytes()) for key in CASES}
    assert found == {key: fmt for key, (_, _, _, fmt, _) in CASES.items()}
    assert detect_format(b"\x80\x04\x95") == "pickle"
    assert detect_format(io.BytesIO(b"hello").read()) == "unknown"


@pytest.mark.parametrize("key", ["xgb_json", "xgb_ubj", "lgb", "onnx"])
def test_one_pass_scoring_gives_what_predict_and_predict_proba_give(
    key: str, models: dict[str, Path]
) -> None:
    """Validation scores a native classifier once (predict_scored): the labels must be the
    model's own `predict` and the probabilities its `predict_proba`, byte for byte."""
    from console.registry.estimators import load_artifact
    from console.validation.prediction import array_sha256, predict

    model = load_artifact(models[key].read_bytes(), source=key).estimator
    frame = pd.read_csv(models["csv"])
    x = frame[FEATURES]
    labels, proba = model.predict_scored(x)
    assert array_sha256(labels) == array_sha256(np.asarray(model.predict(x)))
    assert array_sha256(proba) == array_sha256(np.asarray(model.predict_proba(x), np.float64))
    found = predict(model, frame, FEATURES, source=key, data_name="train.csv")
    assert found.proba is not None and found.scores is None
    assert found.digest().predictions_sha256 == array_sha256(np.asarray(model.predict(x)))


@pytest.mark.parametrize("key", ["xgb_reg", "lgb_reg", "onnx_reg"])
def test_a_native_regressor_has_no_one_pass_scores(key: str, models: dict[str, Path]) -> None:
    from console.registry.estimators import load_artifact
    from console.validation.prediction import predict

    model = load_artifact(models[key].read_bytes(), source=key).estimator
    frame = pd.read_csv(models["reg_csv"])
    features = ["radius", "texture", "perimeter"]
    with pytest.raises(AttributeError):
        model.predict_scored(frame[features])
    found = predict(model, frame, features, source=key, data_name="reg.csv")
    assert found.proba is None and found.scores is None
    assert found.predicted.shape == (len(frame),)
