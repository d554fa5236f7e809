"""SageMaker Model Monitor data capture: one JSON line per invocation, its payloads encoded.

A line holds `captureData.endpointInput` and `captureData.endpointOutput`, each with
`observedContentType`, `mode`, `data` and `encoding` (CSV, JSON or BASE64), and
`eventMetadata` with `eventId`, the caller's `inferenceId` (the request id when given) and
`inferenceTime`. CSV input has no header: its columns follow the version's input schema; a
payload of several rows gives several predictions, the request id then suffixed `#1`, `#2`…
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from console.monitoring.capture_formats import (
    Record,
    Schemas,
    named_values,
    records,
    row_values,
    write_row,
)

_PREDICTION_KEYS = ("predicted_label", "prediction", "label", "predicted_value", "value")
_SCORE_KEYS = ("score", "probability")


def convert(source: TextIO, name: str, schemas: Schemas, out: TextIO) -> int:
    written = 0
    for record, line in records(source, name):
        capture = line.get("captureData")
        if not isinstance(capture, dict):
            raise record.refuse(
                "not a SageMaker data-capture record (no captureData)",
                "give the capture files SageMaker wrote, or the right --format",
            )
        meta = line.get("eventMetadata")
        meta = meta if isinstance(meta, dict) else {}
        request_id = meta.get("inferenceId") or meta.get("eventId")
        if not request_id:
            raise record.refuse("eventMetadata has no inferenceId or eventId", "log the request id")
        when = meta.get("inferenceTime")
        if not when:
            raise record.refuse(
                "eventMetadata has no inferenceTime", "a prediction is dated when it was served"
            )
        version, features = schemas.features(record)
        inputs = _input_rows(record, _payload(record, capture, "endpointInput"), features)
        outputs = _output_rows(record, _payload(record, capture, "endpointOutput"))
        if len(outputs) != len(inputs):
            raise record.refuse(
                f"{len(inputs)} input rows but {len(outputs)} predictions",
                "each input row needs its prediction",
            )
        for index, (row, (prediction, score)) in enumerate(zip(inputs, outputs, strict=True)):
            write_row(
                out,
                record,
                timestamp=when,
                version=version,
                request_id=str(request_id) if len(inputs) == 1 else f"{request_id}#{index + 1}",
                prediction=prediction,
                score=score,
                features=row,
            )
            written += 1
    return written


def _payload(record: Record, capture: Mapping[str, Any], part: str) -> tuple[str, str]:
    """(kind, text) of one side: kind is csv or json, from the content type or the encoding."""
    side = capture.get(part)
    if not isinstance(side, dict) or not isinstance(side.get("data"), str):
        raise record.refuse(
            f"captureData.{part} is missing or has no data",
            "capture both input and output (CaptureMode Input and Output)",
        )
    encoding = str(side.get("encoding", "")).upper()
    content = str(side.get("observedContentType", "")).lower()
    text: str = side["data"]
    if encoding == "BASE64":
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise record.refuse(
                f"captureData.{part}'s BASE64 data does not decode to UTF-8 text",
                "the capture file is damaged; give the file SageMaker wrote",
            ) from exc
    elif encoding not in ("CSV", "JSON"):
        raise record.refuse(
            f"captureData.{part} has encoding {encoding or '(none)'!r}",
            "SageMaker writes CSV, JSON or BASE64",
        )
    if "csv" in content or (encoding == "CSV" and "json" not in content):
        return "csv", text
    if "json" in content or encoding == "JSON":
        return "json", text
    raise record.refuse(
        f"captureData.{part} has content type {content or '(none)'!r}",
        "only CSV and JSON payloads can be read",
    )


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def _json(record: Record, part: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise record.refuse(f"{part}'s JSON payload is not JSON", "check the capture") from exc


def _input_rows(
    record: Record, payload: tuple[str, str], features: Sequence[str]
) -> list[dict[str, object]]:
    kind, text = payload
    if kind == "csv":
        rows = _csv_rows(text)
        return [
            row_values(record, f"endpointInput row {i + 1}", row, features)
            for i, row in enumerate(rows)
        ]
    value = _json(record, "endpointInput", text)
    if isinstance(value, dict):
        for key in ("instances", "inputs", "data"):
            if key in value:
                value = value[key]
                break
        else:
            return [named_values(record, "endpointInput", value, features)]
    if isinstance(value, list) and value and not isinstance(value[0], (list, dict)):
        value = [value]  # one row given flat
    if not isinstance(value, list) or not value:
        raise record.refuse(
            "endpointInput holds no rows",
            "JSON input is a list of rows, or an object with instances",
        )
    found = []
    for i, row in enumerate(value):
        where = f"endpointInput row {i + 1}"
        if isinstance(row, dict) and isinstance(row.get("features"), list):
            row = row["features"]
        if isinstance(row, list):
            found.append(row_values(record, where, row, features))
        elif isinstance(row, dict):
            found.append(named_values(record, where, row, features))
        else:
            raise record.refuse(f"{where} is neither a list nor an object", "check the capture")
    return found


def _output_rows(record: Record, payload: tuple[str, str]) -> list[tuple[object, object]]:
    """(prediction, score) per row: one value is the prediction; two are prediction, score."""
    kind, text = payload
    if kind == "csv":
        return [_pair(record, i, row) for i, row in enumerate(_csv_rows(text))]
    value = _json(record, "endpointOutput", text)
    if isinstance(value, dict):
        value = value.get("predictions", value.get("outputs", [value]))
    if not isinstance(value, list):
        value = [value]
    pairs = []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            prediction = next((item[k] for k in _PREDICTION_KEYS if k in item), None)
            score = next((item[k] for k in _SCORE_KEYS if k in item), None)
            if prediction is None:
                raise record.refuse(
                    f"endpointOutput row {i + 1} has no prediction",
                    f"name it one of {', '.join(_PREDICTION_KEYS)}",
                )
            pairs.append((prediction, score))
        else:
            pairs.append(_pair(record, i, item if isinstance(item, list) else [item]))
    return pairs


def _pair(record: Record, index: int, row: Sequence[object]) -> tuple[object, object]:
    if len(row) not in (1, 2):
        raise record.refuse(
            f"endpointOutput row {index + 1} has {len(row)} values",
            "a prediction is one value, or the prediction and the positive class's score",
        )
    return row[0], row[1] if len(row) == 2 else None
