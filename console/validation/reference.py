"""Measures a data file against the training profile in one DuckDB scan, whatever its size.

For each column the profile knows, the scan counts nulls; for numeric columns it counts values
below each training histogram edge and outside the training range; for categorical ones it
counts each training category and the values outside them. Data and drift checks are built from
these counts; no row of the file is loaded into Python.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from console.analytics import connect, double, ident, literal, one_line
from console.errors import BadInput
from console.registry.dataset_files import kind_of, relation_sql

_EXAMPLES = 5


@dataclass(frozen=True)
class ProfiledColumn:
    """One column of a training profile (console.registry.profiling), typed."""

    name: str
    dtype: str
    kind: str
    null_rate: float
    minimum: float | None = None
    maximum: float | None = None
    std: float | None = None
    edges: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    frequencies: dict[str, int] = field(default_factory=dict)
    other_count: int = 0


def parse_profile(text: str) -> dict[str, ProfiledColumn]:
    """The profile JSON of a registered dataset, as typed columns by name."""
    data = json.loads(text)
    out: dict[str, ProfiledColumn] = {}
    for raw in data.get("columns", []):
        histogram = raw.get("histogram") or {}
        out[str(raw["name"])] = ProfiledColumn(
            name=str(raw["name"]),
            dtype=str(raw.get("dtype", "")),
            kind=str(raw.get("kind", "categorical")),
            null_rate=float(raw.get("null_rate") or 0.0),
            minimum=_float(raw.get("min")),
            maximum=_float(raw.get("max")),
            std=_float(raw.get("std")),
            edges=[float(e) for e in histogram.get("edges", [])],
            counts=[int(c) for c in histogram.get("counts", [])],
            frequencies={str(k): int(v) for k, v in (raw.get("frequencies") or {}).items()},
            other_count=int(raw.get("other_count") or 0),
        )
    return out


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class NumericCounts:
    """The file's counts on the training histogram's edges e_0 (min) .. e_k (max)."""

    finite: int  # finite values
    below_edge: list[int]  # values < e_i, for each edge e_0 .. e_k-1
    above_max: int  # values > e_k


@dataclass(frozen=True)
class CategoryCounts:
    """The file's counts over the training categories (the profile's top values)."""

    counts: dict[str, int]  # count of each training category
    outside: int  # non-null values that are none of them
    outside_distinct: int  # approximately how many distinct such values
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnMeasure:
    reference: ProfiledColumn
    dtype: str  # the file's DuckDB type
    kind: str  # numeric | categorical | boolean | datetime
    nulls: int
    numeric: NumericCounts | None = None
    categories: CategoryCounts | None = None

    @property
    def name(self) -> str:
        return self.reference.name

    @property
    def kind_changed(self) -> bool:
        return _family(self.kind) != _family(self.reference.kind)


@dataclass(frozen=True)
class FileMeasures:
    rows: int
    types: dict[str, str]  # every column of the file: its DuckDB type
    columns: dict[str, ColumnMeasure]  # the profiled columns measured


def _family(kind: str) -> str:
    return "categorical" if kind == "boolean" else kind


def measure_file(
    path: Path, fmt: str, reference: dict[str, ProfiledColumn], columns: list[str]
) -> FileMeasures:
    """Count what the checks need for `columns` (names in `reference`) in one scan of the file."""
    con = connect()
    try:
        last: duckdb.Error | None = None
        for sample_all in (False, True):
            # CSV types are sniffed from a sample; a late row that breaks them needs a full sniff.
            source = relation_sql(path, fmt, sample_all=sample_all)
            try:
                return _measure(con, source, [reference[c] for c in columns])
            except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
                last = exc
                if fmt != "csv":
                    break
            except duckdb.Error as exc:
                raise BadInput(f"cannot scan {path.name}: {one_line(exc)}") from exc
        raise BadInput(f"cannot scan {path.name}: {one_line(last)}")
    finally:
        con.close()


def _outside(expression: str, known: list[str]) -> str:
    if not known:
        return "true"
    return f"{expression} NOT IN ({', '.join(literal(k) for k in known)})"


def _measure(
    con: duckdb.DuckDBPyConnection, source: str, columns: list[ProfiledColumn]
) -> FileMeasures:
    described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    types = {str(r[0]): str(r[1]) for r in described}
    # Each column is cast once in an inner projection; the aggregates read the projections.
    inner: list[str] = []
    terms: list[str] = ["count(*)"]
    for i, ref in enumerate(columns):
        quoted, kind = ident(ref.name), kind_of(types[ref.name])
        if kind == "numeric" and ref.kind == "numeric":
            x, v = f"x{i}", f"v{i}"
            as_double = f"CAST({quoted} AS DOUBLE)"
            inner.append(f"{as_double} AS {x}")
            inner.append(f"CASE WHEN isfinite({as_double}) THEN {as_double} END AS {v}")
            # Null as the profile counts it (SQL NULL or NaN): rows - finite - infinite.
            terms.append(f"count({v})")
            terms.append(f"count_if(isinf({x}))")
            terms.extend(f"count_if({v} < {double(e)})" for e in ref.edges[:-1])
            terms.append(f"count_if({v} > {double(ref.edges[-1])})" if ref.edges else "0")
        elif _family(kind) == "categorical" and _family(ref.kind) == "categorical":
            s = f"s{i}"
            inner.append(f"CAST({quoted} AS VARCHAR) AS {s}")
            known = list(ref.frequencies)
            unseen = _outside(s, known)
            terms.append(f"count({s})")
            terms.extend(f"count_if({s} = {literal(k)})" for k in known)
            terms.append(f"count_if({s} IS NOT NULL AND {unseen})")
            terms.append(f"approx_count_distinct({s}) FILTER (WHERE {unseen})")
        else:
            inner.append(f"{quoted} AS o{i}")
            terms.append(f"count(o{i})")
    projection = ", ".join(inner) or "1 AS nothing"
    row = con.execute(
        f"SELECT {', '.join(terms)} FROM (SELECT {projection} FROM {source})"
    ).fetchone()
    assert row is not None
    values = [int(v) if v is not None else 0 for v in row]
    rows, at = values[0], 1
    measures: dict[str, ColumnMeasure] = {}
    for ref in columns:
        dtype = types[ref.name]
        kind = kind_of(dtype)
        if kind == "numeric" and ref.kind == "numeric":
            k = max(len(ref.edges) - 1, 0)
            finite, infinite = values[at], values[at + 1]
            numeric = NumericCounts(finite, values[at + 2 : at + 2 + k], values[at + 2 + k])
            at += 3 + k
            nulls = rows - finite - infinite
            measures[ref.name] = ColumnMeasure(ref, dtype, kind, nulls, numeric=numeric)
        elif _family(kind) == "categorical" and _family(ref.kind) == "categorical":
            known = list(ref.frequencies)
            non_null = values[at]
            counts = dict(zip(known, values[at + 1 : at + 1 + len(known)], strict=True))
            outside, distinct = values[at + 1 + len(known)], values[at + 2 + len(known)]
            at += 3 + len(known)
            categories = CategoryCounts(
                counts=counts,
                outside=outside,
                outside_distinct=max(distinct, 1 if outside else 0),
                examples=_examples(con, source, ref.name, known) if outside else [],
            )
            measures[ref.name] = ColumnMeasure(
                ref, dtype, kind, rows - non_null, categories=categories
            )
        else:
            measures[ref.name] = ColumnMeasure(ref, dtype, kind, rows - values[at])
            at += 1
    return FileMeasures(rows, types, measures)


def _examples(
    con: duckdb.DuckDBPyConnection, source: str, name: str, known: list[str]
) -> list[str]:
    """A few of the most frequent values outside the training categories, for the report."""
    s = f"CAST({ident(name)} AS VARCHAR)"
    rows = con.execute(
        f"SELECT {s} AS v, count(*) AS n FROM {source} WHERE {s} IS NOT NULL AND "
        f"{_outside(s, known)} GROUP BY v ORDER BY n DESC, v LIMIT {_EXAMPLES}"
    ).fetchall()
    return [str(r[0])[:80] for r in rows]
