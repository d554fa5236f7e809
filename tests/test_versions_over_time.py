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


# ---- retirement ------------------------------------------------------------------------------


@pytest.fixture
def served(team: Team, tmp_path: Path) -> Team:
    """tumour v1 holds dev and staging, v2 holds nothing; both validated."""
    from console.release.decisions import decide
    from console.release.deployments import promote
    from console.release.requests import request_promotion
    from tests.workflow_helpers import record_validation, register_versions, use_policy

    register_versions(team, 2)
    use_policy(team, tmp_path)
    for version in (1, 2):
        record_validation(team, "tumour", version)
    for stage in ("dev", "staging"):
        view = request_promotion(team.store, team["dana"], "tumour", 1, stage, "go")
        decide(team.store, team["rita"], view.id, "approve", "ok")
        if stage == "staging":
            decide(team.store, team["raj"], view.id, "approve", "ok")
        promote(team.store, team["rel"], view.id)
    return team


def test_retire_a_version_leaves_its_stages_and_refuses_new_requests(
    served: Team, signoff: Runner, unchanged
) -> None:  # type: ignore[no-untyped-def]
    home = served.home
    pending = signoff(
        "request", "tumour:2", "--to", "dev", "--comment", "c", "--home", home, "--as", "dana"
    )
    assert pending.exit_code == 0, pending.output
    out = signoff("retire", "tumour:1", "--reason", "superseded", "--home", home, "--as", "rel")
    assert out.exit_code == 0, out.output
    assert "dev (v1)" in out.output and "staging (v1)" in out.output
    shown = json.loads(signoff("show", "tumour", "--json", "--home", home).output)
    assert [v["retired"] for v in shown["versions"]] == [True, False] and not shown["retired"]
    assert shown["stages"] == {"dev": None, "staging": None}
    assert "retired" in signoff("show", "tumour:1", "--home", home).output
    history = signoff("history", "tumour", "--home", home).output
    assert "v1 retired from dev: superseded" in history
    assert signoff("audit", "verify", "--home", home).exit_code == 0  # stages replayed
    check = unchanged(home)
    line = one_line_error(
        signoff(
            "request", "tumour:1", "--to", "dev", "--comment", "c", "--home", home, "--as", "dana"
        ),
        code=3,
    )
    assert "tumour:1 is retired" in line
    again = one_line_error(
        signoff("retire", "tumour:1", "--reason", "x", "--home", home, "--as", "rel")
    )
    assert "already retired" in again
    check()
    payloads = _events(signoff, served, "stage.retired")
    assert sorted(p["stage"] for p in payloads) == ["dev", "staging"]
    (retired,) = _events(signoff, served, "version.retired")
    assert retired["reason"] == "superseded" and sorted(retired["stages"]) == ["dev", "staging"]


def test_an_open_request_of_a_retired_version_cannot_execute(served: Team) -> None:
    from console.errors import Refused
    from console.release.decisions import decide
    from console.release.deployments import promote
    from console.release.requests import get_request, request_promotion
    from console.release.retire import retire

    view = request_promotion(served.store, served["dana"], "tumour", 2, "dev", "go")
    decide(served.store, served["rita"], view.id, "approve", "ok")
    retire(served.store, served["rel"], "tumour", 2, "withdrawn from use")
    assert any("retired" in n for n in get_request(served.store, view.id).needed)
    with pytest.raises(Refused, match="retired"):
        promote(served.store, served["rel"], view.id)


def test_retire_a_model_and_who_may(
    served: Team, signoff: Runner, unchanged, training: dict[str, Path]
) -> None:  # type: ignore[no-untyped-def]
    home = served.home
    check = unchanged(home)
    for who, code in (("dana", 3), ("rita", 3)):
        line = one_line_error(
            signoff("retire", "tumour", "--reason", "x", "--home", home, "--as", who), code=code
        )
        assert "needs the role" in line
    assert "--reason" in one_line_error(
        signoff("retire", "tumour", "--reason", " ", "--home", home, "--as", "rel")
    )
    assert "no version 9" in one_line_error(
        signoff("retire", "tumour:9", "--reason", "x", "--home", home, "--as", "rel")
    )
    check()
    out = signoff("retire", "tumour", "--reason", "model withdrawn", "--home", home, "--as", "ada")
    assert out.exit_code == 0 and "versions [1, 2]" in out.output, out.output
    assert "tumour (retired)" in signoff("models", "--home", home).output
    registered = _register(signoff, served, training["linear"], training["csv"])
    assert "model tumour is retired" in one_line_error(registered, code=3)  # type: ignore[arg-type]
    assert signoff("audit", "verify", "--home", home).exit_code == 0


def test_retire_refuses_while_a_canary_runs(served: Team, signoff: Runner, unchanged) -> None:  # type: ignore[no-untyped-def]
    from console.release.decisions import decide
    from console.release.deployments import promote
    from console.release.requests import request_promotion

    # v1's first production deployment is direct; v2 then runs as its canary (a canary needs a
    # champion).
    for version, stage, canary in (
        (1, "production", None),
        (2, "dev", None),
        (2, "staging", None),
        (2, "production", 10),
    ):
        view = request_promotion(
            served.store, served["dana"], "tumour", version, stage, "go", canary=canary
        )
        for name in ("rita", "raj")[: view.required]:
            decide(served.store, served[name], view.id, "approve", "ok")
        promote(served.store, served["rel"], view.id)
    check = unchanged(served.home)
    line = one_line_error(
        signoff("retire", "tumour:2", "--reason", "x", "--home", served.home, "--as", "rel"),
        code=3,
    )
    assert "canary" in line and "abort" in line
    check()


def test_the_checklist_cites_the_retirement(served: Team) -> None:
    from console.release.retire import retire
    from reports.checklist import find_evidence
    from reports.snapshot import take_snapshot

    before = find_evidence(take_snapshot(served.store, as_of=None), "tumour", 1)[
        "decommission.record"
    ]
    assert not before.refs
    retire(served.store, served["rel"], "tumour", 1, "MRM-212 decommissioned")
    after = find_evidence(take_snapshot(served.store, as_of=None), "tumour", 1)[
        "decommission.record"
    ]
    assert any("version.retired" in r and "MRM-212" in r for r in after.refs), after
    other = find_evidence(take_snapshot(served.store, as_of=None), "tumour", 2)[
        "decommission.record"
    ]
    assert not other.refs
