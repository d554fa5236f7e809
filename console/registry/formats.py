"""Tells a model file's format from its bytes (never its name), and which library reads it."""

from __future__ import annotations

import functools
import importlib
import io
import json
import struct
import zipfile
from types import ModuleType
from typing import Any

from console.errors import BadInput

SKOPS = "skops"
PICKLE = "pickle"
XGBOOST_JSON = "xgboost-json"
XGBOOST_UBJ = "xgboost-ubj"
LIGHTGBM_TEXT = "lightgbm-text"
ONNX = "onnx"
ZIP = "zip"
UNKNOWN = "unknown"

# The file name each format takes in a package, and the libraries a version of it needs.
FILE_NAMES = {
    SKOPS: "model.skops",
    PICKLE: "model.pkl",
    XGBOOST_JSON: "model.json",
    XGBOOST_UBJ: "model.ubj",
    LIGHTGBM_TEXT: "model.txt",
    ONNX: "model.onnx",
}
LIBRARIES = {
    XGBOOST_JSON: ("xgboost",),
    XGBOOST_UBJ: ("xgboost",),
    LIGHTGBM_TEXT: ("lightgbm",),
    ONNX: ("onnxruntime", "onnx"),
}


def version_libraries(artifact_format: str, trusted_types: list[str]) -> list[str]:
    """The libraries beyond the scikit-learn stack a version needs: its format's, and those of
    the types a skops file holds (an XGBoost estimator inside a skops pipeline needs xgboost)."""
    needed = list(LIBRARIES.get(artifact_format, ()))
    for name in trusted_types:
        root = name.split(".")[0]
        if root in EXTRAS and root not in needed:
            needed.append(root)
    return needed


EXTRAS = {
    "yaml": "mlflow",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "onnxruntime": "onnx",
    "onnx": "onnx",
}
KNOWN = "skops, XGBoost JSON or UBJSON, LightGBM text, ONNX"

# Compressed joblib files (zlib, gzip, bz2, xz, lzma) are pickles underneath.
_COMPRESSED = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")


def detect_format(data: bytes) -> str:
    """One of the format names above, read from the content."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "schema.json" in archive.namelist():
                    return SKOPS
        except zipfile.BadZipFile:
            pass
        return ZIP
    if (data[:1] == b"\x80" and data[1:2] and 2 <= data[1] <= 5) or data.startswith(_COMPRESSED):
        return PICKLE
    if data.startswith(b"tree\n") or data.startswith(b"tree\r\n"):
        return LIGHTGBM_TEXT
    if data[:1] == b"{" and data[1:2] in (b"L", b"l", b"i", b"U", b"I", b"$", b"#"):
        return XGBOOST_UBJ
    if data.lstrip()[:1] == b"{":
        return XGBOOST_JSON
    if _is_onnx(data):
        return ONNX
    return UNKNOWN


def require(module: str, source: str) -> ModuleType:
    """Import a framework's library, or refuse with the pip command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRAS.get(module, module)
        raise BadInput(
            f"{source} needs {module}, which is not installed; run: pip install 'signoff[{extra}]'"
        ) from exc


