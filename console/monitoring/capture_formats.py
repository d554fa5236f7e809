"""Inference logs as serving stacks write them, turned into the prediction log's columns.

SageMaker Model Monitor data capture and KServe / Open Inference Protocol v2 logs are JSON
lines that nest the request and the response. `normalise_capture` reads them one line at a
time (the payloads must be decoded, so each record passes through Python once) and writes a
JSON lines file with the columns `console.monitoring.ingest` reads from any log: `timestamp`,
`version`, `request_id`, `prediction`, `score` and the features, which then go through the
same checks as a CSV log. A record that cannot be read is refused with its line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from console.analytics import Connection
from console.errors import BadInput
from console.monitoring.logs import INPUT_TIMESTAMP, PREDICTION, REQUEST_ID, SCORE, VERSION
from console.monitoring.uploads import RawFile, detect_log_format, read_raw
from console.registry.views import ModelView

CAPTURE_FORMATS = ("sagemaker", "kserve")
FILE_FORMATS = ("csv", "parquet", "json")
FORMATS = (*FILE_FORMATS, *CAPTURE_FORMATS)
_SNIFF = 1 << 24  # the first line of a capture file: a batch payload can be long


class Record:
    """One line of a capture file being read: its number and where errors point."""

    def __init__(self, name: str, number: int) -> None:
        self.name = name
        self.number = number

    def refuse(self, what: str, fix: str) -> BadInput:
        return BadInput(f"{self.name} line {self.number}: {what}; {fix}")


class Schemas:
    """The feature names, in input-schema order, of each version a record may name."""

    def __init__(self, model: ModelView, version: int | None) -> None:
        self.model = model.name
        self._features = {
            v.number: [str(c["name"]) for c in v.input_schema] for v in model.versions
        }
        if version is not None and version not in self._features:
            known = ", ".join(str(v) for v in sorted(self._features))
            raise BadInput(
                f"--version {version}: {model.name} has no such version; its versions are {known}"
            )
        self.version = version

    def features(self, record: Record, named: object = None) -> tuple[int, list[str]]:
        """The version that served `record` (--version, else what the record names)."""
        number = self.version if self.version is not None else _version_number(named)
        if number is None:
            raise record.refuse(
                "the record does not say which version served it",
                f"give --version N (the {self.model} version behind the endpoint)",
            )
        if number not in self._features:
            raise record.refuse(
                f"it names version {named!r}, which {self.model} does not have",
                "give --version N to say which version served",
            )
        return number, self._features[number]


def _version_number(named: object) -> int | None:
    text = str(named).strip().lower().removeprefix("v") if named is not None else ""
    return int(text) if text.isascii() and text.isdigit() else None


# ---- detecting and claiming a format -----------------------------------------------------------


def first_record(path: Path) -> dict[str, Any] | None:
    """The first non-empty line as a JSON object, or None when it is not one."""
    try:
        with path.open("rb") as handle:
            for raw in iter(lambda: handle.readline(_SNIFF), b""):
                if raw.strip():
                    value = json.loads(raw)
                    return value if isinstance(value, dict) else None
    except (OSError, ValueError):
        return None
    return None


def capture_kind(record: Mapping[str, Any] | None) -> str | None:
    """sagemaker, kserve, or None, from one record's keys."""
    if record is None:
        return None
    if isinstance(record.get("captureData"), dict):
        return "sagemaker"
    body = record.get("data", record.get("body")) if _envelope(record) else record
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if isinstance(body, dict) and (
        isinstance(body.get("inputs"), list) or isinstance(body.get("outputs"), list)
    ):
        return "kserve"
    return None


def _envelope(record: Mapping[str, Any]) -> bool:
    return any(k in record for k in ("specversion", "ce-specversion", "ce-id", "ce-type"))


def resolve_format(path: Path, claimed: str | None, detected: str) -> str:
    """The format to read `path` as: the claim, checked, or what its content says.

    `detected` is the plain-file sniff (csv, parquet or json); a JSON file whose first record
    is a capture record is that capture format.
    """
    kind = capture_kind(first_record(path)) if detected == "json" else None
    if claimed is None:
        return kind or detected
    if claimed not in FORMATS:
        raise BadInput(f"unknown format {claimed!r}; choose one of {', '.join(FORMATS)}")
    if claimed in CAPTURE_FORMATS and kind != claimed:
        what = {
            "sagemaker": "a SageMaker data-capture record (captureData.endpointInput/Output)",
            "kserve": "a KServe / Open Inference Protocol v2 request or response (inputs/outputs)",
        }[claimed]
        said = f"it looks like {kind}" if kind else f"it reads as {detected}"
        raise BadInput(
            f"{path.name} is not {claimed}: its first line is not {what} ({said}); "
            "check the file or leave --format out to detect it"
        )
    if claimed in FILE_FORMATS and claimed != detected:
        raise BadInput(
            f"{path.name} is not {claimed}: it reads as {detected}; "
            "check the file or leave --format out to detect it"
        )
    return claimed


