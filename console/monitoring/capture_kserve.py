"""KServe / Open Inference Protocol v2 request and response logs, paired by request id.

A line is a request `{"id", "inputs": [{"name", "shape", "datatype", "data"}]}` or a response
`{"id", "model_name", "model_version", "outputs": [...]}`, bare or inside the CloudEvent
KServe's logger sends (structured JSON: `id`, `type`, `time`, `data`; or its `ce-` headers
written beside a `data`/`body`). The request id is the CloudEvent's id (KServe gives the
request and its response the same one), else the body's `id`. The time is the request's
CloudEvent `time`, else a `timestamp` field on its line, else the response's. The inputs are
one tensor of shape [N, F] in the input schema's order, or one tensor per feature, by name.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from console.errors import BadInput
from console.monitoring.capture_formats import (
    Record,
    Schemas,
    named_values,
    records,
    row_values,
    write_row,
)

_PREDICTION_NAMES = ("predict", "prediction", "predictions", "label", "output_label", "output")
_SCORE_NAMES = ("predict_proba", "probabilities", "probability", "output_probability", "scores")


class _Message:
    """One side of an exchange, as read from its line."""

    def __init__(self, record: Record, body: dict[str, Any], rid: str, when: object) -> None:
        self.record = record
        self.body = body
        self.id = rid
        self.time = when


def convert(source: TextIO, name: str, schemas: Schemas, out: TextIO) -> int:
    requests: dict[str, _Message] = {}
    responses: dict[str, _Message] = {}
    written = 0
    for record, line in records(source, name):
        message, is_request = _read(record, line)
        mine, other = (requests, responses) if is_request else (responses, requests)
        if message.id in mine:
            side = "request" if is_request else "response"
            raise record.refuse(
                f"a second {side} with id {message.id!r} (line {mine[message.id].record.number})",
                "each request is logged once",
            )
        partner = other.pop(message.id, None)
        if partner is None:
            mine[message.id] = message
            continue
        request, response = (message, partner) if is_request else (partner, message)
        written += _write(request, response, schemas, out)
    if requests or responses:
        raise BadInput(_unmatched(name, requests, responses))
    return written


def _unmatched(name: str, requests: dict[str, _Message], responses: dict[str, _Message]) -> str:
    parts = []
    for count, side, missing, pending in (
        (len(requests), "requests", "response", requests),
        (len(responses), "responses", "request", responses),
    ):
        if count:
            first = next(iter(pending.values()))
            parts.append(
                f"{count} {side} without their {missing} (e.g. {first.id!r} on line "
                f"{first.record.number})"
            )
    return (
        f"{name}: {' and '.join(parts)}; log requests and responses together "
        "(logger mode all) and give both in one file"
    )


def _read(record: Record, line: dict[str, Any]) -> tuple[_Message, bool]:
    """The message on a line, and whether it is a request."""
    envelope = any(k in line for k in ("specversion", "ce-specversion", "ce-id", "ce-type"))
    body: Any = line
    kind = ""
    rid: object = None
    when: object = line.get("timestamp")
    if envelope:
        kind = str(line.get("type", line.get("ce-type", ""))).lower()
        rid = line.get("id", line.get("ce-id"))
        when = line.get("time", line.get("ce-time")) or when
        body = _event_data(record, line)
    if not isinstance(body, dict):
        raise record.refuse("the event's data is not a JSON object", "check the logger's sink")
    when = when or body.get("timestamp")
    rid = rid or body.get("id")
    if not rid:
        raise record.refuse("the message has no id", "the logger pairs request and response by id")
    if isinstance(body.get("inputs"), list) and not kind.endswith("response"):
        return _Message(record, body, str(rid), when), True
    if isinstance(body.get("outputs"), list) and not kind.endswith("request"):
        return _Message(record, body, str(rid), when), False
    raise record.refuse(
        "neither an inference request (inputs) nor a response (outputs)",
        "give the KServe logger's request and response events, or the right --format",
    )


def _event_data(record: Record, line: Mapping[str, Any]) -> Any:
    if "data_base64" in line:
        try:
            text: Any = base64.b64decode(str(line["data_base64"]), validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise record.refuse(
                "data_base64 does not decode to UTF-8 text", "the log is damaged"
            ) from exc
    else:
        text = line.get("data", line.get("body"))
    if isinstance(text, str):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise record.refuse("the event's data is not JSON", "check the logger's sink") from exc
    return text


def _write(request: _Message, response: _Message, schemas: Schemas, out: TextIO) -> int:
    record = response.record
    version, features = schemas.features(record, response.body.get("model_version"))
    rows = _input_rows(request.record, request.body["inputs"], features)
    predictions, scores = _outputs(record, response.body["outputs"], len(rows))
    when = request.time or response.time
    if not when:
        raise request.record.refuse(
            "the request has no time",
            "give a CloudEvent time (ce-time) or a timestamp field on its line",
        )
    for index, row in enumerate(rows):
        write_row(
            out,
            request.record,
            timestamp=when,
            version=version,
            request_id=request.id if len(rows) == 1 else f"{request.id}#{index + 1}",
            prediction=predictions[index],
            score=scores[index] if scores is not None else None,
            features=row,
        )
    return len(rows)


def _tensor(record: Record, tensor: object, where: str) -> tuple[str, list[int], list[object]]:
    """(name, shape, flat data) of one tensor."""
    if not isinstance(tensor, dict) or "data" not in tensor:
        raise record.refuse(f"{where}: a tensor without data", "tensors are {name, shape, data}")
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise record.refuse(f"{where}: tensor {tensor.get('name')!r} has no valid shape", "fix it")
    data = _flat(tensor["data"])
    size = 1
    for n in shape:
        size *= n
    if len(data) != size:
        raise record.refuse(
            f"{where}: tensor {tensor.get('name')!r} has {len(data)} values for shape {shape}",
            "the data must fill the shape",
        )
    return str(tensor.get("name", "")), shape, data


def _flat(data: object) -> list[object]:
    if not isinstance(data, list):
        return [data]
    flat: list[object] = []
    for item in data:
        flat.extend(_flat(item))
    return flat


def _input_rows(
    record: Record, inputs: Sequence[object], features: Sequence[str]
) -> list[dict[str, object]]:
    tensors = [_tensor(record, t, "inputs") for t in inputs]
    if len(tensors) == 1 and (tensors[0][0] not in features or len(tensors[0][1]) == 2):
        _, shape, data = tensors[0]
        width = shape[-1] if len(shape) == 2 else len(data)
        if len(shape) == 2 and width != len(features):
            raise record.refuse(
                f"input tensor of shape {shape} has {width} columns, but the version has "
                f"{len(features)} features",
                "a single input tensor is [rows, features] in the input schema's order",
            )
        return [
            row_values(record, f"input row {i + 1}", data[i * width : (i + 1) * width], features)
            for i in range(len(data) // width if width else 0)
        ]
    columns = {name: data for name, _, data in tensors}
    lengths = {len(d) for d in columns.values()}
    if len(lengths) != 1:
        raise record.refuse("the input tensors have different lengths", "one value per row each")
    (count,) = lengths
    return [
        named_values(record, f"input row {i + 1}", {k: v[i] for k, v in columns.items()}, features)
        for i in range(count)
    ]


def _outputs(
    record: Record, outputs: Sequence[object], count: int
) -> tuple[list[object], list[object] | None]:
    tensors = [_tensor(record, t, "outputs") for t in outputs]
    scores = next((t for t in tensors if t[0].lower() in _SCORE_NAMES), None)
    labels = [t for t in tensors if t is not scores]
    chosen = next((t for t in labels if t[0].lower() in _PREDICTION_NAMES), None)
    chosen = chosen or (labels[0] if labels else None)
    if chosen is None:
        raise record.refuse("the response has no prediction tensor", "log the model's outputs")
    if len(chosen[2]) != count:
        raise record.refuse(
            f"{count} input rows but {len(chosen[2])} predictions in {chosen[0]!r}",
            "each input row needs its prediction",
        )
    if scores is None:
        return chosen[2], None
    _, shape, data = scores
    if len(data) == 2 * count and (len(shape) == 2 and shape[-1] == 2):
        return chosen[2], data[1::2]  # binary probabilities: the positive class's
    if len(data) == count:
        return chosen[2], data
    raise record.refuse(
        f"the score tensor {scores[0]!r} of shape {shape} does not give one score per row",
        "log the positive class's probability ([rows] or [rows, 2])",
    )
