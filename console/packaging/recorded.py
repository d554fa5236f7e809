"""A package held against the store: a valid signature proves who signed, not what was registered."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import col, select

from audit.canonical import sha256_hex
from audit.excerpt import ExcerptCheck
from audit.merkle import root_from_leaf_hashes
from console.packaging.attestation import ARTIFACT_NAMES
from console.store.db import Store
from console.store.models import AuditEvent, ModelVersion, RegisteredModel, ValidationRun

VALIDATION_REPORT = "validation_report.json"


def recorded_mismatches(
    store: Store, facts: Mapping[str, object], members: Mapping[str, bytes]
) -> list[str]:
    """Where the package differs from what the store recorded for the version it names.

    The model and version must exist, the artifact (in the package and as attested) must be
    the version's registered artifact, and the training data and validation report the ones
    the store recorded for it. A package re-signed around another version's artifact fails here.
    """
    model, version = facts.get("model"), facts.get("version")
    if not isinstance(model, str) or not isinstance(version, int) or isinstance(version, bool):
        return []  # the manifest's own problems are already named
    with store.session() as session:
        known = session.get(RegisteredModel, model)
        row = session.get(ModelVersion, (model, version))
        reports = set(
            session.exec(
                select(ValidationRun.report_sha256).where(
                    ValidationRun.model == model, ValidationRun.version == version
                )
            ).all()
        )
    if known is None:
        return [f"model {model!r} is not in this store"]
    if row is None:
        return [f"{model}:{version} is not in this store (the model has no such version)"]
    ref = f"{model}:{version}"
    problems: list[str] = []
    name = ARTIFACT_NAMES.get(row.artifact_format, "model.skops")
    data = members.get(name)
    if data is None:
        problems.append(f"{name} is missing: the store recorded a {row.artifact_format} for {ref}")
    elif sha256_hex(data) != row.artifact_sha256:
        problems.append(
            f"{name} is not the artifact the store recorded for {ref} "
            f"(sha256 {sha256_hex(data)[:12]}…, recorded {row.artifact_sha256[:12]}…)"
        )
    attested = facts.get("artifact_sha256")
    if attested is not None and attested != row.artifact_sha256:
        problems.append(f"the attested artifact digest is not the one the store recorded for {ref}")
    dataset = facts.get("training_dataset_sha256")
    if dataset is not None and dataset != row.train_dataset_sha256:
        problems.append(f"the attested training data is not the one the store recorded for {ref}")
    report = members.get(VALIDATION_REPORT)
    if report is not None and sha256_hex(report) not in reports:
        problems.append(f"{VALIDATION_REPORT} is not a report the store recorded for {ref}")
    return problems


def checkpoint_mismatches(store: Store, excerpt: ExcerptCheck) -> list[str]:
    """Is the package's checkpoint one of this store's log (its root over as many events)?"""
    with store.session() as session:
        hashes = session.exec(
            select(AuditEvent.entry_hash)
            .where(AuditEvent.seq < excerpt.size)
            .order_by(col(AuditEvent.seq))
        ).all()
    if len(hashes) != excerpt.size:
        return [
            f"the package's checkpoint covers {excerpt.size} events; this store has {len(hashes)}"
        ]
    if root_from_leaf_hashes([bytes.fromhex(h) for h in hashes]) != excerpt.root:
        return ["the package's checkpoint is not of this store's log (another Merkle root)"]
    return []
