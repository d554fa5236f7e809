"""Reads a long log once: records stream through the verifier, each kept only as its Event.

A reader that verifies the log and then needs its events (a report, `audit verify`'s table
check) would otherwise hold every stored record, bytes and all, beside the events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from audit.entry import EventRecord
from console.auditing.replay_entries import Event, to_event


class EventStream:
    """Iterate once (the verifier does); `events`, `leaves` and `last_ts` fill as it reads."""

    def __init__(self, records: Iterable[EventRecord]) -> None:
        self.events: list[Event] = []
        self.leaves: list[bytes] = []  # each record's stored entry hash
        self.last_ts = ""
        self._records = self._keep(records)

    def _keep(self, records: Iterable[EventRecord]) -> Iterator[EventRecord]:
        for record in records:
            self.events.append(to_event(record))
            self.leaves.append(bytes.fromhex(record.entry_hash))
            self.last_ts = record.ts
            yield record

    def __iter__(self) -> Iterator[EventRecord]:
        return self._records

    def drain(self) -> None:
        """Read whatever the verifier left (it stops at the first bad event)."""
        for _ in self._records:
            pass


__all__ = ["EventStream"]
