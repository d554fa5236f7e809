"""A file a user brings (a prediction log or outcomes): read once into DuckDB, checked, staged.

Both ingestions parse the file once into scratch Parquet beside the artifacts, refuse what they
cannot use with a count and examples, write what they keep with DuckDB COPY, and adopt it as an
artifact that is removed again if the transaction recording it fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
from sqlmodel import Session

from audit.keys import Signer
from console.analytics import (
    Connection,
    connect,
    ident,
    listing,
    literal,
    one_line,
    parquet_source,
    path_literal,
    rows,
)
from console.errors import BadInput
from console.files import file_sha256
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.monitoring.logs import REQUEST_ID
from console.registry.dataset_files import relation_sql
from console.store.artifacts import ArtifactStore
from console.store.db import Store

EXAMPLES = 5
_SNIFF = 1 << 16
T = TypeVar("T")


def detect_log_format(path: Path) -> str:
    """parquet (magic bytes), json (.json/.jsonl/.ndjson or a leading brace) or csv."""
    try:
        if not path.exists():
            raise BadInput(f"file {path} does not exist; check the path")
        if not path.is_file():
            raise BadInput(f"{path} is not a regular file; give a CSV, Parquet or JSON lines file")
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except PermissionError as exc:
        raise BadInput(f"cannot read {path}: permission denied") from exc
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head.strip():
        raise BadInput(f"{path} is empty: it has no rows")
    if head.startswith(b"PAR1"):
        return "parquet"
    if path.suffix.lower() in (".json", ".jsonl", ".ndjson") or head.lstrip()[:1] in (b"{", b"["):
        return "json"
    if b"\x00" in head:
        raise BadInput(
            f"{path} is neither CSV, Parquet nor JSON lines (it holds binary data); "
            "export it as one of those"
        )
    return "csv"


@dataclass(frozen=True)
class RawFile:
    """The input parsed once: a relation DuckDB reads fast, and its columns' types."""

    source: str
    types: dict[str, str]
    format: str


def read_raw(con: Connection, path: Path, scratch: Path, text: Sequence[str] = ()) -> RawFile:
    """Parse CSV or JSON once into scratch Parquet (Parquet is read in place).

    CSV columns named in `text` are read as text, not sniffed: labels and ids keep what the
    file says ("yes" stays "yes" rather than becoming true, "007" stays "007").
    """
    fmt = detect_log_format(path)
    if fmt == "parquet":
        source = f"read_parquet({path_literal(path)})"
    else:
        target = scratch / "raw.parquet"
        attempts = (
            [_csv_reader(con, path, text, sample_all) for sample_all in (False, True)]
            if fmt == "csv"
            else [f"read_json({path_literal(path)}, format = 'auto')"]
        )
        error: duckdb.Error | None = None
        for reader in attempts:
            try:
                con.execute(
                    f"COPY (SELECT * FROM {reader}) TO {path_literal(target)} (FORMAT parquet)"
                )
                error = None
                break
            except duckdb.Error as exc:  # a late row that breaks sniffed types: sniff every row
                error = exc
        if error is not None:
            raise BadInput(f"{path.name} could not be read as {fmt}: {one_line(error)}")
        source = f"read_parquet({path_literal(target)})"
    described = rows(con, f"DESCRIBE SELECT * FROM {source}", f"reading the columns of {path.name}")
    return RawFile(source, {str(r[0]): str(r[1]) for r in described}, fmt)


def _csv_reader(con: Connection, path: Path, text: Sequence[str], sample_all: bool) -> str:
    reader = relation_sql(path, "csv", sample_all=sample_all)
    try:
        header = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as exc:
        raise BadInput(f"{path.name} could not be read as csv: {one_line(exc)}") from exc
    typed = [c for c in dict.fromkeys(text) if c in header]
    if not typed:
        return reader
    types = ", ".join(f"{literal(c)}: 'VARCHAR'" for c in typed)
    return reader[: -len(")")] + f", types = {{{types}}})"


