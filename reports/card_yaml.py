"""A card's Hugging Face front matter, and the small YAML emitter that writes it.

The front matter (`license`, `library_name`, `tags`, `datasets`, `metrics`, `model-index`) is
written by an emitter for exactly the structures used here: block mappings, block sequences and
scalars. A string is written plain only when it cannot be read as anything but that string in
YAML 1.1 or 1.2; every other string is double-quoted with escapes, so a value a person typed can
never change the structure.
"""

from __future__ import annotations

import math
import re

from reports.card_model import CardData

YamlValue = str | int | float | bool | None | list["YamlValue"] | dict[str, "YamlValue"]
TASK_NAMES = {"classification": "Tabular Classification", "regression": "Tabular Regression"}


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./+-]*")
_RESERVED = frozenset(
    {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf", "infinity"}
)


def yaml_scalar(value: str | int | float | bool | None) -> str:
    """One scalar, written so that any YAML 1.1 or 1.2 reader gives back the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e:
            # YAML 1.1 wants a dot in the mantissa and a signed exponent: 1e-07 -> 1.0e-07.
            if "." not in mantissa:
                mantissa += ".0"
            if exponent[0] not in "+-":
                exponent = "+" + exponent
            text = f"{mantissa}e{exponent}"
        return text
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    return _double_quoted(value)


def _double_quoted(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029, 0xFEFF):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _yaml_key(key: str) -> str:
    return key if _PLAIN.fullmatch(key) and key.lower() not in _RESERVED else _double_quoted(key)


def _yaml_lines(value: YamlValue, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        lines: list[str] = []
        for key, item in value.items():
            head = f"{pad}{_yaml_key(key)}:"
            if isinstance(item, dict) and item:
                lines.append(head)
                lines.extend(_yaml_lines(item, indent + 2))
            elif isinstance(item, list) and item:
                lines.append(head)
                lines.extend(_yaml_lines(item, indent))  # indentless sequence, as HF writes
            else:
                lines.append(f"{head} {_inline(item)}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict) and item:
                inner = _yaml_lines(item, indent + 2)
                inner[0] = f"{pad}- {inner[0][indent + 2 :]}"
                lines.extend(inner)
            elif isinstance(item, list) and item:
                raise ValueError("nested sequences are not used in card front matter")
            else:
                lines.append(f"{pad}- {_inline(item)}")
        return lines
    return [pad + _inline(value)]


def _inline(value: YamlValue) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return yaml_scalar(value)


def yaml_document(mapping: dict[str, YamlValue]) -> str:
    """The mapping as block YAML, one line per scalar, ending in a newline."""
    return "\n".join(_yaml_lines(mapping, 0)) + "\n"


def front_matter(card: CardData) -> dict[str, YamlValue]:
    """The Hugging Face metadata of the card, in a fixed key order."""
    meta: dict[str, YamlValue] = {}
    license_id = card.field_value("license")
    if license_id:
        if license_id.lower() == "proprietary":
            meta["license"] = "other"
            meta["license_name"] = "proprietary"
        else:
            meta["license"] = license_id.lower()
    meta["library_name"] = card.library
    task = f"tabular-{card.task_type}"
    tags: list[YamlValue] = ["signoff", task, card.library, f"risk-tier-{card.risk_tier}"]
    meta["tags"] = tags
    datasets: list[YamlValue] = [card.training_data.name]
    if card.evaluation_data is not None and card.evaluation_data.name not in datasets:
        datasets.append(card.evaluation_data.name)
    meta["datasets"] = datasets
    evaluated = [m for m in card.metrics if card.metrics_source == "validation"]
    names: list[YamlValue] = []
    for metric in evaluated:
        if metric.name not in names:
            names.append(metric.name)
    meta["metrics"] = names
    results: list[YamlValue] = []
    if card.evaluation_data is not None and evaluated:
        results.append(
            {
                "task": {"type": task, "name": TASK_NAMES.get(card.task_type, task)},
                "dataset": {
                    "type": card.evaluation_data.name,
                    "name": card.evaluation_data.name,
                },
                "metrics": [
                    {"type": m.name, "value": m.value} for m in evaluated if m.value is not None
                ],
            }
        )
    meta["model-index"] = [{"name": card.model, "results": results}]
    return meta
