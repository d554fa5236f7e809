"""Time windows and what an evaluation of one window yields: statistics and crossings."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from audit.canonical import canonical_json
from console.errors import BadInput
from console.monitoring.logs import TS
from console.monitoring.settings import WINDOW_ORIGIN, Window
from console.validation.checks import plain

OK, ALERT, INSUFFICIENT = "ok", "alert", "insufficient"
_ORIGIN = datetime.fromisoformat(WINDOW_ORIGIN)
STORE_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class Crossing:
    """A threshold crossed in a window: what will be recorded as an alert."""

    kind: str  # drift.psi | drift.ks | drift.prediction | quality.* | performance.decay
    subject: str  # feature or metric
    value: float | None
    threshold: float
    detail: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {k: plain(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class WindowResult:
    """The statistics of one version over one window, and the thresholds they crossed."""

    kind: str  # drift | performance
    model: str
    version: int
    start: str
    end: str
    rows: int
    status: str  # ok | alert | insufficient
    result: dict[str, object]
    crossings: list[Crossing]
    basis_sha256: str

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.kind, self.version, self.start, self.end)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "model": self.model,
            "version": self.version,
            "start": self.start,
            "end": self.end,
            "rows": self.rows,
            "status": self.status,
            "result": plain(self.result),
            "crossings": [c.as_dict() for c in self.crossings],
            "basis_sha256": self.basis_sha256,
        }


# Rows a read uses: one stored with an absurd time (ingested before ingest checked the range)
# is skipped, so no stored value can end a drift, performance or check read.
READABLE_TS = f"{TS} >= TIMESTAMP '2000-01-01' AND {TS} < TIMESTAMP '9000-01-01'"


def bucket_sql(window: Window, column: str = TS) -> str:
    """The start of the window a timestamp falls in (windows aligned to Monday 2000-01-03)."""
    return f"time_bucket({window.sql_interval}, {column}, TIMESTAMP '{WINDOW_ORIGIN}')"


def window_start(moment: datetime, window: Window) -> datetime:
    """The start of the window holding `moment` (naive UTC), the same grid as `bucket_sql`."""
    elapsed = moment - _ORIGIN
    steps = elapsed // window.delta
    return _ORIGIN + steps * window.delta


def parse_since(text: str | None) -> datetime | None:
    """--since DATE: an ISO date or time (UTC unless it names an offset)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadInput(f"--since {text!r} is not a date; write e.g. 2026-09-01") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def store_time(moment: datetime) -> str:
    return moment.strftime(STORE_TIME)


def parse_store_time(text: str) -> datetime:
    return datetime.strptime(text, STORE_TIME)


def window_end(start: datetime, window: Window) -> datetime:
    return start + timedelta(hours=window.hours)


def basis_digest(files: Sequence[str], policy_sha256: str, window: Window) -> str:
    """What the statistics depend on: the artifacts read (by digest), the policy and window."""
    digests = sorted({Path(f).name for f in files})
    data = {"artifacts": digests, "policy_sha256": policy_sha256, "window": window.text}
    return hashlib.sha256(canonical_json(data)).hexdigest()


def status_of(rows: int, minimum: int, crossings: Sequence[Crossing]) -> str:
    if rows < minimum:
        return INSUFFICIENT
    return ALERT if crossings else OK
