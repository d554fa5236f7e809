"""What a card says about the data: the training set's profile and the evaluation set."""

from __future__ import annotations

import json
from dataclasses import replace

from console.errors import NotFound
from console.registry.views import get_dataset
from console.release.evidence import ValidationView
from console.store.db import Store
from reports.card_model import ColumnSummary, DatasetSummary, finite_float

PROFILE_COLUMNS_SHOWN = 40


def _fmt(value: object) -> str:
    number = finite_float(value)
    if number is None:
        return "-"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if number == int(number):
        return str(int(number))
    return f"{number:.4g}"


def _column_summary(column: dict[str, object]) -> ColumnSummary:
    kind = str(column.get("kind", ""))
    if kind == "numeric":
        summary = (
            f"min {_fmt(column.get('min'))}, mean {_fmt(column.get('mean'))}, "
            f"max {_fmt(column.get('max'))}"
        )
    else:
        frequencies = column.get("frequencies")
        if isinstance(frequencies, dict) and frequencies:
            total = sum(v for v in frequencies.values() if isinstance(v, int)) + int(
                finite_float(column.get("other_count")) or 0
            )
            top = sorted(
                ((str(k), int(v)) for k, v in frequencies.items() if isinstance(v, int)),
                key=lambda kv: (-kv[1], kv[0]),
            )
            shown = [f"{k} {100 * v / total:.0f}%" for k, v in top[:4]] if total else []
            more = len(top) - len(shown)
            summary = ", ".join(shown) + (f", {more} more" if more > 0 else "")
        else:
            distinct = column.get("distinct")
            summary = f"{distinct} distinct values" if distinct is not None else "-"
    return ColumnSummary(
        name=str(column.get("name", "")),
        kind=kind,
        dtype=str(column.get("dtype", "")),
        null_rate=finite_float(column.get("null_rate")),
        summary=summary,
    )


def dataset_summary(store: Store, digest: str, fallback_name: str) -> DatasetSummary:
    try:
        dataset = get_dataset(store, digest)
    except NotFound:
        return DatasetSummary(sha256=digest, name=fallback_name, registered=False)
    profile = json.loads(dataset.profile)
    columns = profile.get("columns", []) if isinstance(profile, dict) else []
    return DatasetSummary(
        sha256=digest,
        name=dataset.name,
        registered=True,
        format=dataset.format,
        row_count=dataset.row_count,
        column_count=dataset.column_count,
        registered_at=dataset.registered_at,
        registered_by=dataset.registered_by,
        columns=[
            _column_summary(c) for c in columns[:PROFILE_COLUMNS_SHOWN] if isinstance(c, dict)
        ],
    )


def evaluation_summary(store: Store, run: ValidationView) -> DatasetSummary:
    data = dataset_summary(store, run.dataset_sha256, run.dataset_name)
    rows = run.summary.get("rows")
    if data.row_count is None and isinstance(rows, int) and not isinstance(rows, bool):
        return replace(data, row_count=rows)
    return data
