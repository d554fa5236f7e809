"""XGBoost (JSON/UBJSON) and LightGBM (text) models, loaded from their own formats, never pickle."""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from console.errors import BadInput
from console.registry import formats
from console.registry.native import CLASSIFICATION, REGRESSION, NativeModel, two_columns

XGB_REGRESSION_PREFIXES = ("reg:", "count:")
LGB_REGRESSION = frozenset(
    {
        "regression",
        "regression_l1",
        "huber",
        "fair",
        "poisson",
        "quantile",
        "mape",
        "gamma",
        "tweedie",
        "cross_entropy",
        "xentropy",
    }
)
# The LightGBM parameters that shape the trees, recorded on the version and used to refit.
LGB_TUNING = (
    "boosting",
    "objective",
    "num_class",
    "learning_rate",
    "num_leaves",
    "max_depth",
    "min_data_in_leaf",
    "min_sum_hessian_in_leaf",
    "bagging_fraction",
    "bagging_freq",
    "feature_fraction",
    "lambda_l1",
    "lambda_l2",
    "min_gain_to_split",
    "max_bin",
    "is_unbalance",
    "scale_pos_weight",
    "sigmoid",
)

LGB_FLAGS = frozenset({"is_unbalance"})  # written as 0/1, read back only as true/false


def _newer(source: str, library: str, written: tuple[int, ...], installed: str) -> BadInput:
    shown = ".".join(str(v) for v in written)
    return BadInput(
        f"{source} was written by {library} {shown}, newer than the installed {library} "
        f"{installed}; upgrade it (pip install -U {library}) to register this model"
    )


class XGBoostModel(NativeModel):
    framework = "xgboost"
    seed_param = "random_state"

    def __init__(self, data: bytes, kind: str, source: str) -> None:
        document = formats.xgboost_document(data, kind, source)
        xgb = formats.require("xgboost", source)
        self.library_version = formats.library_version("xgboost")
        written = tuple(document["version"])
        if written[:2] > formats.version_tuple(self.library_version)[:2]:
            raise _newer(source, "XGBoost", written, self.library_version)
        self.artifact_format, self._data = kind, data
        learner = document["learner"]
        self._objective = str(learner.get("objective", {}).get("name", ""))
        model_param = learner.get("learner_model_param", {})
        self._num_class = int(model_param.get("num_class", "0") or 0)
        self.n_features_in_ = int(model_param.get("num_feature", "0") or 0) or None
        self._names = [str(n) for n in learner.get("feature_names") or []] or None
        wrapper = _wrapper_type(learner.get("attributes", {}))
        self.task_type, self._classes = self._task(source)
        self.estimator_class = {
            "classifier": "xgboost.XGBClassifier",
            "regressor": "xgboost.XGBRegressor",
        }.get(wrapper, "xgboost.Booster")
        self._max_depth = _deepest_tree(learner["gradient_booster"])
        self._booster_kind = str(learner["gradient_booster"].get("name", "gbtree"))
        try:
            self._booster = xgb.Booster()
            self._booster.load_model(bytearray(data))
        except Exception as exc:  # XGBoostError: the library refused the document
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise BadInput(f"{source} is a corrupt XGBoost model ({first})") from exc

    def _task(self, source: str) -> tuple[str, NDArray[Any] | None]:
        objective = self._objective
        if objective in ("binary:logistic", "binary:logitraw"):
            return CLASSIFICATION, np.array([0, 1])
        if objective in ("multi:softprob", "multi:softmax") and self._num_class >= 2:
            return CLASSIFICATION, np.arange(self._num_class)
        if objective.startswith(XGB_REGRESSION_PREFIXES):
            return REGRESSION, None
        raise BadInput(
            f"{source} has the XGBoost objective {objective!r}; signoff validates classifiers "
            "(binary:logistic, multi:softprob) and regressors (reg:*)"
        )

    def _input(self, x: Any) -> Any:
        return x if self._names is not None else np.asarray(x, dtype=np.float32)

    def _probabilities(self, x: Any) -> NDArray[np.float64]:
        if self._objective == "binary:logistic":
            return two_columns(self._booster.inplace_predict(self._input(x)))
        margin = np.asarray(
            self._booster.inplace_predict(self._input(x), predict_type="margin"), dtype=np.float64
        )
        if self._objective == "binary:logitraw":
            return two_columns(1.0 / (1.0 + np.exp(-margin.reshape(-1))))
        shifted = np.exp(margin - margin.max(axis=1, keepdims=True))
        return np.asarray(shifted / shifted.sum(axis=1, keepdims=True), dtype=np.float64)

    def _values(self, x: Any) -> NDArray[Any]:
        return np.asarray(self._booster.inplace_predict(self._input(x)))

    def params(self) -> dict[str, object]:
        params: dict[str, object] = {
            "booster": self._booster_kind,
            "objective": self._objective,
            "n_estimators": int(self._booster.num_boosted_rounds()),
        }
        if self._max_depth:
            params["max_depth"] = self._max_depth
        if self._num_class:
            params["num_class"] = self._num_class
        return params

    def artifact(self) -> bytes:
        return self._data

    def refit(self, x: Any, y: Any, sample_weight: Any, seed: int) -> NativeModel:
        import xgboost as xgb

        params = self.params()
        kwargs: dict[str, Any] = {
            "booster": params["booster"],
            "objective": self._objective,
            "n_estimators": params["n_estimators"],
            "random_state": seed,
        }
        if "max_depth" in params:
            kwargs["max_depth"] = params["max_depth"]
        wrapper = xgb.XGBClassifier if self.task_type == CLASSIFICATION else xgb.XGBRegressor
        fitted = wrapper(**kwargs).fit(x, y, sample_weight=sample_weight)
        suffix = ".json" if self.artifact_format == formats.XGBOOST_JSON else ".ubj"
        with tempfile.TemporaryDirectory(prefix="signoff-xgb-") as scratch:
            path = Path(scratch) / f"model{suffix}"
            fitted.save_model(path)
            data = path.read_bytes()
        return XGBoostModel(data, self.artifact_format, "the refitted model")


