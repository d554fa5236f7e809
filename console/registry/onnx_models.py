"""ONNX models run with onnxruntime: one tensor of every feature, or one input per column.

A classifier has an integer or string label output and a probability output (a tensor, or the
sequence of maps skl2onnx's ZipMap writes); its class labels come from the graph's
`classlabels_*` attributes. A model with one float output is a regressor. ONNX models cannot be
refitted here: they are retrained where they were built.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from console.errors import BadInput
from console.registry import formats
from console.registry.native import CLASSIFICATION, REGRESSION, NativeModel

ONNX_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(string)": np.str_,
}
LABEL_TYPES = ("tensor(int64)", "tensor(int32)", "tensor(string)")


class OnnxModel(NativeModel):
    framework = "onnx"
    artifact_format = formats.ONNX

    def __init__(self, data: bytes, source: str) -> None:
        ort = formats.require("onnxruntime", source)
        onnx = formats.require("onnx", source)
        self.library_version = formats.library_version("onnxruntime")
        self._data, self._source = data, source
        try:
            proto = onnx.load_model_from_string(data)
            options = ort.SessionOptions()
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                data, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # protobuf DecodeError, onnxruntime's Fail/InvalidGraph
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            raise BadInput(f"{source} is an ONNX model onnxruntime cannot load ({first})") from exc
        self.estimator_class = f"onnx:{proto.producer_name or 'unknown'}"
        self._opsets = {o.domain or "ai.onnx": int(o.version) for o in proto.opset_import}
        inputs = self._session.get_inputs()
        self._inputs = [(i.name, i.type, i.shape) for i in inputs]
        if len(inputs) == 1 and len(inputs[0].shape) == 2:
            width = inputs[0].shape[1]
            self.n_features_in_ = width if isinstance(width, int) else None
            self._names = None
        else:
            self._names = [i.name for i in inputs]
            self.n_features_in_ = len(inputs)
        for name, kind, _ in self._inputs:
            if kind not in ONNX_TYPES:
                raise BadInput(f"{source} takes input {name!r} of type {kind}, not a table column")
        outputs = self._session.get_outputs()
        labels = [o for o in outputs if o.type in LABEL_TYPES]
        if labels and len(outputs) >= 2:
            self.task_type = CLASSIFICATION
            self._label_output = labels[0].name
            self._proba_output = next(o.name for o in outputs if o.name != labels[0].name)
            self._classes = _class_labels(proto)
            if self._classes is None:
                raise BadInput(f"{source} is a classifier whose graph names no class labels")
        elif len(outputs) == 1 and outputs[0].type in ("tensor(float)", "tensor(double)"):
            self.task_type = REGRESSION
            self._value_output = outputs[0].name
        else:
            shown = ", ".join(f"{o.name} {o.type}" for o in outputs)
            raise BadInput(
                f"{source} has outputs {shown}; signoff reads a classifier (label and "
                "probabilities) or a regressor (one float output)"
            )

    def _feed(self, x: Any) -> dict[str, Any]:
        if self._names is None:
            name, kind, _ = self._inputs[0]
            return {name: np.asarray(x, dtype=ONNX_TYPES[kind])}
        return {
            name: np.asarray(x[name], dtype=ONNX_TYPES[kind]).reshape(-1, 1)
            for name, kind, _ in self._inputs
        }

    def _probabilities(self, x: Any) -> NDArray[np.float64]:
        (raw,) = self._session.run([self._proba_output], self._feed(x))
        return self._as_matrix(raw)

    def predict_scored(self, x: Any) -> tuple[NDArray[Any], NDArray[np.float64]]:
        """The graph's own labels and its probabilities, from one run of the session."""
        if self.task_type != CLASSIFICATION:
            raise AttributeError("a regressor has no class probabilities")
        labels, raw = self._session.run([self._label_output, self._proba_output], self._feed(x))
        return np.asarray(labels).reshape(-1), self._as_matrix(raw)

    def _as_matrix(self, raw: Any) -> NDArray[np.float64]:
        classes = self.classes_.tolist()
        if isinstance(raw, list):  # ZipMap: one {label: probability} per row
            return np.asarray([[row[c] for c in classes] for row in raw], dtype=np.float64)
        return np.asarray(raw, dtype=np.float64).reshape(len(raw), -1)

    def predict(self, x: Any) -> NDArray[Any]:
        if self.task_type == CLASSIFICATION:
            (labels,) = self._session.run([self._label_output], self._feed(x))
            return np.asarray(labels).reshape(-1)
        return super().predict(x)

    def _values(self, x: Any) -> NDArray[Any]:
        (values,) = self._session.run([self._value_output], self._feed(x))
        return np.asarray(values)

    def params(self) -> dict[str, object]:
        return {
            "inputs": [name for name, _, _ in self._inputs],
            "opsets": dict(sorted(self._opsets.items())),
        }

    def artifact(self) -> bytes:
        return self._data

    def refit(self, x: Any, y: Any, sample_weight: Any, seed: int) -> NativeModel:
        raise BadInput(onnx_refit_refusal(self._source))


def onnx_refit_refusal(source: str) -> str:
    return (
        f"{source} is an ONNX model, which signoff cannot refit: retrain it where it was "
        "built and register the new file with `signoff register`"
    )


def _class_labels(proto: Any) -> NDArray[Any] | None:
    """The classes a classifier's graph declares (ZipMap or the classifier node)."""
    for node in proto.graph.node:
        for attribute in node.attribute:
            if attribute.name in ("classlabels_int64s", "classlabels_ints") and attribute.ints:
                return np.asarray(list(attribute.ints), dtype=np.int64)
            if attribute.name == "classlabels_strings" and attribute.strings:
                return np.asarray([s.decode("utf-8") for s in attribute.strings], dtype=object)
    return None
