"""Loads model artifacts safely (skops type checks, pickle only when trusted) and describes them."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from console.errors import BadInput
from console.registry import formats
from console.registry.native import NativeModel

# The one type signoff trusts in a skops file beyond skops' own defaults: a numpy dtype is
# data. Every other type skops reports as untrusted, scikit-learn's own internals included
# (`sklearn.tree._tree.Tree`, histogram boosting's `TreePredictor`, rebuilt from state that
# skops cannot vet), must be named with --trust-type and is recorded with the version.
TRUSTED_TYPES = frozenset({"numpy.dtype"})
PICKLE_HINT = (
    "pickles run arbitrary code when loaded: save the model with skops (skops.io.dump) "
    "or pass --trust-pickle if you trust where this file came from"
)


@dataclass(frozen=True)
class LoadedArtifact:
    estimator: Any
    format: str  # a name in console.registry.formats: "skops", "pickle", "xgboost-json", ...
    trusted_types: tuple[str, ...]


def load_artifact(
    data: bytes,
    *,
    source: str,
    trust_pickle: bool = False,
    trust_types: tuple[str, ...] = (),
) -> LoadedArtifact:
    """Deserialize an artifact without ever running untrusted code."""
    if not data:
        raise BadInput(f"{source} is empty; pass a skops file of a fitted estimator")
    kind = formats.detect_format(data)
    if kind == formats.SKOPS:
        return _load_skops(data, source, trust_types)
    if kind in (formats.XGBOOST_JSON, formats.XGBOOST_UBJ):
        from console.registry.boosters import XGBoostModel

        return LoadedArtifact(XGBoostModel(data, kind, source), kind, ())
    if kind == formats.LIGHTGBM_TEXT:
        from console.registry.boosters import LightGBMModel

        return LoadedArtifact(LightGBMModel(data, source), kind, ())
    if kind == formats.ONNX:
        from console.registry.onnx_models import OnnxModel

        return LoadedArtifact(OnnxModel(data, source), kind, ())
    if kind == formats.ZIP:
        raise BadInput(
            f"{source} is a zip archive but not a skops file; save it with skops.io.dump"
        )
    if kind == formats.UNKNOWN and not trust_pickle:
        raise BadInput(
            f"{source} is not a model file signoff reads ({formats.KNOWN}; pickles only "
            "with --trust-pickle)"
        )
    if not trust_pickle:
        raise BadInput(f"{source} is a pickle/joblib file, refused: {PICKLE_HINT}")
    import joblib

    try:
        estimator = joblib.load(io.BytesIO(data))
    except Exception as exc:
        raise BadInput(f"{source} is corrupt or not a model file ({type(exc).__name__})") from exc
    return LoadedArtifact(estimator, "pickle", ())


def _load_skops(data: bytes, source: str, trust_types: tuple[str, ...]) -> LoadedArtifact:
    import skops.io as sio

    try:
        untrusted = list(sio.get_untrusted_types(data=data))
    except Exception as exc:
        raise BadInput(f"{source} is a corrupt skops file ({type(exc).__name__})") from exc
    accepted = set(trust_types) | TRUSTED_TYPES
    refused = sorted(t for t in untrusted if t not in accepted)
    if refused:
        raise BadInput(
            f"{source} contains types that skops does not trust: {', '.join(refused)}; "
            "pass --trust-type NAME for each one you have reviewed"
        )
    try:
        estimator = sio.loads(data, trusted=untrusted)
    except ModuleNotFoundError as exc:
        module = (exc.name or "").split(".")[0]
        raise BadInput(
            f"{source} holds objects of {module or 'a library'}, which is not installed; "
            f"run: pip install 'signoff[{formats.EXTRAS.get(module, module)}]'"
        ) from exc
    except Exception as exc:
        raise BadInput(f"{source} is a corrupt skops file ({type(exc).__name__})") from exc
    return LoadedArtifact(estimator, "skops", tuple(sorted(set(untrusted))))


@dataclass(frozen=True)
class EstimatorInfo:
    framework: str
    estimator_class: str
    task_type: str
    features: list[str] | None
    n_features: int | None
    params: dict[str, object]
    library_version: str = ""


def describe(estimator: Any, source: str) -> EstimatorInfo:
    """Check the object is a fitted classifier or regressor and describe it."""
    if isinstance(estimator, NativeModel):
        names = estimator.feature_list()
        return EstimatorInfo(
            framework=estimator.framework,
            estimator_class=estimator.estimator_class,
            task_type=estimator.task_type,
            features=names,
            n_features=estimator.n_features_in_,
            params=estimator.params(),
            library_version=estimator.library_version,
        )
    from sklearn.base import BaseEstimator, is_classifier, is_regressor
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(estimator, BaseEstimator):
        raise BadInput(
            f"{source} holds a {type(estimator).__name__}, not a scikit-learn estimator or pipeline"
        )
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError) as exc:
        raise BadInput(f"{source} holds an estimator that is not fitted; fit it first") from exc
    if is_classifier(estimator):
        task = "classification"
    elif is_regressor(estimator):
        task = "regression"
    else:
        raise BadInput(f"{source} is neither a classifier nor a regressor")
    names = getattr(estimator, "feature_names_in_", None)
    n_features = getattr(estimator, "n_features_in_", None)
    cls = type(estimator)
    return EstimatorInfo(
        framework="scikit-learn",
        estimator_class=f"{cls.__module__}.{cls.__qualname__}",
        task_type=task,
        features=[str(n) for n in names] if names is not None else None,
        n_features=int(n_features) if n_features is not None else None,
        params=_plain_params(estimator),
        library_version=formats.library_version("scikit-learn"),
    )


def _plain_params(estimator: Any) -> dict[str, object]:
    """get_params() made JSON: nested estimators become their class name."""
    params: dict[str, object] = {}
    for key, value in sorted(estimator.get_params(deep=True).items()):
        params[key] = _plain(value)
    return params


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, list | tuple):
        if all(isinstance(v, bool | int | str | float) or v is None for v in value):
            return [_plain(v) for v in value]
        return [_describe_item(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return type(value).__name__ if hasattr(value, "get_params") else repr(value)[:200]


def _describe_item(value: object) -> object:
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        return [value[0]] + [_plain(v) for v in value[1:]]
    return _plain(value)


def params_json(info: EstimatorInfo) -> str:
    return json.dumps(info.params, sort_keys=True, separators=(",", ":"))