def _wrapper_type(attributes: dict[str, Any]) -> str:
    try:
        return str(json.loads(attributes.get("scikit_learn", "{}")).get("_estimator_type", ""))
    except (ValueError, AttributeError):
        return ""


def _deepest_tree(gradient_booster: dict[str, Any]) -> int:
    """The depth of the deepest tree: training parameters are not in the file, the trees are."""
    model = gradient_booster.get("model") or gradient_booster.get("gbtree", {}).get("model", {})
    deepest = 0
    for tree in model.get("trees", []) if isinstance(model, dict) else []:
        left, right = tree.get("left_children", []), tree.get("right_children", [])
        depth = {0: 0}
        for node in range(len(left)):  # nodes are numbered parents before children
            for child in (left[node], right[node]):
                if child != -1 and node in depth:
                    depth[child] = depth[node] + 1
        deepest = max(deepest, *depth.values())
    return deepest


class LightGBMModel(NativeModel):
    framework = "lightgbm"
    artifact_format = formats.LIGHTGBM_TEXT
    estimator_class = "lightgbm.Booster"

    def __init__(self, data: bytes, source: str) -> None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{source} starts like a LightGBM model but is not text") from exc
        header = _header(text)
        if "version" not in header or "objective" not in header:
            raise BadInput(f"{source} is not a LightGBM text model (no version or objective)")
        if "\nend of trees" not in text:  # LightGBM itself loads a truncated file as no trees
            raise BadInput(f"{source} is a corrupt LightGBM model (truncated: no end of trees)")
        lgb = formats.require("lightgbm", source)
        self.library_version = formats.library_version("lightgbm")
        written = formats.version_tuple(header["version"].lstrip("v"))
        installed = formats.version_tuple(self.library_version)
        if not written or written[:1] > installed[:1]:
            raise _newer(source, "LightGBM", written or (0,), self.library_version)
        self._data = data
        self._objective = header["objective"].split()[0]
        self._num_class = int(header.get("num_class", "1") or 1)
        self._names = header.get("feature_names", "").split() or None
        self.n_features_in_ = int(header.get("max_feature_idx", "-1")) + 1 or None
        self._parameters = _parameters(text)
        self.task_type, self._classes = self._task(source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._booster = lgb.Booster(model_str=text)
        except Exception as exc:  # LightGBMError: the library refused the text
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise BadInput(f"{source} is a corrupt LightGBM model ({first})") from exc
        per_iteration = int(header.get("num_tree_per_iteration", "1") or 1)
        self._rounds = self._booster.num_trees() // max(per_iteration, 1)

    def _task(self, source: str) -> tuple[str, NDArray[Any] | None]:
        if self._objective == "binary":
            return CLASSIFICATION, np.array([0, 1])
        if self._objective in ("multiclass", "multiclassova") and self._num_class >= 2:
            return CLASSIFICATION, np.arange(self._num_class)
        if self._objective in LGB_REGRESSION:
            return REGRESSION, None
        raise BadInput(
            f"{source} has the LightGBM objective {self._objective!r}; signoff validates "
            "classifiers (binary, multiclass) and regressors (regression, ...)"
        )

    def _input(self, x: Any) -> Any:
        """Text columns (as CSV and Parquet files give them) become pandas categories, which
        LightGBM maps to its training categories (`pandas_categorical` in the file)."""
        import pandas as pd

        if not isinstance(x, pd.DataFrame):
            return x
        text = [c for c in x.columns if pd.api.types.is_string_dtype(x[c].dtype)]
        if not text:
            return x
        return x.astype(dict.fromkeys(text, "category"))

    def _probabilities(self, x: Any) -> NDArray[np.float64]:
        scores = np.asarray(self._booster.predict(self._input(x)), dtype=np.float64)
        return two_columns(scores) if scores.ndim == 1 else scores

    def _values(self, x: Any) -> NDArray[Any]:
        return np.asarray(self._booster.predict(self._input(x)))

    def params(self) -> dict[str, object]:
        params: dict[str, object] = {"num_iterations": self._rounds}
        for key in LGB_TUNING:
            if key in self._parameters:
                value = _number(self._parameters[key])
                params[key] = bool(value) if key in LGB_FLAGS else value
        return params

    def artifact(self) -> bytes:
        return self._data

    def refit(self, x: Any, y: Any, sample_weight: Any, seed: int) -> NativeModel:
        import lightgbm as lgb

        params = {k: v for k, v in self.params().items() if k != "num_iterations"}
        params.update({"seed": seed, "deterministic": True, "verbose": -1, "num_threads": 1})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            booster = lgb.train(
                params,
                lgb.Dataset(self._input(x), y, weight=sample_weight),
                num_boost_round=self._rounds,
            )
        return LightGBMModel(booster.model_to_string().encode("utf-8"), "the refitted model")


def _header(text: str) -> dict[str, str]:
    """The `key=value` lines before the first tree."""
    header: dict[str, str] = {}
    for line in text.splitlines()[1:200]:
        if not line.strip() or line.startswith("Tree="):
            break
        key, sep, value = line.partition("=")
        if sep:
            header[key.strip()] = value.strip()
    return header


def _parameters(text: str) -> dict[str, str]:
    """The `[key: value]` lines of the `parameters:` section LightGBM writes after the trees."""
    start = text.rfind("\nparameters:\n")
    end = text.find("\nend of parameters", start)
    if start < 0 or end < 0:
        return {}
    found: dict[str, str] = {}
    for line in text[start:end].splitlines():
        if line.startswith("[") and line.endswith("]") and ": " in line:
            key, _, value = line[1:-1].partition(": ")
            found[key] = value
    return found


def _number(value: str) -> object:
    try:
        number = float(value)
    except ValueError:
        return value
    if not math.isfinite(number):
        return value
    return int(number) if number.is_integer() and "." not in value else number
