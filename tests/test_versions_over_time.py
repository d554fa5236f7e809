"""Versions over time: duplicate artifacts refused unless allowed, types skops cannot vet named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from tests.conftest import Runner, Team, one_line_error

TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


@pytest.fixture
def training(tmp_path: Path) -> dict[str, Path]:
    """A logistic regression and a histogram gradient boosting model, with their data."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, :4].copy()
    frame.columns = ["radius", "texture", "perimeter", "area"]
    frame["malignant"] = 1 - data.target
    x, y = frame.drop(columns="malignant"), frame["malignant"]
    paths = {
        "csv": tmp_path / "train.csv",
        "linear": tmp_path / "linear.skops",
        "boosted": tmp_path / "boosted.skops",
    }
    frame.to_csv(paths["csv"], index=False)
    sio.dump(LogisticRegression(max_iter=2000).fit(x, y), paths["linear"])
    sio.dump(HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(x, y), paths["boosted"])
    return paths


def _register(signoff: Runner, team: Team, artifact: Path, train: Path, *extra: str) -> object:
    return signoff(
        "register", "tumour", "--artifact", artifact, "--train-data", train,
        "--target", "malignant", "--home", team.home, "--as", "dana", *extra,
    )  # fmt: skip


def _events(signoff: Runner, team: Team, action: str) -> list[dict[str, object]]:
    out = signoff("audit", "log", "--action", action, "--json", "--home", team.home)
    assert out.exit_code == 0, out.output
    return [e["payload"] for e in json.loads(out.output)]


def test_a_duplicate_artifact_is_refused_naming_its_version(
    team: Team, signoff: Runner, training: dict[str, Path], unchanged
) -> None:  # type: ignore[no-untyped-def]
    first = _register(signoff, team, training["linear"], training["csv"])
    assert first.exit_code == 0, first.output  # type: ignore[attr-defined]
    check = unchanged(team.home)
    line = one_line_error(
        _register(signoff, team, training["linear"], training["csv"]),  # type: ignore[arg-type]
        code=3,
    )
    assert "tumour:1 already holds this artifact" in line and "--allow-duplicate" in line
    check()
    again = _register(signoff, team, training["linear"], training["csv"], "--allow-duplicate")
    assert again.exit_code == 0 and "tumour:2" in again.output  # type: ignore[attr-defined]
    recorded = _events(signoff, team, "version.registered")
    assert sorted((p["version"], p["duplicate_of"]) for p in recorded) == [(1, None), (2, 1)]
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0


def test_a_type_skops_cannot_vet_needs_trust_type(
    team: Team, signoff: Runner, training: dict[str, Path], unchanged
) -> None:  # type: ignore[no-untyped-def]
    check = unchanged(team.home)
    line = one_line_error(_register(signoff, team, training["boosted"], training["csv"]))  # type: ignore[arg-type]
    assert TREE_PREDICTOR in line and "--trust-type" in line
    check()
    ok = _register(
        signoff, team, training["boosted"], training["csv"], "--trust-type", TREE_PREDICTOR
    )
    assert ok.exit_code == 0, ok.output  # type: ignore[attr-defined]
    shown = json.loads(signoff("show", "tumour:1", "--json", "--home", team.home).output)
    assert shown["trusted_types"] == [TREE_PREDICTOR] and shown["trusted_pickle"] is False
    (payload,) = _events(signoff, team, "version.registered")
    assert payload["trusted_types"] == [TREE_PREDICTOR]
    # Read back (validation, packages) with exactly the types recorded at registration.
    from console.registry.views import get_version, load_version_estimator

    estimator = load_version_estimator(team.store, get_version(team.store, "tumour", 1))
    assert type(estimator).__name__ == "HistGradientBoostingClassifier"


def test_a_type_of_another_file_does_not_trust_this_one(
    team: Team, signoff: Runner, training: dict[str, Path], unchanged
) -> None:  # type: ignore[no-untyped-def]
    check = unchanged(team.home)
    wrong = "sklearn.tree._tree.Tree"
    result = _register(signoff, team, training["boosted"], training["csv"], "--trust-type", wrong)
    assert TREE_PREDICTOR in one_line_error(result)  # type: ignore[arg-type]
    check()