@functools.cache
def library_version(module: str) -> str:
    """The installed distribution's version (read from its metadata once per process: the
    modules already imported do not change with it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "unknown"


def version_tuple(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in text.split("."):
        digits = "".join(c for c in piece if c.isdigit()) if piece else ""
        if not digits or not piece[0].isdigit():
            break
        parts.append(int(digits))
    return tuple(parts)


def xgboost_document(data: bytes, kind: str, source: str) -> dict[str, Any]:
    """The model document of an XGBoost JSON or UBJSON file, its shape checked."""
    try:
        if kind == XGBOOST_JSON:
            document = json.loads(data)
        else:
            document, end = _ubjson_value(data, 0)
            if end != len(data):
                raise ValueError("trailing bytes")
    except (ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
        what = "JSON" if kind == XGBOOST_JSON else "UBJSON"
        raise BadInput(
            f"{source} is neither a model signoff knows ({KNOWN}) nor valid {what}"
        ) from exc
    learner = document.get("learner") if isinstance(document, dict) else None
    version = document.get("version") if isinstance(document, dict) else None
    if (
        not isinstance(learner, dict)
        or not isinstance(learner.get("gradient_booster"), dict)
        or not isinstance(version, list)
        or not all(isinstance(v, int) for v in version)
    ):
        raise BadInput(
            f"{source} is JSON but not an XGBoost model (no learner and version); "
            f"signoff reads {KNOWN}"
        )
    return dict(document)


# ---- UBJSON (XGBoost's binary model format), read without the library ----------------------

_UBJ_INTS = {b"i": ">b", b"U": ">B", b"I": ">h", b"l": ">i", b"L": ">q"}
_UBJ_FLOATS = {b"d": ">f", b"D": ">d"}


def _ubjson_value(data: bytes, at: int, marker: bytes | None = None) -> tuple[Any, int]:
    if marker is None:
        marker, at = data[at : at + 1], at + 1
    if marker in _UBJ_INTS or marker in _UBJ_FLOATS:
        fmt = _UBJ_INTS.get(marker) or _UBJ_FLOATS[marker]
        size = struct.calcsize(fmt)
        return struct.unpack_from(fmt, data, at)[0], at + size
    if marker == b"S" or marker == b"H":
        length, at = _ubjson_length(data, at)
        return data[at : at + length].decode("utf-8"), at + length
    if marker == b"C":
        return chr(data[at]), at + 1
    if marker in (b"T", b"F", b"Z"):
        return {b"T": True, b"F": False, b"Z": None}[marker], at
    if marker == b"[":
        return _ubjson_container(data, at, b"]", keyed=False)
    if marker == b"{":
        return _ubjson_container(data, at, b"}", keyed=True)
    raise ValueError(f"unknown UBJSON marker {marker!r} at byte {at - 1}")


def _ubjson_length(data: bytes, at: int) -> tuple[int, int]:
    length, at = _ubjson_value(data, at)
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise ValueError(f"bad UBJSON length at byte {at}")
    if length > len(data):
        raise ValueError("UBJSON length beyond the file")
    return length, at


def _ubjson_container(data: bytes, at: int, close: bytes, *, keyed: bool) -> tuple[Any, int]:
    typed: bytes | None = None
    count: int | None = None
    if data[at : at + 1] == b"$":
        typed, at = data[at + 1 : at + 2], at + 2
    if data[at : at + 1] == b"#":
        count, at = _ubjson_length(data, at + 1)
        if count > len(data):
            raise ValueError("UBJSON count beyond the file")
    if typed is not None and count is None:
        raise ValueError("UBJSON typed container without a count")
    items: list[Any] = []
    pairs: dict[str, Any] = {}
    index = 0
    while count is None or index < count:
        if count is None and data[at : at + 1] == close:
            at += 1
            break
        if at >= len(data):
            raise ValueError("UBJSON container not closed")
        if keyed:
            length, at = _ubjson_length(data, at)
            key, at = data[at : at + length].decode("utf-8"), at + length
            pairs[key], at = _ubjson_value(data, at, typed)
        else:
            value, at = _ubjson_value(data, at, typed)
            items.append(value)
        index += 1
    return (pairs if keyed else items), at


# ---- ONNX: a protobuf ModelProto, recognised by its wire structure -----------------------------


def _is_onnx(data: bytes) -> bool:
    """Every top-level field parses, ir_version (1) is a varint and a graph (7) is present."""
    fields: set[int] = set()
    at = 0
    try:
        while at < len(data):
            key, at = _varint(data, at)
            number, wire = key >> 3, key & 7
            if number == 0:
                return False
            if wire == 0:
                _, at = _varint(data, at)
            elif wire == 2:
                length, at = _varint(data, at)
                at += length
            elif wire == 1:
                at += 8
            elif wire == 5:
                at += 4
            else:
                return False
            if (number == 1 and wire != 0) or (number == 7 and wire != 2):
                return False
            fields.add(number)
    except IndexError:
        return False
    return at == len(data) and {1, 7} <= fields


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise IndexError("varint too long")