def log_format(path: Path, claimed: str | None, version: int | None) -> str:
    """The format a prediction log is read as (see `resolve_format`), before any heavy work."""
    fmt = resolve_format(path, claimed, detect_log_format(path))
    if version is not None and fmt not in CAPTURE_FORMATS:
        raise BadInput(
            f"--version applies to sagemaker and kserve logs; {path.name} is {fmt}, whose rows "
            "name their version in the version column"
        )
    return fmt


def read_log(
    con: Connection,
    path: Path,
    fmt: str,
    scratch: Path,
    model: ModelView,
    version: int | None,
    text: Sequence[str],
) -> RawFile:
    """The log parsed once (`read_raw`); a capture log is first normalised into scratch."""
    if fmt not in CAPTURE_FORMATS:
        return read_raw(con, path, scratch, text=text)
    normalised = scratch / f"{path.stem}.jsonl"
    normalise_capture(path, fmt, model, version, normalised)
    raw = read_raw(con, normalised, scratch, text=text)
    return RawFile(raw.source, raw.types, fmt)


# ---- reading and writing -----------------------------------------------------------------------


def records(handle: TextIO, name: str) -> Iterator[tuple[Record, dict[str, Any]]]:
    """Each non-empty line as a JSON object, refused with its number when it is not one."""
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        record = Record(name, number)
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise record.refuse(
                f"not JSON ({str(exc).split(':')[0]})",
                "a capture file holds one JSON record per line",
            ) from exc
        if not isinstance(value, dict):
            raise record.refuse("not a JSON object", "a capture file holds one object per line")
        yield record, value


def row_values(
    record: Record, where: str, values: Sequence[object], features: Sequence[str]
) -> dict[str, object]:
    """A positional row (CSV or a JSON list) mapped to the input schema's order."""
    if len(values) != len(features):
        shown = ", ".join(features[:6]) + (", …" if len(features) > 6 else "")
        raise record.refuse(
            f"{where} has {len(values)} values, but the version has {len(features)} features "
            f"({shown})",
            "positional input follows the input schema's order, without a header",
        )
    return {f: (None if v == "" else v) for f, v in zip(features, values, strict=True)}


def named_values(
    record: Record, where: str, values: Mapping[str, object], features: Sequence[str]
) -> dict[str, object]:
    """A row keyed by feature name; every feature must be there."""
    missing = [f for f in features if f not in values]
    if missing:
        raise record.refuse(
            f"{where} lacks the feature(s) {', '.join(missing[:6])}",
            "each request must carry the features of the version that served it",
        )
    return {f: values[f] for f in features}


def write_row(
    out: TextIO,
    record: Record,
    *,
    timestamp: object,
    version: int,
    request_id: str,
    prediction: object,
    score: object,
    features: Mapping[str, object],
) -> None:
    """One normalised row (unknown keys of a named row are dropped: features are the schema's)."""
    row: dict[str, object] = {
        INPUT_TIMESTAMP: timestamp,
        VERSION: version,
        REQUEST_ID: request_id,
        PREDICTION: prediction,
        SCORE: score,
    }
    row.update(features)
    try:
        text = json.dumps(row, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError as exc:
        raise record.refuse("a value is NaN or infinite", "log a missing value as null") from exc
    out.write(text + "\n")


def normalise_capture(
    path: Path, fmt: str, model: ModelView, version: int | None, target: Path
) -> int:
    """Write `path` (sagemaker or kserve) to `target` as a normalised JSON lines log.

    Returns the number of rows; a record that cannot be read is one BadInput with its line.
    """
    schemas = Schemas(model, version)
    try:
        with (
            path.open(encoding="utf-8", newline="") as source,
            target.open("w", encoding="utf-8") as out,
        ):
            if fmt == "sagemaker":
                from console.monitoring.capture_sagemaker import convert

                written = convert(source, path.name, schemas, out)
            else:
                from console.monitoring.capture_kserve import convert

                written = convert(source, path.name, schemas, out)
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path.name} is not UTF-8 text; a capture file is JSON lines") from exc
    except OSError as exc:
        raise BadInput(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    if written == 0:
        raise BadInput(f"{path.name} has no records; a prediction log needs at least one")
    return written
