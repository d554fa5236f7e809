"""Verifies a log end to end: sequence, hashes, chain, key validity and every signature.

Needs nothing but the standard library and `cryptography`, so an auditor can run it anywhere.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from operator import attrgetter

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.entry import (
    ENTRY_FIELDS,
    GENESIS_PREV,
    EventRecord,
    signing_message,
)
from audit.key_history import KEY_ACTIONS, KeyHistory
from audit.linking import LINK_BATCH, chain_leaves, json_value, read_ahead
from audit.merkle import root_from_computed_hashes
from audit.times import event_instant as event_instant

# Below this many events a process pool costs more than it saves.
PARALLEL_THRESHOLD = 4000
CHUNK_SIZE = 4000
# Chunks awaiting a worker, per worker: enough to keep each busy, few enough that memory stays flat.
IN_FLIGHT = 4


@dataclass(frozen=True)
class Finding:
    seq: int
    reason: str


@dataclass
class VerifyResult:
    """The verdict: the first bad sequence number and why, or a clean log of `size` events."""

    size: int
    root: bytes
    findings: list[Finding]
    history: KeyHistory
    leaf_hashes: list[bytes]

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return first_finding(self.findings)


def first_finding(findings: list[Finding]) -> Finding | None:
    """The lowest bad sequence number; findings about checkpoints or exports (seq -1) after."""
    ordered = sorted(findings, key=lambda f: (f.seq < 0, f.seq))
    return ordered[0] if ordered else None


SignatureJob = tuple[int, bytes, bytes, bytes]  # seq, raw public key, message, signature


def verify_signatures(jobs: list[SignatureJob]) -> list[int]:
    """Sequence numbers whose signature does not verify (runs in a worker process)."""
    bad: list[int] = []
    keys: dict[bytes, Ed25519PublicKey] = {}
    for seq, raw, message, signature in jobs:
        key = keys.get(raw)
        if key is None:
            key = keys[raw] = Ed25519PublicKey.from_public_bytes(raw)
        try:
            key.verify(signature, message)
        except InvalidSignature:
            bad.append(seq)
    return bad


# Rows a forked worker inherits from the parent, by token: a task then names rows, not bytes.
_SHARED_ROWS: dict[int, list[EventRecord]] = {}


def verify_shared_rows(token: int, start: int, keys: list[bytes]) -> list[int]:
    """A forked worker's task: the signatures of rows start.. with the keys the parent chose."""
    rows = _SHARED_ROWS[token][start : start + len(keys)]
    return verify_signatures(
        [
            (row.seq, key, signing_message(row.entry), row.signature)
            for row, key in zip(rows, keys, strict=True)
        ]
    )


_tokens = count()


def pool_start_method() -> str:
    """How a process pool starts its workers here: only "fork" shares the parent's rows."""
    return multiprocessing.get_start_method(allow_none=False)


Progress = Callable[[int], None]


