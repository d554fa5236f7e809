"""Prediction times a log may hold: from when each version first served the stage until now.

A row dated before its version first served the stage (by the stage history: the deployments
table, which the log proves) cannot be that version's production traffic, and a row dated
after the store clock plus a small skew has not happened yet. Ingest refuses a log holding
either, with counts and examples, unless the person says why with `--allow-backfill REASON`;
the reason and the counts are then recorded in the `monitoring.ingested` event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from console.analytics import connect, path_literal, rows
from console.auditing.monitoring_payloads import Backfill
from console.errors import BadInput
from console.freetext import check_text
from console.monitoring.logs import REQUEST_ID, TS, VERSION
from console.monitoring.windows import parse_store_time
from console.store.models import Deployment

CLOCK_SKEW = timedelta(minutes=5)
# Stage changes after which a version serves traffic in the stage (a canary serves a share).
SERVING_KINDS = ("promotion", "canary.started", "canary.step", "canary.completed", "rollback")
_SQL_TIME = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class DateRange:
    """How many rows of a log fall outside its serving range, with a few examples."""

    before_serving: int
    after_now: int
    examples: list[str]

    @property
    def outside(self) -> int:
        return self.before_serving + self.after_now


def check_backfill_reason(reason: str | None) -> None:
    if reason is not None:
        if not reason.strip():
            raise BadInput("--allow-backfill needs a reason saying why old or future rows belong")
        check_text("the backfill reason", reason)


def first_served(
    session: Session, model: str, stage: str, versions: Iterable[int]
) -> dict[int, str]:
    """When each version first served `stage` (store time); absent: it never did."""
    found = session.exec(
        select(Deployment).where(
            Deployment.model == model,
            Deployment.stage == stage,
            col(Deployment.kind).in_(SERVING_KINDS),
            col(Deployment.version).in_(list(versions)),
        )
    ).all()
    earliest: dict[int, str] = {}
    for row in found:
        if row.version not in earliest or row.occurred_at < earliest[row.version]:
            earliest[row.version] = row.occurred_at
    return earliest


def _literal(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.strftime(_SQL_TIME)}'"


def date_range(
    log: Path, versions: Iterable[int], served: dict[int, str] | None, now: str
) -> DateRange:
    """Count the log's rows dated before their version served (`served` None: no stage to
    check against) or after now plus the clock skew, reading the stored Parquet in DuckDB."""
    cases = (
        " ".join(
            f"WHEN {int(v)} THEN {TS} < {_literal(parse_store_time(served[v]))}"
            if v in served
            else f"WHEN {int(v)} THEN TRUE"
            for v in sorted(versions)
        )
        if served is not None
        else ""
    )
    early = f"(CASE {VERSION} {cases} ELSE FALSE END)" if cases else "FALSE"
    late = f"({TS} > {_literal(parse_store_time(now) + CLOCK_SKEW)})"
    source = f"read_parquet({path_literal(log)})"
    con = connect()
    try:
        ((before, after),) = rows(
            con,
            f"SELECT count(*) FILTER (WHERE {early}), count(*) FILTER (WHERE {late}) FROM {source}",
            "checking the log's dates",
        )
        shown = rows(
            con,
            f"SELECT {VERSION}, strftime({TS}, '%Y-%m-%dT%H:%M:%SZ'), {REQUEST_ID} FROM {source} "
            f"WHERE {early} OR {late} ORDER BY {TS} LIMIT 3",
            "checking the log's dates",
        )
    finally:
        con.close()
    examples = [f"v{v} at {ts}" + (f" ({rid})" if rid else "") for v, ts, rid in shown]
    return DateRange(_count(before), _count(after), examples)


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


def refuse_outside(
    found: DateRange, name: str, rows_: int, stage: str | None, served: dict[int, str]
) -> None:
    """BadInput naming the counts, the serving dates and examples, when any row is outside."""
    if not found.outside:
        return
    parts = []
    if found.before_serving:
        since = ", ".join(
            f"v{v} from {t[:16].replace('T', ' ')}" for v, t in sorted(served.items())
        )
        parts.append(
            f"{found.before_serving} are dated before their version served {stage} "
            f"({since or 'no version of the log ever served it'})"
        )
    if found.after_now:
        parts.append(f"{found.after_now} are dated after now (+{CLOCK_SKEW.seconds // 60} min)")
    raise BadInput(
        f"{name}: of {rows_:,} rows, {' and '.join(parts)}, e.g. {'; '.join(found.examples)}; "
        "nothing was stored (a backfill? say why with --allow-backfill REASON)"
    )


def checked_dates(
    session: Session,
    log: Path,
    model: str,
    stage: str | None,
    versions: Iterable[int],
    rows_: int,
    now: str,
    name: str,
    allow_backfill: str | None,
) -> Backfill | None:
    """Inside the ingest's transaction: refuse rows outside the serving range, or, with a
    backfill reason, accept them and return what the event records (reason and counts)."""
    versions = list(versions)
    served = first_served(session, model, stage, versions) if stage is not None else None
    found = date_range(log, versions, served, now)
    if allow_backfill is None:
        refuse_outside(found, name, rows_, stage, served or {})
        return None
    return {
        "reason": allow_backfill,
        "before_serving": found.before_serving,
        "after_now": found.after_now,
    }
