"""Training metrics from one `predict_proba` where `predict` is its argmax: the same figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from console.registry import training_facts
from console.registry.estimators import LoadedArtifact
from console.registry.training_facts import labels_from_probabilities, training_metrics


def _frame(classes: int, labels: str = "int") -> pd.DataFrame:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(300, 4)), columns=["a", "b", "c", "d"])
    score = frame["a"] + 0.5 * frame["b"] + rng.normal(scale=0.8, size=300)
    codes = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    frame["y"] = codes if labels == "int" else np.array(["no", "yes", "maybe"])[codes]
    return frame


def counting(estimator: Any) -> list[str]:
    """The estimator's calls to `predict` and `predict_proba` from now on, in order (its class,
    which decides the way, unchanged: the counters are attributes of the instance)."""
    calls: list[str] = []
    for name in ("predict", "predict_proba"):
        bound = getattr(estimator, name)

        def counted(*args: Any, _name: str = name, _bound: Any = bound) -> Any:
            calls.append(_name)
            return _bound(*args)

        setattr(estimator, name, counted)
    return calls


def _metrics(estimator: Any, frame: pd.DataFrame) -> dict[str, float]:
    loaded = LoadedArtifact(estimator=estimator, format="skops", trusted_types=())
    return training_metrics(loaded, frame, ["a", "b", "c", "d"], "y", "classification")


@pytest.mark.parametrize("classes,labels", [(2, "int"), (3, "int"), (3, "text")])
@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomForestClassifier(n_estimators=15, random_state=1),
        lambda: ExtraTreesClassifier(n_estimators=15, random_state=1),
        lambda: make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=15)),
    ],
)
def test_one_predict_proba_gives_the_same_metrics(
    make: Any, classes: int, labels: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _frame(classes, labels)
    x = frame[["a", "b", "c", "d"]]
    fitted = make().fit(x, frame["y"])
    assert labels_from_probabilities(fitted)
    derived = fitted.classes_.take(np.argmax(fitted.predict_proba(x), axis=1), axis=0)
    assert np.array_equal(derived, fitted.predict(x))
    calls = counting(fitted)
    fast = _metrics(fitted, frame)
    assert calls == ["predict_proba"]
    calls.clear()
    monkeypatch.setattr(training_facts, "labels_from_probabilities", lambda _e: False)
    assert _metrics(fitted, frame) == fast  # the very floats, through predict as before
    assert calls[0] == "predict"


def test_other_estimators_still_call_predict() -> None:
    frame = _frame(2)
    x = frame[["a", "b", "c", "d"]]
    for estimator in (
        LogisticRegression().fit(x, frame["y"]),
        make_pipeline(StandardScaler(), LogisticRegression()).fit(x, frame["y"]),
    ):
        assert not labels_from_probabilities(estimator)
        calls = counting(estimator)
        _metrics(estimator, frame)
        assert calls[0] == "predict"
    multi = RandomForestClassifier(n_estimators=5).fit(x, np.c_[frame["y"], 1 - frame["y"]])
    assert not labels_from_probabilities(multi)  # several outputs: predict is not one argmax
