"""Hashes and links runs of audit records in bulk, so the verifier's per-event Python stays small."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from audit.entry import EventRecord
from audit.merkle import leaf_hashes

# Records are hashed and their links compared this many at a time.
LINK_BATCH = 1024


def first_broken_link(records: list[EventRecord], leaves: list[bytes], prev: str) -> int | None:
    """Index of the first record whose stored hash or prev link is wrong; compared in bulk."""
    stored = [record.entry_hash for record in records]
    links = [record.prev_hash for record in records]
    computed = list(map(bytes.hex, leaves))
    expected_links = [prev, *stored[:-1]]
    if computed == stored and links == expected_links:
        return None
    return next(
        i
        for i, (link, want, mine, theirs) in enumerate(
            zip(links, expected_links, computed, stored, strict=True)
        )
        if link != want or mine != theirs
    )


def chain_leaves(records: list[EventRecord], prev: str) -> tuple[list[bytes], int | None]:
    """The hashing verify does for a run of records: leaf hashes and the first broken link."""
    leaves = leaf_hashes([record.entry for record in records])
    return leaves, first_broken_link(records, leaves, prev)


def read_ahead(
    records: Iterable[EventRecord], size: int
) -> Iterator[tuple[list[EventRecord], Exception | None]]:
    """Runs of records; a read error comes with the run before it, to be raised in its turn."""
    iterator = iter(records)
    while True:
        run: list[EventRecord] = []
        try:
            for record in iterator:
                run.append(record)
                if len(run) >= size:
                    break
        except Exception as exc:  # noqa: BLE001
            yield run, exc
            return
        if not run:
            return
        yield run, None


_decode_json = json.JSONDecoder().raw_decode


def json_value(data: bytes) -> object:
    """`json.loads` of UTF-8 bytes, skipping its wrappers when the text is a bare JSON value."""
    text = data.decode("utf-8")
    try:
        value, end = _decode_json(text)
    except ValueError:
        value, end = None, -1
    # Anything unusual (white space around it, an error) gets json.loads's own verdict.
    return value if end == len(text) else json.loads(text)