def verify_records(
    records: Iterable[EventRecord],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    expected_total: int | None = None,
) -> VerifyResult:
    """Check every record in order; signatures go to a process pool when the log is long."""
    history = KeyHistory()
    findings: list[Finding] = []
    leaves: list[bytes] = []
    prev = GENESIS_PREV
    last_time: datetime | None = None
    last_ts: str | None = None
    pending: list[SignatureJob] = []
    use_pool = (workers or os.cpu_count() or 1) > 1 and (expected_total or 0) >= PARALLEL_THRESHOLD
    pool = ProcessPoolExecutor(max_workers=workers or os.cpu_count()) if use_pool else None
    # Workers forked from this process see a complete list of rows: send indexes, not bytes.
    token = next(_tokens)
    if pool is not None and isinstance(records, list) and pool_start_method() == "fork":
        _SHARED_ROWS[token] = records
    # Many small chunks keep every worker busy to the end (no lone last chunk).
    chunk_size = (
        max(500, (expected_total or 0) // ((workers or os.cpu_count() or 1) * 32))
        if use_pool
        else CHUNK_SIZE
    )
    futures: deque[tuple[Future[list[int]], list[SignatureJob]]] = deque()
    in_flight = IN_FLIGHT * (workers or os.cpu_count() or 1)

    def collect() -> None:
        future, jobs = futures.popleft()
        try:
            bad = future.result()
        except Exception:  # noqa: BLE001
            # A worker died: never trust a missing answer, redo the chunk here.
            bad = verify_signatures(jobs)
        findings.extend(Finding(s, "signature does not verify") for s in bad)

    def flush() -> None:
        nonlocal pending
        if not pending:
            return
        if pool is not None and token in _SHARED_ROWS:
            start, keys = pending[0][0], [job[1] for job in pending]
            futures.append((pool.submit(verify_shared_rows, token, start, keys), pending))
        elif pool is not None:
            futures.append((pool.submit(verify_signatures, pending), pending))
        else:
            findings.extend(
                Finding(s, "signature does not verify") for s in verify_signatures(pending)
            )
        pending = []
        while len(futures) > in_flight:  # a long log streams through, never all held at once
            collect()

    try:
        expected = 0
        for run, read_error in read_ahead(records, LINK_BATCH):
            run_leaves, broken = chain_leaves(run, prev)
            for offset, (record, leaf) in enumerate(zip(run, run_leaves, strict=True)):
                linked = broken is None or offset < broken
                reason = _check_record(expected, record, prev, history, pending, leaf, linked)
                # Consecutive events often share a time: parse each distinct one once.
                when = last_time if record.ts == last_ts else event_instant(record.ts)
                if reason is None:
                    reason = _check_time(record.ts, when, last_time)
                if reason is not None:
                    findings.append(
                        Finding(expected if record.seq != expected else record.seq, reason)
                    )
                    break
                prev = record.entry_hash
                last_time, last_ts = when, record.ts
                leaves.append(leaf)
                if len(pending) >= chunk_size:
                    flush()
                if progress is not None and expected % 1000 == 999:
                    progress(expected + 1)
                expected += 1
            else:
                if read_error is not None:
                    raise read_error
                continue
            break
        flush()
        while futures:
            collect()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        _SHARED_ROWS.pop(token, None)
    if progress is not None:
        progress(len(leaves))
    return VerifyResult(len(leaves), root_from_computed_hashes(leaves), findings, history, leaves)


def _check_time(ts: str, when: datetime | None, last: datetime | None) -> str | None:
    """Time in the log never runs backwards (request expiry and reports read it as a clock)."""
    if when is None:
        return f"the time {ts!r} is not an ISO 8601 time"
    if last is not None and when < last:
        return f"the time goes backwards: {ts} is before the previous event's {last.isoformat()}"
    return None


_record_fields = attrgetter(*ENTRY_FIELDS)


def _check_record(
    expected: int,
    record: EventRecord,
    prev: str,
    history: KeyHistory,
    pending: list[SignatureJob],
    leaf: bytes,
    linked: bool,
) -> str | None:
    """Why `record` is invalid, or None; `linked` says its stored hash and prev are known good."""
    if record.seq != expected:
        return f"sequence gap or reordering: expected {expected}, found {record.seq}"
    try:
        entry = json_value(record.entry)
    except (ValueError, UnicodeDecodeError):
        return "the signed entry is not valid JSON"
    if not isinstance(entry, dict):
        return "the signed entry is not valid JSON"
    if tuple(map(entry.get, ENTRY_FIELDS)) != _record_fields(record):
        for name in ENTRY_FIELDS:
            if entry.get(name) != getattr(record, name):
                return f"the stored {name} differs from the signed entry"
    if entry.get("payload_sha256") != hashlib.sha256(record.payload).hexdigest():
        return "the payload does not match its signed digest"
    if entry.get("prev") != prev or (not linked and record.prev_hash != prev):
        return "the hash chain is broken: prev does not match the preceding entry"
    if not linked and leaf.hex() != record.entry_hash:
        return "the entry hash does not match the entry"
    try:
        payload = json_value(record.payload)
    except (ValueError, UnicodeDecodeError):
        return "the payload is not valid JSON"
    if not isinstance(payload, dict):
        return "the payload is not a JSON object"
    if record.seq == 0:
        # The genesis event registers the key it is signed with; check that before trusting it.
        invalid = history.apply(0, record.actor, record.action, payload)
        if invalid:
            return invalid
        invalid = history.check_signer(0, record.actor, record.keyid)
    else:
        invalid = history.check_signer(record.seq, record.actor, record.keyid)
        if invalid is None and record.action in KEY_ACTIONS:
            invalid = history.apply(record.seq, record.actor, record.action, payload)
    if invalid:
        return invalid
    key = history.keys[record.keyid]
    pending.append((record.seq, key.public_key, signing_message(record.entry), record.signature))
    return None


def iter_chunks(records: Iterable[EventRecord], size: int) -> Iterator[list[EventRecord]]:
    chunk: list[EventRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
