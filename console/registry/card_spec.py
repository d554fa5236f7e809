"""The card fields a person writes, by name, and what a version's card still lacks, in plain SQL."""

from __future__ import annotations

from dataclasses import dataclass

from console.release.validation_reads import read_latest_validation
from console.store.rows import Rows

EVIDENCE_VALIDATION = "validation"
EVIDENCE_FAIRNESS = "fairness"
# Inherited text awaits confirmation while the version's evidence differs from its source's.
EVIDENCE_CHANGED = "inherited-text-review"


@dataclass(frozen=True)
class FieldSpec:
    """One human-written card field: its dotted name, its heading, and the question it answers."""

    name: str
    title: str
    question: str
    multiline: bool = True


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "intended_use.primary_uses",
        "Primary intended uses",
        "What the model is for, and which decisions it supports.",
    ),
    FieldSpec(
        "intended_use.primary_users",
        "Primary intended users",
        "Who uses the model's outputs, and in which setting.",
    ),
    FieldSpec(
        "intended_use.out_of_scope",
        "Out-of-scope uses",
        "Uses the model must not be put to.",
    ),
    FieldSpec(
        "factors",
        "Relevant factors",
        "Groups, instruments and environments whose differences can change its performance.",
    ),
    FieldSpec(
        "ethical_considerations.risks",
        "Risks",
        "Harms the model's use could cause to people, and to whom.",
    ),
    FieldSpec(
        "ethical_considerations.mitigations",
        "Mitigations",
        "What is done to prevent or limit those harms.",
    ),
    FieldSpec(
        "caveats_and_recommendations",
        "Caveats and recommendations",
        "Known limitations, and advice to the people who use or maintain the model.",
    ),
    FieldSpec(
        "license",
        "License",
        "An SPDX license identifier (e.g. apache-2.0) or 'proprietary'.",
        multiline=False,
    ),
    FieldSpec(
        "contact",
        "Contact",
        "Where to send questions or report a problem with the model.",
        multiline=False,
    ),
)
FIELD_NAMES: tuple[str, ...] = tuple(spec.name for spec in FIELDS)


def read_card_completeness(rows: Rows, model: str, version: int) -> list[str]:
    """Empty fields in card order, then `validation` and `fairness` evidence still missing, then
    `inherited-text-review` while unconfirmed inherited text is contradicted by the version's
    validation (`card_evidence_change`)."""
    from console.registry.card_evidence_change import read_evidence_change

    filled = {
        name
        for name, value in rows.all(
            "SELECT field, value FROM card_fields WHERE model = :model AND version = :version",
            {"model": model, "version": version},
        )
        if value
    }
    missing = [name for name in FIELD_NAMES if name not in filled]
    run = read_latest_validation(rows, model, version)
    if run is None:
        missing.append(EVIDENCE_VALIDATION)
    elif run.sensitive and not run.by_category("fairness"):
        missing.append(EVIDENCE_FAIRNESS)
    change = read_evidence_change(rows, model, version)
    if change is not None and change.contradicted:
        missing.append(EVIDENCE_CHANGED)
    return missing
