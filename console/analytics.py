"""In-process DuckDB for analytic work: offline connections, SQL quoting, errors as one line."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import duckdb

from console.errors import BadInput

# No code path may fetch an extension: every connection, the store's included, starts with these.
OFFLINE: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
# DuckDB's buffer pool stops here and spills beyond it, so memory does not grow with the data.
MEMORY_LIMIT_BYTES = 256 << 20
_MAX_THREADS = 8
# Lines of a DuckDB message that are hints or echoed data, not the gist.
_STOP_LINES = ("Possible fixes", "Possible solutions", "The search space", "LINE ", "See also")

Connection = duckdb.DuckDBPyConnection
Row = tuple[object, ...]


def threads() -> int:
    """The cores this process may use, at most eight."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        available = os.cpu_count() or 1
    return max(1, min(_MAX_THREADS, available))


def mib(size: int) -> str:
    """A byte count as a DuckDB memory setting, e.g. '256MiB'."""
    return f"{max(1, size >> 20)}MiB"


def connect(temp_dir: Path | None = None) -> Connection:
    """An in-memory DuckDB for one piece of work: bounded memory, UTC, no extension downloads."""
    config: dict[str, str | bool | int | float | list[str]] = {
        **OFFLINE,
        "threads": threads(),
        "memory_limit": mib(MEMORY_LIMIT_BYTES),
        # Row order never matters to an aggregate; not keeping it lets scans and COPY stream.
        "preserve_insertion_order": False,
        # Spill files go to a directory of this process (DuckDB removes what it wrote), never cwd.
        "temp_directory": str(
            temp_dir or Path(tempfile.gettempdir()) / f"signoff-duckdb-{os.getpid()}"
        ),
    }
    try:
        con = quiet(duckdb.connect(":memory:", config=config))
        # Timestamps without an offset are UTC; ones with an offset are converted to UTC.
        con.execute("SET TimeZone = 'UTC'")
    except duckdb.Error as exc:  # pragma: no cover - only if DuckDB itself is broken
        raise BadInput(f"cannot start DuckDB: {one_line(exc)}") from exc
    return con


def open_read_only(path: Path) -> Connection:
    """A store's DuckDB file opened read-only for a read command: offline, one thread.

    DuckDB's own errors (a lock held by a writer, a damaged file) reach the caller as raised.
    """
    return duckdb.connect(str(path), read_only=True, config={**OFFLINE, "threads": 1})


def open_writable(path: Path) -> Connection:
    """A store's DuckDB file opened for a signed write without the ORM: offline, two threads
    (the store's own settings, as `console/store/backend.py` opens it)."""
    return duckdb.connect(str(path), config={**OFFLINE, "threads": 2})


def quiet(cursor: Connection) -> Connection:
    """The cursor, with DuckDB's progress bar (printed to stdout on slow queries) turned off."""
    with suppress(duckdb.Error):  # an old DuckDB without the setting
        cursor.execute("SET enable_progress_bar = false")
    return cursor


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
        # DuckDB expands *, ? and [...] in file names; a one-character class matches it literally.
        text = "".join(f"[{ch}]" if ch in "*?[" else ch for ch in text)
    return literal(text)


def parquet_source(paths: Sequence[Path]) -> str:
    """One relation over several Parquet files, columns matched by name."""
    if not paths:
        raise ValueError("no files to read")
    files = ", ".join(path_literal(p) for p in paths)
    return f"read_parquet([{files}], union_by_name = true)"


def one_line(exc: BaseException | None) -> str:
    """The gist of a DuckDB error on one line: its leading lines, without prefix, hints or data."""
    if exc is None:
        return "unknown error"
    kept: list[str] = []
    for raw in str(exc).splitlines():
        line = raw.strip()
        if not line or line.startswith("Original Line"):
            continue
        if line.startswith(_STOP_LINES) or len(kept) == 3:
            break
        head, sep, rest = line.partition(" Error: ")
        if sep and not kept and len(head) < 30:
            line = rest
        if line.startswith("Error when sniffing file"):
            continue  # the caller's message already names the file
        kept.append(line.rstrip("."))
    text = "; ".join(kept) or type(exc).__name__
    return text if len(text) <= 240 else text[:237] + "..."


def rows(con: Connection, sql: str, doing: str, *, memory_hint: str = "") -> list[Row]:
    """The query's rows; a DuckDB error is BadInput saying what was being done and why it failed."""
    try:
        return con.execute(sql).fetchall()
    except duckdb.OutOfMemoryException as exc:
        hint = f"; {memory_hint}" if memory_hint else ""
        raise BadInput(f"{doing} ran out of memory ({one_line(exc)}){hint}") from exc
    except duckdb.Error as exc:
        raise BadInput(f"{doing} failed: {one_line(exc)}") from exc


def count(con: Connection, sql: str, doing: str) -> int:
    """The single whole number a query such as `SELECT count(*) ...` returns."""
    found = rows(con, sql, doing)
    value = found[0][0] if found else 0
    return int(value) if isinstance(value, int | float) else 0


def listing(values: Sequence[object], limit: int = 5) -> str:
    """A few values for a message: strings quoted, an ellipsis when there are more."""
    shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values[:limit])
    return shown + (", …" if len(values) > limit else "")
