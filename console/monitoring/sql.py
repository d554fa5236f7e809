"""DuckDB plumbing shared by the monitoring modules: connections, quoting, errors, labels."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import duckdb

from console.errors import BadInput

# DuckDB's buffer pool stops here and spills beyond it, so memory does not grow with the logs.
MEMORY_LIMIT = "256MiB"
_MAX_THREADS = 8
Row = tuple[object, ...]


def connect(temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for one piece of work: bounded memory, UTC, no extension downloads."""
    try:
        threads = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        threads = os.cpu_count() or 1
    config: dict[str, str | bool | int | float | list[str]] = {
        "threads": max(1, min(_MAX_THREADS, threads)),
        "memory_limit": MEMORY_LIMIT,
        "preserve_insertion_order": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    # Spill files go to a directory of this process (DuckDB removes what it wrote), never cwd.
    config["temp_directory"] = str(
        temp_dir or Path(tempfile.gettempdir()) / f"signoff-duckdb-{os.getpid()}"
    )
    con = duckdb.connect(":memory:", config=config)
    with suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")
    # Timestamps without an offset are UTC; ones with an offset are converted to UTC.
    con.execute("SET TimeZone = 'UTC'")
    return con


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def double(value: float) -> str:
    # A string cast parses the shortest round-trip repr back to exactly the same double.
    return f"CAST('{value!r}' AS DOUBLE)"


def path_literal(path: Path) -> str:
    """The path as a SQL string that DuckDB reads as this one file, never as a glob pattern."""
    text = str(path)
    if any(ch in text for ch in "*?["):
        text = "".join(f"[{ch}]" if ch in "*?[" else ch for ch in text)
    return literal(text)


def parquet_source(paths: Sequence[Path]) -> str:
    """One relation over several Parquet files, columns matched by name."""
    if not paths:
        raise ValueError("no files to read")
    files = ", ".join(path_literal(p) for p in paths)
    return f"read_parquet([{files}], union_by_name = true)"


def label_text(expression: str, dtype: str = "VARCHAR") -> str:
    """A class label as text, the same whether it was written 1, 1.0 or '1' (booleans: true)."""
    if dtype.upper() == "BOOLEAN":
        return f"CAST({expression} AS VARCHAR)"
    number = f"TRY_CAST({expression} AS DOUBLE)"
    return (
        f"CASE WHEN {number} IS NOT NULL AND isfinite({number}) AND {number} = round({number}) "
        f"AND abs({number}) < 1e15 THEN CAST(CAST({number} AS BIGINT) AS VARCHAR) "
        f"ELSE CAST({expression} AS VARCHAR) END"
    )


def label_of(value: object) -> str:
    """The Python twin of `label_text`, for labels the estimator or a report names."""
    if isinstance(value, bool):
        return str(value).lower()
    try:
        number = float(str(value))
    except ValueError:
        return str(value)
    if number == number and abs(number) < 1e15 and number == round(number):
        return str(int(number))
    return str(value)


def one_line(exc: BaseException) -> str:
    """The gist of a DuckDB error on one line."""
    for raw in str(exc).splitlines():
        line = raw.strip()
        if line:
            head, sep, rest = line.partition(" Error: ")
            text = rest if sep and len(head) < 30 else line
            return text if len(text) <= 200 else text[:197] + "..."
    return type(exc).__name__


def rows(con: duckdb.DuckDBPyConnection, sql: str, doing: str) -> list[Row]:
    try:
        return con.execute(sql).fetchall()
    except duckdb.OutOfMemoryException as exc:
        raise BadInput(f"{doing} ran out of memory ({one_line(exc)})") from exc
    except duckdb.Error as exc:
        raise BadInput(f"{doing} failed: {one_line(exc)}") from exc


def listing(values: Sequence[object], limit: int = 5) -> str:
    shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values[:limit])
    return shown + (", …" if len(values) > limit else "")
