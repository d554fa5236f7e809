"""What a model card holds, as plain frozen data that the Markdown, JSON and PDF renderers share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.registry.card_evidence_change import EvidenceChange

NOT_PROVIDED = "Not provided — to be filled by the model owner"


def finite_float(value: object) -> float | None:
    """A recorded number as a float; None for anything else, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class MetricRow:
    """One performance measure, with its interval and threshold when the run gave them."""

    name: str
    value: float | None
    lower: float | None
    upper: float | None
    level: float | None
    threshold: float | None
    rule: str | None  # ">=" or "<=": how the value must compare with the threshold
    status: str | None  # pass | warn | fail | info; None for training metrics
    check: str | None  # the validation check that measured it


@dataclass(frozen=True)
class ColumnSummary:
    name: str
    kind: str
    dtype: str
    null_rate: float | None
    summary: str  # e.g. "min 19, mean 40.9, max 75" or "salaried 59%, contract 20%, …"


@dataclass(frozen=True)
class DatasetSummary:
    sha256: str
    name: str
    registered: bool  # False when the store holds only the digest (no profile)
    format: str | None = None
    row_count: int | None = None
    column_count: int | None = None
    registered_at: str | None = None
    registered_by: str | None = None
    columns: list[ColumnSummary] = field(default_factory=list)


@dataclass(frozen=True)
class GroupResult:
    group: str
    values: dict[str, int | float | None]


@dataclass(frozen=True)
class FairnessAnalysis:
    """One fairness check of the latest run, disaggregated by the groups of an attribute."""

    check: str
    title: str  # e.g. "Demographic parity"
    attribute: str | None
    status: str
    value: float | None
    lower: float | None
    upper: float | None
    level: float | None
    threshold: float | None
    rule: str | None
    note: str  # what the value measures, when the check says (`detail["value_is"]`)
    metrics: list[str]  # column order of `groups[*].values`
    groups: list[GroupResult]


@dataclass(frozen=True)
class CheckRow:
    name: str
    category: str
    status: str
    value: float | None
    threshold: float | None
    rule: str | None


@dataclass(frozen=True)
class ValidationSummary:
    run_id: int
    status: str
    passed: bool
    stage: str | None
    dataset_name: str
    dataset_sha256: str
    target: str
    sensitive: str | None
    started_at: str
    finished_at: str
    actor: str
    report_sha256: str
    event_seq: int
    counts: dict[str, int]
    checks: list[CheckRow]


@dataclass(frozen=True)
class StageChange:
    occurred_at: str
    stage: str
    kind: str
    version: int
    replaced_version: int | None
    actor: str
    reason: str
    break_glass: bool
    request_id: int | None
    event_seq: int


@dataclass(frozen=True)
class ApprovalRow:
    request_id: int
    approver: str
    role: str
    decision: str
    decided_at: str
    comment: str
    void: bool
    void_reason: str
    event_seq: int


@dataclass(frozen=True)
class HumanField:
    """A card field a person writes; `value` is None while nobody has filled it."""

    name: str
    title: str
    value: str | None
    updated_at: str | None
    updated_by: str | None
    event_seq: int | None
    # How the value came to be here: "written by dana", "inherited from v2, not confirmed",
    # "inherited from v2, confirmed by dana"; None while the field is empty.
    origin: str | None = None

    @property
    def inherited(self) -> bool:
        return self.origin is not None and self.origin.startswith("inherited")

    @property
    def text(self) -> str:
        return self.value if self.value else NOT_PROVIDED


@dataclass(frozen=True)
class CardData:
    """The whole model card of one version, in plain data."""

    model: str
    version: int
    model_description: str
    version_description: str
    owner: str
    risk_tier: str
    registered_intended_use: str
    model_created_at: str
    task_type: str
    estimator_class: str
    library: str
    architecture: str
    hyperparameters: dict[str, object]
    params: dict[str, object]
    author: str
    created_at: str
    parent: int | None
    code_ref: str | None
    artifact_sha256: str
    artifact_format: str
    target: str
    features: list[dict[str, str]]
    tags: dict[str, str]
    current_stages: list[str]
    metrics: list[MetricRow]
    metrics_source: str  # "validation" or "training"
    training_metrics: dict[str, float]
    training_data: DatasetSummary
    evaluation_data: DatasetSummary | None
    fairness: list[FairnessAnalysis]
    validation: ValidationSummary | None
    stage_history: list[StageChange]
    approvals: list[ApprovalRow]
    human: dict[str, HumanField]
    missing: list[str]
    # The card against the version it inherited from (or its parent): (field, state) pairs,
    # states as `signoff card diff` names them; None for a version with no earlier one.
    changes_against: int | None = None
    changes: tuple[tuple[str, str], ...] = ()
    # While inherited fields await confirmation: the evidence their text was written against
    # beside the version's own (the checks whose outcome differs); None otherwise.
    evidence: EvidenceChange | None = None

    @property
    def title(self) -> str:
        return f"{self.model} v{self.version}"

    def field_text(self, name: str) -> str:
        return self.human[name].text

    def field_value(self, name: str) -> str | None:
        return self.human[name].value

    @property
    def evaluation_factors(self) -> list[str]:
        """The attributes results are disaggregated by, in the order the card shows them."""
        seen: list[str] = []
        for analysis in self.fairness:
            if analysis.attribute and analysis.attribute not in seen:
                seen.append(analysis.attribute)
        if self.validation and self.validation.sensitive and self.validation.sensitive not in seen:
            seen.append(self.validation.sensitive)
        return seen
