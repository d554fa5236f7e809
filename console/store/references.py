"""Which rows refer to which artifact blobs: what `signoff gc` keeps and `audit verify` checks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from console.files import file_sha256
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.models import (
    AuditEvent,
    ModelVersion,
    OutcomeBatch,
    PredictionLog,
    ValidationRun,
)


@dataclass(frozen=True)
class Reference:
    """One row that needs a blob: its digest, the row in words, and the event that wrote it."""

    digest: str
    row: str
    event_seq: int


def references(session: Session) -> list[Reference]:
    """Every row of the store that refers to an artifact blob."""
    registered = {
        subject: seq
        for subject, seq in session.exec(
            select(AuditEvent.subject, AuditEvent.seq).where(
                AuditEvent.action == "version.registered"
            )
        ).all()
    }
    found = [
        Reference(
            v.artifact_sha256,
            f"version {v.model}:{v.number}",
            registered.get(f"{v.model}:{v.number}", -1),
        )
        for v in session.exec(select(ModelVersion)).all()
    ]
    found += [
        Reference(r.report_sha256, f"validation run {r.id} ({r.model}:{r.version})", r.event_seq)
        for r in session.exec(select(ValidationRun)).all()
    ]
    found += [
        Reference(p.artifact_sha256, f"prediction log {p.id} ({p.model})", p.event_seq)
        for p in session.exec(select(PredictionLog)).all()
    ]
    found += [
        Reference(b.artifact_sha256, f"outcome batch {b.id} ({b.model})", b.event_seq)
        for b in session.exec(select(OutcomeBatch)).all()
    ]
    return found


@dataclass(frozen=True)
class ArtifactProblem:
    """A referenced blob that is missing or does not hash to its name."""

    event_seq: int
    reason: str


def artifact_problems(store: Store) -> list[ArtifactProblem]:
    """Every row whose artifact is missing or altered; each blob is hashed once."""
    with store.session() as session:
        found = references(session)
    artifacts = ArtifactStore(store.artifacts_dir)
    verdicts: dict[str, str | None] = {}
    problems: list[ArtifactProblem] = []
    for ref in found:
        if ref.digest not in verdicts:
            verdicts[ref.digest] = _blob_problem(artifacts, ref.digest)
        why = verdicts[ref.digest]
        if why is not None:
            problems.append(
                ArtifactProblem(ref.event_seq, f"the artifact of {ref.row} {why} ({ref.digest})")
            )
    return problems


def _blob_problem(artifacts: ArtifactStore, digest: str) -> str | None:
    path = artifacts.path_for(digest)
    if not path.is_file():
        return "is missing"
    try:
        actual = file_sha256(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None if actual == digest else "does not match its digest"