def timestamp_sql(column: str, dtype: str) -> str:
    """The column as a UTC TIMESTAMP, NULL where it does not parse (offsets are honoured)."""
    upper = dtype.upper()
    if upper in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return f"({ident(column)} AT TIME ZONE 'UTC')"
    if upper.startswith("TIMESTAMP") or upper == "DATE":  # no zone: UTC already
        return f"CAST({ident(column)} AS TIMESTAMP)"
    return f"(TRY_CAST(CAST({ident(column)} AS VARCHAR) AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"


def integer_sql(column: str) -> str:
    """A whole number (1, 1.0, '1'), NULL for anything else."""
    number = f"TRY_CAST({ident(column)} AS DOUBLE)"
    return (
        f"(CASE WHEN {number} = round({number}) AND abs({number}) < 1e15 "
        f"THEN CAST({number} AS BIGINT) END)"
    )


def examples(
    con: Connection, source: str, column: str, where: str, limit: int = EXAMPLES
) -> list[str]:
    """A few distinct offending values of `column`, as text ('(empty)' for a missing one)."""
    found = rows(
        con,
        f"SELECT DISTINCT coalesce(CAST({ident(column)} AS VARCHAR), '(empty)') AS v "
        f"FROM {source} WHERE {where} ORDER BY v LIMIT {limit}",
        "collecting examples",
    )
    return [str(r[0])[:60] for r in found]


# ---- request ids -----------------------------------------------------------------------------


def refuse_repeated_ids(con: Connection, ids: str, name: str, why: str) -> None:
    """Refuse request ids (`ids`: a relation with a column `rid`) given more than once."""
    found = rows(
        con,
        f"SELECT count(*) OVER (), rid FROM (SELECT rid FROM {ids} GROUP BY rid "
        f"HAVING count(*) > 1) ORDER BY rid LIMIT {EXAMPLES}",
        "checking request ids",
    )
    if found:
        raise BadInput(
            f"{name}: {found[0][0]} request ids appear more than once "
            f"(e.g. {listing([str(r[1]) for r in found])}); {why}"
        )


def refuse_known_ids(
    con: Connection, ids: str, earlier: Sequence[Path], doing: str, refusal: str
) -> None:
    """Refuse request ids an earlier stored file (`earlier`) already holds; `refusal`: why."""
    if not earlier:
        return
    known = f"(SELECT {REQUEST_ID} FROM {parquet_source(earlier)})"
    found = rows(
        con,
        f"SELECT count(*) OVER (), rid FROM {ids} WHERE rid IN {known} ORDER BY rid "
        f"LIMIT {EXAMPLES}",
        doing,
    )
    if found:
        shown = listing([str(r[1]) for r in found])
        raise BadInput(refusal.format(count=found[0][0], shown=shown))


# ---- staging -----------------------------------------------------------------------------------


def stage_artifact(
    store: Store, work: Callable[[Connection, Path], tuple[T, Path]]
) -> tuple[T, str, Path]:
    """Run `work` on a DuckDB connection in a scratch directory beside the artifacts.

    `work` returns its result and the file it wrote there to keep; that file is kept beside the
    blobs (a `.staging-` file `signoff gc` clears if a kill leaves it) and hashed, outside the
    lock. Returns the result, the file's digest and where it waits for `recording_artifact`.
    """
    artifacts = ArtifactStore(store.artifacts_dir)
    with artifacts.staging() as scratch:
        con = connect(Path(scratch))
        try:
            result, kept = work(con, Path(scratch))
        finally:
            con.close()
        waiting = Path(f"{scratch}.kept")  # a sibling of the scratch folder: same prefix
        os.replace(kept, waiting)
    try:
        digest = file_sha256(waiting)
    except BaseException:
        waiting.unlink(missing_ok=True)
        raise
    return result, digest, waiting


@contextmanager
def recording_artifact(
    store: Store, signer: Signer, digest: str, staged: Path
) -> Iterator[Session]:
    """The transaction that records a staged artifact: it is moved in under the write lock and
    removed again if the transaction fails, so no blob another unit committed is ever lost."""
    try:
        with store.session() as session:
            require_actor(session, signer, Permission.INGEST)
            ArtifactStore(store.artifacts_dir).adopt_file_in(session, staged, digest)
            yield session
    finally:
        staged.unlink(missing_ok=True)  # moved in, or not wanted
