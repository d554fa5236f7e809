"""Event times as instants: the log orders events by them (stdlib only, light to import)."""

from __future__ import annotations

from datetime import UTC, datetime


def event_instant(ts: str) -> datetime | None:
    """An event's time as an aware UTC instant, or None when it is not ISO 8601."""
    try:
        when = datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def next_event_time(proposed: str, last: str | None) -> str:
    """The time the next event carries: `proposed`, or the last event's if that is later.

    Raises ValueError when `proposed` is not an ISO 8601 time.
    """
    when = event_instant(proposed)
    if when is None:
        raise ValueError(f"event time {proposed!r} is not an ISO 8601 UTC time")
    if last is not None:
        previous = event_instant(last)
        if previous is not None and when < previous:
            return last
    return proposed
