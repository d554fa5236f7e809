"""Tests for console.registry.profiling: dataset profiles computed in DuckDB, checked against numpy."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.errors import BadInput
from console.files import input_sha256 as file_sha256
from console.registry.dataset_files import column_types, detect_format, relation_sql
from console.registry.profiling import QUANTILES, profile_dataset

N = 257  # odd, so quantiles interpolate between neighbours


def _mixed_columns() -> dict[str, list[object]]:
    rng = np.random.default_rng(7)
    amount: list[object] = [float(v) for v in rng.normal(100.0, 15.0, N).round(4)]
    count: list[object] = [int(v) for v in rng.integers(0, 40, N)]
    colour: list[object] = [str(v) for v in rng.choice(["red", "green", "blue", "teal"], N)]
    flag: list[object] = [bool(v) for v in rng.random(N) < 0.3]
    for i in range(0, N, 10):
        amount[i] = None
    for i in range(3, N, 17):
        colour[i] = None
    for i in range(5, N, 25):
        flag[i] = None
    return {"amount": amount, "count": count, "colour": colour, "flag": flag}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(path: Path, columns: dict[str, list[object]]) -> Path:
    names = list(columns)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in zip(*(columns[name] for name in names), strict=True):
            writer.writerow([_cell(v) for v in row])
    return path


def write_parquet(path: Path, columns: dict[str, list[object]]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


@pytest.fixture
def mixed() -> dict[str, list[object]]:
    return _mixed_columns()


@pytest.fixture
def mixed_csv(tmp_path: Path, mixed: dict[str, list[object]]) -> Path:
    return write_csv(tmp_path / "train.csv", mixed)


def _columns(profile: dict[str, object]) -> list[dict[str, Any]]:
    columns = profile["columns"]
    assert isinstance(columns, list)
    return columns


def _by_name(profile: dict[str, object]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in _columns(profile)}


def _values(column: list[object]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([v for v in column if v is not None], dtype=float)


# ---------------------------------------------------------------------------------------------
# Profiles


def test_csv_profile_matches_numpy(mixed_csv: Path, mixed: dict[str, list[object]]) -> None:
    profile = profile_dataset(mixed_csv)
    assert profile["format"] == "csv"
    assert profile["row_count"] == N
    assert [c["name"] for c in _columns(profile)] == ["amount", "count", "colour", "flag"]
    by_name = _by_name(profile)
    assert {n: c["kind"] for n, c in by_name.items()} == {
        "amount": "numeric",
        "count": "numeric",
        "colour": "categorical",
        "flag": "boolean",
    }
    assert by_name["amount"]["dtype"] == "DOUBLE"
    assert by_name["count"]["dtype"] == "BIGINT"
    assert by_name["colour"]["dtype"] == "VARCHAR"
    assert by_name["flag"]["dtype"] == "BOOLEAN"

    for name in ("amount", "count"):
        col = by_name[name]
        values = _values(mixed[name])
        nulls = N - values.size
        assert col["null_count"] == nulls
        assert col["null_rate"] == pytest.approx(nulls / N)
        assert col["infinite_count"] == 0
        assert col["min"] == values.min()
        assert col["max"] == values.max()
        assert col["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert col["std"] == pytest.approx(values.std(ddof=1), rel=1e-9)
        quantiles = col["quantiles"]
        assert isinstance(quantiles, dict)
        assert list(quantiles) == list(QUANTILES)
        for key, level in QUANTILES.items():
            assert quantiles[key] == pytest.approx(np.quantile(values, level), rel=1e-12, abs=1e-12)

        histogram = col["histogram"]
        assert isinstance(histogram, dict)
        edges, counts = histogram["edges"], histogram["counts"]
        assert edges[0] == values.min() and edges[-1] == values.max()
        assert all(a < b for a, b in itertools.pairwise(edges))
        assert len(counts) == len(edges) - 1
        assert sum(counts) == values.size
        deciles = np.quantile(values, [i / 10 for i in range(1, 10)])
        expected_edges = np.unique(np.concatenate([[values.min()], deciles, [values.max()]]))
        assert edges == pytest.approx(list(expected_edges), rel=1e-12)
        # numpy's histogram uses the same half-open bins with a closed last bin.
        assert counts == np.histogram(values, bins=np.array(edges))[0].tolist()

    amount_edges = by_name["amount"]["histogram"]["edges"]
    assert len(amount_edges) == 11  # continuous values: ten equal-frequency bins
    count_edges = by_name["count"]["histogram"]["edges"]
    assert len(count_edges) <= 11


def test_categorical_and_boolean_frequencies(
    mixed_csv: Path, mixed: dict[str, list[object]]
) -> None:
    by_name = _by_name(profile_dataset(mixed_csv))
    colour = by_name["colour"]
    seen = Counter(v for v in mixed["colour"] if v is not None)
    assert colour["null_count"] == N - sum(seen.values())
    assert colour["distinct"] == len(seen)
    expected = dict(sorted(seen.items(), key=lambda kv: (-kv[1], kv[0])))
    assert colour["frequencies"] == expected
    assert list(colour["frequencies"]) == list(expected)
    assert colour["other_count"] == 0

    flag = by_name["flag"]
    flags = Counter(_cell(v) for v in mixed["flag"] if v is not None)
    assert flag["frequencies"] == dict(flags)
    assert flag["distinct"] == 2
    assert flag["null_count"] == N - sum(flags.values())
    assert "histogram" not in flag


def test_top_k_ties_are_broken_by_value(tmp_path: Path) -> None:
    values = ["b"] * 3 + ["a"] * 3 + ["d"] + ["c"] + ["e"] * 2
    path = write_csv(tmp_path / "ties.csv", {"letter": list(values)})
    (column,) = _columns(profile_dataset(path, top_k=3))
    assert column["frequencies"] == {"a": 3, "b": 3, "e": 2}
    assert list(column["frequencies"]) == ["a", "b", "e"]
    assert column["distinct"] == 5
    assert column["other_count"] == 2
    (none_kept,) = _columns(profile_dataset(path, top_k=0))
    assert none_kept["frequencies"] == {}
    assert none_kept["distinct"] == 5
    assert none_kept["other_count"] == len(values)


def test_parquet_gives_the_same_profile(
    tmp_path: Path, mixed_csv: Path, mixed: dict[str, list[object]]
) -> None:
    from_csv = profile_dataset(mixed_csv)
    from_parquet = profile_dataset(write_parquet(tmp_path / "train.parquet", mixed))
    assert from_parquet["format"] == "parquet"
    assert {**from_parquet, "format": "csv"} == from_csv


def test_many_numeric_columns(tmp_path: Path) -> None:
    # More bin edges than one histogram query takes: the counts come from several scans.
    rng = np.random.default_rng(11)
    columns: dict[str, list[object]] = {
        f"x{i:02d}": [float(v) for v in rng.normal(i, 1.0, 300)] for i in range(40)
    }
    by_name = _by_name(profile_dataset(write_csv(tmp_path / "wide.csv", columns)))
    for name, values in columns.items():
        histogram = by_name[name]["histogram"]
        assert isinstance(histogram, dict)
        data = np.array(values)
        assert (
            histogram["counts"] == np.histogram(data, bins=np.array(histogram["edges"]))[0].tolist()
        )


def test_constant_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "const.csv", {"k": [4.5] * 20, "n": list(range(20))})
    k = _by_name(profile_dataset(path))["k"]
    assert k["min"] == k["max"] == k["mean"] == 4.5
    assert k["std"] == 0.0
    assert set(k["quantiles"].values()) == {4.5}
    assert k["histogram"] == {"edges": [4.5, 4.5], "counts": [20]}


def test_all_null_columns(tmp_path: Path) -> None:
    csv_path = tmp_path / "nulls.csv"
    csv_path.write_text("x,y\n1,\n2,\n3,\n", encoding="utf-8")
    y = _by_name(profile_dataset(csv_path))["y"]
    assert y["null_count"] == 3 and y["null_rate"] == 1.0
    assert y["kind"] == "categorical"  # a CSV column with no values has no type to find
    assert y["distinct"] == 0 and y["frequencies"] == {} and y["other_count"] == 0

    table = pa.table({"x": [1.0, 2.0], "y": pa.array([None, None], type=pa.float64())})
    parquet_path = tmp_path / "nulls.parquet"
    pq.write_table(table, parquet_path)
    profile = profile_dataset(parquet_path)
    y = _by_name(profile)["y"]
    assert y["kind"] == "numeric" and y["null_rate"] == 1.0
    assert y["min"] is None and y["mean"] is None and y["std"] is None
    assert set(y["quantiles"].values()) == {None}
    assert y["histogram"] == {"edges": [], "counts": []}
    json.dumps(profile, allow_nan=False)


def test_nan_and_infinity_never_reach_the_profile(tmp_path: Path) -> None:
    table = pa.table({"v": [1.0, float("nan"), float("inf"), -float("inf"), 2.0, None, 3.0]})
    path = tmp_path / "odd.parquet"
    pq.write_table(table, path)
    profile = profile_dataset(path)
    text = json.dumps(profile, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text
    v = _by_name(profile)["v"]
    assert v["null_count"] == 2  # None and NaN
    assert v["infinite_count"] == 2
    assert (v["min"], v["max"], v["mean"]) == (1.0, 3.0, 2.0)
    assert sum(v["histogram"]["counts"]) == 3


def test_single_value_has_no_std(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "one.csv", {"v": [2.5, None, None]})
    v = _by_name(profile_dataset(path))["v"]
    assert v["std"] is None
    assert v["histogram"] == {"edges": [2.5, 2.5], "counts": [1]}


def test_profile_is_json_serialisable(mixed_csv: Path) -> None:
    profile = profile_dataset(mixed_csv)
    text = json.dumps(profile, allow_nan=False)
    assert json.loads(text) == profile

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or type(value) in (str, int, float, bool)

    assert plain(profile)


def test_bins_parameter(mixed_csv: Path) -> None:
    amount = _by_name(profile_dataset(mixed_csv, bins=4))["amount"]
    histogram = amount["histogram"]
    assert isinstance(histogram, dict)
    assert len(histogram["edges"]) == 5 and len(histogram["counts"]) == 4
    for bad in (0, -3):
        with pytest.raises(BadInput, match="bins"):
            profile_dataset(mixed_csv, bins=bad)
    with pytest.raises(BadInput, match="top_k"):
        profile_dataset(mixed_csv, top_k=-1)


def test_caller_connection_is_used_and_left_open(mixed_csv: Path) -> None:
    con = duckdb.connect()
    try:
        profile = profile_dataset(mixed_csv, con=con)
        assert profile == profile_dataset(mixed_csv)
        assert con.execute("SELECT 42").fetchone() == (42,)
    finally:
        con.close()


def test_csv_missing_value_tokens_are_null(tmp_path: Path) -> None:
    path = tmp_path / "na.csv"
    path.write_text("v,w\n1.5,a\nNA,NULL\n2.5,\nN/A,b\n", encoding="utf-8")
    by_name = _by_name(profile_dataset(path))
    assert by_name["v"]["kind"] == "numeric"
    assert by_name["v"]["null_count"] == 2
    assert by_name["w"]["null_count"] == 2


def test_types_that_change_after_the_sniffed_sample(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    rows = [str(i) for i in range(30_000)] + ["not a number"]
    path.write_text("v\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (v,) = _columns(profile_dataset(path))
    assert v["kind"] == "categorical"
    assert v["distinct"] == 30_001


def test_datetime_columns(tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    path.write_text(
        "day,at,v\n2024-01-03,2024-01-03 10:00:00,1\n2023-12-31,2024-02-01 08:30:00,2\n,,3\n",
        encoding="utf-8",
    )
    assert column_types(path) == {"day": "datetime", "at": "datetime", "v": "numeric"}
    day = _by_name(profile_dataset(path))["day"]
    assert day["dtype"] == "DATE"
    assert (day["min"], day["max"], day["null_count"]) == ("2023-12-31", "2024-01-03", 1)


def test_column_types(mixed_csv: Path) -> None:
    assert column_types(mixed_csv) == {
        "amount": "numeric",
        "count": "numeric",
        "colour": "categorical",
        "flag": "boolean",
    }


# ---------------------------------------------------------------------------------------------
# Formats, paths and hashes


def test_detect_format_by_content_not_name(tmp_path: Path, mixed: dict[str, list[object]]) -> None:
    parquet_named_csv = write_parquet(tmp_path / "looks.csv", mixed)
    csv_named_parquet = write_csv(tmp_path / "looks.parquet", mixed)
    assert detect_format(parquet_named_csv) == "parquet"
    assert detect_format(csv_named_parquet) == "csv"


def test_relation_sql_quotes_paths(tmp_path: Path) -> None:
    quoted = write_csv(tmp_path / "it's.csv", {"v": [1, 2, 3]})
    sql = relation_sql(quoted, "csv")
    assert sql.startswith("read_csv('") and "it''s.csv'" in sql
    assert duckdb.connect().execute(f"SELECT sum(v) FROM {sql}").fetchone() == (6,)
    assert (
        relation_sql(tmp_path / "a.parquet", "parquet") == f"read_parquet('{tmp_path}/a.parquet')"
    )
    with pytest.raises(BadInput, match="format"):
        relation_sql(quoted, "xlsx")


def test_glob_characters_in_file_names_are_literal(tmp_path: Path) -> None:
    write_csv(tmp_path / "d1.csv", {"v": [100]})  # what d[1].csv would match as a pattern
    target = write_csv(tmp_path / "d[1].csv", {"v": [1, 2]})
    assert profile_dataset(target)["row_count"] == 2
    star = write_csv(tmp_path / "s*.csv", {"v": [1, 2, 3]})
    assert profile_dataset(star)["row_count"] == 3


def test_file_sha256(mixed_csv: Path, tmp_path: Path) -> None:
    assert file_sha256(mixed_csv) == hashlib.sha256(mixed_csv.read_bytes()).hexdigest()
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * (1 << 20) + 17))
    assert file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest()
    with pytest.raises(BadInput, match="does not exist"):
        file_sha256(tmp_path / "nope.csv")


# ---------------------------------------------------------------------------------------------
# Bad input


def _every_entry_point_refuses(path: Path, match: str) -> None:
    for call in (detect_format, column_types, profile_dataset):
        with pytest.raises(BadInput, match=match) as info:
            call(path)
        message = str(info.value)
        assert "\n" not in message
        assert str(path) in message


def test_missing_file(tmp_path: Path) -> None:
    _every_entry_point_refuses(tmp_path / "missing.csv", "does not exist")


def test_directory(tmp_path: Path) -> None:
    _every_entry_point_refuses(tmp_path, "is a directory")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    _every_entry_point_refuses(path, "has no rows")


def test_header_only_csv(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("a,b,c\n", encoding="utf-8")
    _every_entry_point_refuses(path, "has no rows")


def test_parquet_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], type=pa.float64())}), path)
    _every_entry_point_refuses(path, "has no rows")


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(256)) * 64)
    _every_entry_point_refuses(path, "neither Parquet nor")


def test_junk_that_cannot_be_sniffed(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    path = tmp_path / "noise.dat"
    path.write_bytes(bytes(int(b) for b in rng.integers(1, 256, 50_000)))
    _every_entry_point_refuses(path, "could not be read as CSV or Parquet")


def test_truncated_parquet(tmp_path: Path, mixed: dict[str, list[object]]) -> None:
    good = write_parquet(tmp_path / "good.parquet", mixed)
    path = tmp_path / "cut.parquet"
    path.write_bytes(good.read_bytes()[:200])
    _every_entry_point_refuses(path, "Parquet")


def test_ragged_csv(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    lines = ["a,b"] + [f"{i},{i}" for i in range(30_000)] + ["1,2,3,4,5"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")  # past the sniffed sample
    with pytest.raises(BadInput, match=r"reading it as CSV failed.*Line: 30002") as info:
        profile_dataset(path)
    assert "\n" not in str(info.value)
    # A ragged row inside the sniffed sample must not make DuckDB skip the rows above it.
    early = tmp_path / "early.csv"
    early.write_text("\n".join(lines[:101] + lines[-1:]) + "\n", encoding="utf-8")
    assert profile_dataset(early)["row_count"] == 101


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_unreadable_file(mixed_csv: Path) -> None:
    mixed_csv.chmod(0)
    try:
        _every_entry_point_refuses(mixed_csv, "permission denied")
        with pytest.raises(BadInput, match="permission denied"):
            file_sha256(mixed_csv)
    finally:
        mixed_csv.chmod(0o644)


def test_permission_denied_is_reported(mixed_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads files whatever their mode, so simulate what open() does for other users.
    real_open = Path.open

    def refusing_open(self: Path, *args: object, **kwargs: object) -> object:
        if self == mixed_csv:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refusing_open)
    _every_entry_point_refuses(mixed_csv, "permission denied")
    with pytest.raises(BadInput, match="permission denied"):
        file_sha256(mixed_csv)


# ---------------------------------------------------------------------------------------------
# Properties

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    values=st.lists(st.one_of(st.none(), finite, st.sampled_from([0.0, 1.0, -2.5])), min_size=1),
    bins=st.integers(min_value=1, max_value=12),
)
def test_histogram_counts_cover_every_value(
    tmp_path: Path, values: list[float | None], bins: int
) -> None:
    path = tmp_path / "h.parquet"
    pq.write_table(pa.table({"v": pa.array(values, type=pa.float64())}), path)
    (v,) = _columns(profile_dataset(path, bins=bins))
    present = [x for x in values if x is not None]
    assert v["null_count"] == len(values) - len(present)
    histogram = v["histogram"]
    edges, counts = histogram["edges"], histogram["counts"]
    assert sum(counts) == len(present)
    if present:
        assert len(counts) == len(edges) - 1 >= 1
        assert len(counts) <= bins
        assert edges[0] == min(present) and edges[-1] == max(present)
        assert all(a <= b for a, b in itertools.pairwise(edges))
        assert all(math.isfinite(e) for e in edges)
    else:
        assert edges == [] and counts == []
