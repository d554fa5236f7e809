"""Checks that the demo data and models are reproducible and show what the demo promises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.metrics import accuracy_score, r2_score

from fixtures.credit import (
    AGE_BANDS,
    CATEGORICAL_COLUMNS,
    EMPLOYMENT_TYPES,
    GENDERS,
    HOME_OWNERSHIP,
    NUMERIC_COLUMNS,
    PURPOSES,
    SENSITIVE_COLUMNS,
    TARGET_COLUMN,
    make_credit_drifted,
    make_credit_table,
)
from fixtures.demo_models import DemoModel, DemoVersion, build_demo_models, write_holdouts


@pytest.fixture(scope="module")
def models() -> list[DemoModel]:
    return build_demo_models()


def _by_name(models: list[DemoModel]) -> dict[str, DemoModel]:
    return {model.name: model for model in models}


def _all_versions(models: list[DemoModel]) -> list[DemoVersion]:
    return [version for model in models for version in model.versions]


def _score(version: DemoVersion) -> float:
    features = version.holdout[version.feature_columns]
    truth = version.holdout[version.target]
    predicted = version.estimator.predict(features)
    if version.task == "classification":
        return float(accuracy_score(truth, predicted))
    return float(r2_score(truth, predicted))


def _parity_difference(version: DemoVersion, column: str) -> float:
    predicted = np.asarray(version.estimator.predict(version.holdout[version.feature_columns]))
    rates = pd.Series(predicted).groupby(version.holdout[column].to_numpy()).mean()
    return float(rates.max() - rates.min())


# --- credit table -------------------------------------------------------------------------


def test_credit_table_schema_and_values() -> None:
    table = make_credit_table()
    expected = [*NUMERIC_COLUMNS, *CATEGORICAL_COLUMNS, *SENSITIVE_COLUMNS, TARGET_COLUMN]
    assert list(table.columns) == expected
    assert len(table) == 6000
    for column in NUMERIC_COLUMNS:
        assert pd.api.types.is_numeric_dtype(table[column]), column
    assert set(table["employment_type"]) == set(EMPLOYMENT_TYPES)
    assert set(table["home_ownership"]) == set(HOME_OWNERSHIP)
    assert set(table["purpose"]) == set(PURPOSES)
    assert set(table["gender"]) == set(GENDERS)
    assert set(table["age_band"]) == set(AGE_BANDS)
    assert set(table[TARGET_COLUMN]) == {0, 1}
    assert 0.15 <= table[TARGET_COLUMN].mean() <= 0.25


def test_credit_table_has_missing_history_only() -> None:
    table = make_credit_table()
    missing = table.isna().sum()
    assert 0.005 <= missing["credit_history_years"] / len(table) <= 0.02
    assert missing.drop("credit_history_years").sum() == 0


def test_credit_table_is_deterministic() -> None:
    pd.testing.assert_frame_equal(make_credit_table(seed=3), make_credit_table(seed=3))
    assert not make_credit_table(seed=3).equals(make_credit_table(seed=4))


def test_credit_labels_are_biased_against_women() -> None:
    table = make_credit_table()
    rates = table.groupby("gender")[TARGET_COLUMN].mean()
    assert rates["female"] - rates["male"] >= 0.1


def test_credit_drift_moves_the_covariates() -> None:
    calm = make_credit_drifted(4000, seed=8, shift=0.0)
    drifted = make_credit_drifted(4000, seed=8, shift=1.0)
    pd.testing.assert_frame_equal(calm, make_credit_drifted(4000, seed=8, shift=0.0))
    assert drifted["income"].median() < 0.8 * calm["income"].median()
    assert drifted["debt_to_income"].mean() > calm["debt_to_income"].mean() + 0.05
    share = "employment_type"
    assert (drifted[share] == "contract").mean() > (calm[share] == "contract").mean() + 0.1
    with pytest.raises(ValueError):
        make_credit_drifted(100, seed=8, shift=1.5)


# --- demo models --------------------------------------------------------------------------


def test_catalogue(models: list[DemoModel]) -> None:
    summary = [(m.name, m.risk_tier, len(m.versions)) for m in models]
    assert summary == [
        ("breast-cancer-classifier", "high", 3),
        ("diabetes-regressor", "medium", 2),
        ("credit-risk", "high", 2),
        ("loan-default-gbm", "high", 1),
    ]
    for model in models:
        assert model.description and model.owner and model.intended_use
        for version in model.versions:
            assert version.model == model.name
            assert version.description and version.params_note
    named = _by_name(models)
    assert {v.target for v in named["breast-cancer-classifier"].versions} == {"malignant"}
    assert {v.task for v in named["diabetes-regressor"].versions} == {"regression"}
    assert {v.target for v in named["diabetes-regressor"].versions} == {"progression"}
    assert {v.sensitive for v in named["credit-risk"].versions} == {"gender"}


def test_feature_names_match_train_columns(models: list[DemoModel]) -> None:
    for version in _all_versions(models):
        expected = [c for c in version.train.columns if c != version.target]
        assert list(version.estimator.feature_names_in_) == expected, version.model
        assert version.feature_columns == expected
        assert version.target in version.train.columns
        assert version.target in version.holdout.columns
        assert set(expected) <= set(version.holdout.columns)
        assert all(" " not in str(c) for c in version.holdout.columns)


def test_sensitive_columns_are_in_holdout_but_not_features(models: list[DemoModel]) -> None:
    for version in _by_name(models)["credit-risk"].versions:
        for column in SENSITIVE_COLUMNS:
            assert column not in version.train.columns
            assert column not in version.feature_columns
            assert column in version.holdout.columns
        assert version.holdout["credit_history_years"].isna().any()


def test_breast_cancer_target_is_malignant(models: list[DemoModel]) -> None:
    version = _by_name(models)["breast-cancer-classifier"].versions[-1]
    frame = pd.concat([version.train, version.holdout])
    assert frame["malignant"].sum() == 212  # 212 malignant, 357 benign in the bundled data
    assert len(frame) == 569


def test_versions_share_one_split(models: list[DemoModel]) -> None:
    for model in models:
        first = model.versions[0]
        assert len(first.holdout) == pytest.approx(
            0.25 * (len(first.train) + len(first.holdout)), abs=1
        )
        for version in model.versions[1:]:
            pd.testing.assert_series_equal(
                version.holdout[version.target], first.holdout[first.target]
            )
            pd.testing.assert_series_equal(version.train[version.target], first.train[first.target])


def test_quality_ordering(models: list[DemoModel]) -> None:
    named = _by_name(models)
    v1, v2, v3 = (_score(v) for v in named["breast-cancer-classifier"].versions)
    assert v3 >= v2 >= v1
    r1, r2 = (_score(v) for v in named["diabetes-regressor"].versions)
    assert r2 > r1 > 0.0


def test_credit_v1_fails_demographic_parity_and_v2_is_mitigated(models: list[DemoModel]) -> None:
    v1, v2 = _by_name(models)["credit-risk"].versions
    assert 0.1 <= _parity_difference(v1, "gender") <= 0.25
    assert _parity_difference(v2, "gender") < 0.1
    assert "income" not in v2.feature_columns
    assert _score(v1) > 0.8 and _score(v2) > 0.8


def test_two_builds_are_identical(models: list[DemoModel], tmp_path: Path) -> None:
    again = build_demo_models()
    first = write_holdouts(models, tmp_path / "a")
    second = write_holdouts(again, tmp_path / "b")
    assert first.keys() == second.keys()
    for key, path in first.items():
        assert path.read_bytes() == second[key].read_bytes(), key
    for a, b in zip(_all_versions(models), _all_versions(again), strict=True):
        features = a.holdout[a.feature_columns]
        assert np.array_equal(a.estimator.predict(features), b.estimator.predict(features))
        if a.task == "classification":
            assert np.array_equal(
                a.estimator.predict_proba(features), b.estimator.predict_proba(features)
            )


def test_write_holdouts_layout(models: list[DemoModel], tmp_path: Path) -> None:
    written = write_holdouts(models, tmp_path / "holdouts")
    assert sorted(written) == [
        ("breast-cancer-classifier", 1),
        ("breast-cancer-classifier", 2),
        ("breast-cancer-classifier", 3),
        ("credit-risk", 1),
        ("credit-risk", 2),
        ("diabetes-regressor", 1),
        ("diabetes-regressor", 2),
        ("loan-default-gbm", 1),
    ]
    version = _by_name(models)["credit-risk"].versions[0]
    path = written[("credit-risk", 1)]
    assert path.name == "credit-risk-v1-holdout.csv"
    assert b"\r" not in path.read_bytes()
    pd.testing.assert_frame_equal(pd.read_csv(path), version.holdout, check_dtype=False)


@pytest.mark.parametrize("index", range(7))
def test_skops_roundtrip(models: list[DemoModel], index: int) -> None:
    version = _all_versions(models)[index]
    data = sio.dumps(version.estimator)
    restored = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    features = version.holdout[version.feature_columns]
    assert np.array_equal(restored.predict(features), version.estimator.predict(features))
    assert list(restored.feature_names_in_) == version.feature_columns
