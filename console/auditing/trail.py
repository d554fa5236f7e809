"""Audit services on a store: verify the log, issue checkpoints, export it, and page through it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import col, select

from audit import checkpoint as checkpoints
from audit.chain import Finding, VerifyResult, first_finding, verify_records
from audit.export_format import (
    CHECKPOINT_FILE,
    EVENTS_FILE,
    KEYS_FILE,
    record_to_json,
)
from audit.keys import Signer
from audit.note import NoteError
from audit.release_registry import export_keys_document, registered_release_keys
from console.auditing import catalogue as actions
from console.auditing.events import EventView, read_events
from console.auditing.log import append_event, iter_records, log_size
from console.auditing.log_stream import EventStream
from console.auditing.state_check import Difference, state_differences
from console.errors import BadInput
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.store.db import Store
from console.store.keys import next_id
from console.store.models import Checkpoint, StoreInfo
from console.store.references import artifact_problems
from console.store.rows import SessionRows
from console.store.staged_output import StagedOutput, staged_output


@dataclass(frozen=True)
class Verification:
    size: int
    root_hex: str
    findings: list[Finding]
    checkpoint_checked: bool
    differences: list[Difference] = field(default_factory=list)  # tables against the log

    @property
    def ok(self) -> bool:
        return not self.findings and not self.differences

    @property
    def first(self) -> Finding | None:
        return first_finding(self.findings)

    def failure_line(self) -> str:
        """The first failure in one line: a bad event, a checkpoint, or a table that differs."""
        first = self.first
        if first is not None:
            where = f"sequence {first.seq}" if first.seq >= 0 else "checkpoint"
            return f"FAILED at {where}: {first.reason}"
        if self.differences:
            more = len(self.differences) - 1
            extra = f" ({more} more difference(s); --json lists all)" if more else ""
            return f"FAILED: the store differs from its log: {self.differences[0].line()}{extra}"
        return ""

    def as_dict(self) -> dict[str, object]:
        first = self.first
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root_hex,
            "checkpoint_checked": self.checkpoint_checked,
            "first_bad_seq": first.seq if first else None,
            "reason": first.reason if first else None,
            "differences": [d.as_dict() for d in self.differences],
        }


def verify_store(
    store: Store,
    *,
    checkpoint_note: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Verification:
    """Recompute every hash, the chain, the root and every signature; hold it to a checkpoint."""
    # Read the log in one snapshot so a concurrent writer cannot tear the view (nor wait).
    # Records stream through the verifier; only their events stay, for the table check.
    with store.snapshot(), store.session() as session:
        total = log_size(session)
        log = EventStream(iter_records(session))
        step = (lambda done: progress(done, total)) if progress else None
        result = verify_records(log, workers=workers, progress=step, expected_total=total)
    findings = list(result.findings)
    findings += [Finding(p.event_seq, p.reason) for p in artifact_problems(store)]
    own = latest_checkpoint(store)  # a log cut below a checkpoint the store issued is a rollback
    for note in (checkpoint_note, own.note if own else None):
        finding = checkpoints.check_extension(result, note) if note is not None else None
        if finding is not None and finding not in findings:
            findings.append(finding)
    differences = state_differences(store, log.events) if result.ok else []
    return Verification(
        result.size, result.root.hex(), findings, checkpoint_note is not None, differences
    )


def _verified_log(store: Store) -> VerifyResult:
    with store.session() as session:
        records = list(iter_records(session))
    return verify_records(records, expected_total=len(records))


def issue_checkpoint(store: Store, signer: Signer, output: Path | None = None) -> str:
    """Sign the current size and root; the store keeps every checkpoint it issued.

    With `output`, the note is written there and recorded together or not at all.
    """
    if output is None:
        return _issue(store, signer, None)
    with staged_output(output) as staged:  # opened before any work: a bad path costs nothing
        return _issue(store, signer, staged)


def _issue(store: Store, signer: Signer, staged: StagedOutput | None) -> str:
    result = _verified_log(store)
    if not result.ok:
        first = result.first
        assert first is not None
        raise BadInput(
            f"refusing to checkpoint a log that does not verify (sequence {first.seq}: "
            f"{first.reason}); run `signoff audit verify`"
        )
    with store.session() as session:
        require_actor(session, signer, Permission.CHECKPOINT)
        origin = session.get(StoreInfo, "origin")
        assert origin is not None
        note = checkpoints.issue(
            origin.value, result.size, result.root, signer.name, signer.private_key
        )
        checkpoint_id = next_id(session, Checkpoint)
        session.add(
            Checkpoint(
                id=checkpoint_id,
                size=result.size,
                root_hex=result.root.hex(),
                note=note,
                issued_at=store.clock(),
                issued_by=signer.name,
            )
        )
        append_event(
            session,
            signer,
            actions.AUDIT_CHECKPOINT,
            f"checkpoint:{checkpoint_id}",
            {"size": result.size, "root": result.root.hex(), "origin": origin.value},
            ts=store.clock(),
        )
        if staged is not None:
            staged.write(note.encode("utf-8"))
            staged.publish()  # last step before the commit (see console.store.staged_output)
    return note


def latest_checkpoint(store: Store) -> Checkpoint | None:
    with store.session() as session:
        row = session.exec(select(Checkpoint).order_by(col(Checkpoint.id).desc())).first()
        if row is not None:
            session.expunge(row)
        return row


def read_checkpoint_file(path: Path) -> str:
    try:
        note = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read checkpoint {path}: {exc}") from exc
    if "\n\n" not in note:
        raise BadInput(f"{path} is not a signed checkpoint note")
    return note


def export_log(store: Store, directory: Path) -> tuple[int, Path]:
    """Write events.jsonl, keys.json (users' keys, then release keys) and the latest checkpoint
    for an offline verifier."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create {directory}: {exc.strerror or exc}") from exc
    if (directory / EVENTS_FILE).exists():
        raise BadInput(f"{directory} already holds an export; choose an empty directory")
    with store.session() as session:
        records = list(iter_records(session))
    result = verify_records(records, expected_total=len(records))
    with (directory / EVENTS_FILE).open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record_to_json(record) + "\n")
    keys = export_keys_document(result.history, registered_release_keys(records)[0])
    (directory / KEYS_FILE).write_text(json.dumps(keys, indent=2, sort_keys=True), encoding="utf-8")
    latest = latest_checkpoint(store)
    if latest is not None:
        (directory / CHECKPOINT_FILE).write_text(latest.note, encoding="utf-8")
    return len(records), directory


def list_events(
    store: Store,
    *,
    model: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    actions: Sequence[str] = (),
    before: int | None = None,
    limit: int = 50,
    newest_first: bool = True,
) -> list[EventView]:
    """A page of the log (keyset pagination on seq), filtered: `read_events` in a unit of work."""
    with store.session() as session:
        return read_events(
            SessionRows(session.connection()),
            model=model,
            actor=actor,
            action=action,
            actions=actions,
            before=before,
            limit=limit,
            newest_first=newest_first,
        )


def audit_size(store: Store) -> int:
    with store.session() as session:
        return log_size(session)


__all__ = ["NoteError", "Verification", "export_log", "issue_checkpoint", "verify_store"]
