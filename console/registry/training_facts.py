"""What registration records of how a version was trained: headline metrics, the code's commit."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from console.errors import BadInput
from console.registry.binary_metrics import binary_metrics
from console.registry.estimators import LoadedArtifact


def training_metrics(
    loaded: LoadedArtifact, frame: Any, features: list[str], target: str, task: str
) -> dict[str, float]:
    """A few headline metrics on the training data, so versions can be compared at a glance."""
    import numpy as np
    from sklearn import metrics as skm

    x, y = frame[features], frame[target]
    if isinstance(y.dtype, np.dtype) and y.dtype.kind in "biuf":
        # The array sklearn would convert the column to: handed over as is, it spares each metric
        # re-inspecting a pandas column (a third of their time on a small frame).
        y = y.to_numpy()
    estimator, probabilities = loaded.estimator, None
    try:
        if task == "classification" and labels_from_probabilities(estimator):
            probabilities = estimator.predict_proba(x)  # one pass over the trees gives both
            predicted = estimator.classes_.take(np.argmax(probabilities, axis=1), axis=0)
        else:
            predicted = estimator.predict(x)
    except Exception as exc:
        raise BadInput(
            f"the estimator cannot predict on the training data: {str(exc).splitlines()[0][:200]}"
        ) from exc
    if task == "regression":
        if not np.issubdtype(np.asarray(y).dtype, np.number):
            raise BadInput(f"target {target!r} is not numeric, but the estimator is a regressor")
        return {
            "rmse": float(np.sqrt(skm.mean_squared_error(y, predicted))),
            "mae": float(skm.mean_absolute_error(y, predicted)),
            "r2": float(skm.r2_score(y, predicted)),
        }

    def positive_scores() -> Any:
        found = probabilities if probabilities is not None else estimator.predict_proba(x)
        return found[:, 1]

    has_scores = hasattr(estimator, "predict_proba")
    fast = binary_metrics(y, predicted, positive_scores if has_scores else None)
    if fast is not None:  # the same floats as below, without scikit-learn's per-call checks
        return fast
    result = {
        "accuracy": float(skm.accuracy_score(y, predicted)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, predicted)),
    }
    labels = np.unique(y)
    if len(labels) == 2:
        result["f1"] = float(skm.f1_score(y, predicted, pos_label=labels[1]))
        if has_scores:
            scores = positive_scores()
            result["roc_auc"] = float(skm.roc_auc_score(y, scores))
    else:
        result["f1_macro"] = float(skm.f1_score(y, predicted, average="macro"))
    return result


def labels_from_probabilities(estimator: Any) -> bool:
    """Whether the estimator's `predict` is, by its definition, the class of largest
    `predict_proba`: scikit-learn's forests of one output (`ForestClassifier.predict` computes
    exactly that), alone or ending a plain `Pipeline` (which hands both calls the same
    transformed input). Then one `predict_proba` gives the labels and the scores."""
    from sklearn.ensemble._forest import ForestClassifier
    from sklearn.pipeline import Pipeline

    if type(estimator) is Pipeline:
        estimator = estimator.steps[-1][1]
    return (
        isinstance(estimator, ForestClassifier)
        and type(estimator).predict is ForestClassifier.predict
        and getattr(estimator, "n_outputs_", None) == 1
    )


def git_commit(directory: Path) -> str | None:
    """The commit of a git checkout (with `+dirty` when it has changes), else None."""
    if not directory.is_dir():
        raise BadInput(f"--code-dir {directory} is not a directory")
    try:
        head = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = head.stdout.strip()
    return commit + ("+dirty" if status.stdout.strip() else "")
