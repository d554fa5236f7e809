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
from dataclasses import dataclass, field
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
from audit.linking import LINK_BATCH, chain_leaves, json_value, read_ahead
from audit.merkle import root_from_computed_hashes
from audit.times import event_instant as event_instant

ADMIN_ROLE = "admin"
# The only actions `KeyHistory.apply` acts on after the genesis event; the rest it passes.
KEY_ACTIONS = frozenset(
    ("store.created", "user.added", "user.revoked", "user.role_changed", "key.rotated")
)
# Below this many events a process pool costs more than it saves.
PARALLEL_THRESHOLD = 4000
CHUNK_SIZE = 4000
# Chunks awaiting a worker, per worker: enough to keep each busy, few enough that memory stays flat.
IN_FLIGHT = 4


@dataclass
class KeyState:
    """What the log itself says about one key: whose it is and when it was valid."""

    keyid: str
    user: str
    public_key: bytes
    valid_from: int
    revoked_at: int | None = None


@dataclass
class UserState:
    name: str
    role: str
    added_at: int
    revoked_at: int | None = None


@dataclass
class KeyHistory:
    """Users and keys as established by the log's own signed events, replayed in order."""

    keys: dict[str, KeyState] = field(default_factory=dict)
    users: dict[str, UserState] = field(default_factory=dict)
    store_id: str | None = None
    origin: str | None = None

    def check_signer(self, seq: int, actor: str, keyid: str) -> str | None:
        """Why `keyid` may not sign for `actor` at `seq`, or None when it may."""
        key = self.keys.get(keyid)
        if key is None:
            return f"signed by key {keyid[:16]} that was never registered"
        if key.user != actor:
            return f"signed with {key.user}'s key but claims actor {actor}"
        if seq < key.valid_from:
            return f"signed by key {keyid[:16]} before it was registered"
        if key.revoked_at is not None and seq > key.revoked_at:
            return f"signed by key {keyid[:16]} after its revocation at {key.revoked_at}"
        user = self.users.get(actor)
        if user is None or (user.revoked_at is not None and seq > user.revoked_at):
            return f"actor {actor} was revoked before this event"
        return None

    def role_of(self, name: str) -> str | None:
        user = self.users.get(name)
        return user.role if user else None

    def apply(self, seq: int, actor: str, action: str, payload: dict[str, object]) -> str | None:
        """Replay a key-management event; returns why it is invalid, or None."""
        if action == "store.created":
            if seq != 0:
                return "store.created may only be the first event"
            admin = _as_dict(payload.get("admin"))
            name, raw = str(admin.get("name")), _hex(admin.get("public_key"))
            if name != actor or raw is None:
                return "genesis event must register its own signer as admin"
            self.store_id = str(payload.get("store_id"))
            self.origin = str(payload.get("origin"))
            self.users[name] = UserState(name, ADMIN_ROLE, 0)
            kid = _keyid(raw)
            self.keys[kid] = KeyState(kid, name, raw, 0)
            return None
        if seq == 0:
            return "the first event must be store.created"
        if (
            action in ("user.added", "user.revoked", "user.role_changed")
            and self.role_of(actor) != ADMIN_ROLE
        ):
            return f"{action} by {actor}, who is not an admin"
        if action == "user.added":
            name, raw = str(payload.get("name")), _hex(payload.get("public_key"))
            if raw is None or (name in self.users and self.users[name].revoked_at is None):
                return f"user.added for {name} is malformed or the user already exists"
            self.users[name] = UserState(name, str(payload.get("role")), seq)
            kid = _keyid(raw)
            if kid in self.keys:
                return f"key {kid[:16]} is already registered"
            self.keys[kid] = KeyState(kid, name, raw, seq + 1)
        elif action == "user.revoked":
            user = self.users.get(str(payload.get("name")))
            if user is None:
                return "user.revoked for an unknown user"
            user.revoked_at = seq
            for key in self.keys.values():
                if key.user == user.name and key.revoked_at is None:
                    key.revoked_at = seq
        elif action == "user.role_changed":
            user = self.users.get(str(payload.get("name")))
            if user is None:
                return "user.role_changed for an unknown user"
            user.role = str(payload.get("role"))
        elif action == "key.rotated":
            name = str(payload.get("name"))
            old = self.keys.get(str(payload.get("old_keyid")))
            raw = _hex(payload.get("public_key"))
            if old is None or old.user != name or raw is None:
                return "key.rotated names a key the user does not hold"
            if actor != name and self.role_of(actor) != ADMIN_ROLE:
                return f"key.rotated for {name} by {actor}, who is neither the user nor an admin"
            old.revoked_at = seq
            kid = _keyid(raw)
            if kid in self.keys:
                return f"key {kid[:16]} is already registered"
            self.keys[kid] = KeyState(kid, name, raw, seq + 1)
        return None


def _as_dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _hex(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


def _keyid(raw: bytes) -> str:
    # securesystemslib keyid convention, spelled out so this module needs only hashlib.
    body = f'{{"keytype":"ed25519","keyval":{{"public":"{raw.hex()}"}},"scheme":"ed25519"}}'
    return hashlib.sha256(body.encode()).hexdigest()


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
