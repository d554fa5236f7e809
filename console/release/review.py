"""What a reviewer weighs before signing a request: the candidate beside the stage's champion.

The like-for-like number is the paired comparison the validation run computed (candidate and
champion on the same rows, `champion.not_worse`); the metric table beside it compares each
version's latest run, which may be on different data, and says so (`same_dataset`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from console.registry.card_diff import CardDiff, read_source_diff
from console.registry.card_reads import read_card_values
from console.registry.card_spec import FIELD_NAMES
from console.registry.views import VersionView, read_model, read_version
from console.release.policy_rules import Policy
from console.release.request_reads import RequestView, read_request
from console.release.validation_reads import (
    CheckView,
    ValidationView,
    read_latest_validation,
    read_validation_runs,
)
from console.store.rows import Rows
from console.validation.check_detail import Interval
from console.validation.details import details_as, details_of
from console.validation.metrics import direction, improves
from console.validation.run_details import ChampionComparison

if TYPE_CHECKING:
    from console.store.db import Store


@dataclass(frozen=True)
class MetricComparison:
    """One validated metric of the candidate, against the champion's latest run when it has one.

    `improves` says whether the difference goes the metric's good way (a smaller error is
    better, `direction` in words); None when the champion has no value to compare with.
    """

    check: str  # performance.<metric>
    metric: str
    status: str
    value: float
    interval: Interval | None
    champion_value: float | None
    delta: float | None
    improves: bool | None
    direction: str = "higher is better"


@dataclass(frozen=True)
class PairedComparison:
    """The candidate's champion check: both versions scored on the run's rows, paired.

    `champion_version` is the version the run compared with; `current` says whether it still
    holds the request's stage (a run against another version is not this review's comparison).
    """

    run_id: int
    dataset_name: str
    status: str
    detail: ChampionComparison
    current: bool


@dataclass(frozen=True)
class TrainingComparison:
    """A metric recorded at registration (in-sample), with its shift from the champion's."""

    metric: str
    value: float
    shift: float | None


@dataclass(frozen=True)
class ReviewEvidence:
    """A request, its candidate and champion versions, and how they compare.

    Metrics come from the latest validation runs; when the candidate's measured none, `training`
    holds the registration metrics instead. `card_changes` names the card fields whose text differs from
    the champion's card.
    """

    request: RequestView
    candidate: VersionView
    champion: VersionView | None
    candidate_run: ValidationView | None
    champion_run: ValidationView | None
    metrics: list[MetricComparison]
    training: list[TrainingComparison]
    failed_checks: list[str]
    card_changes: list[str]
    paired: PairedComparison | None = None
    # Whether both latest runs read the same file (by digest); None without a champion run.
    same_dataset: bool | None = None
    earlier_runs: list[ValidationView] = field(default_factory=list)
    # The candidate's card against the version it inherited from (or its parent): None for a
    # first version.
    card_diff: CardDiff | None = None

    @property
    def checks(self) -> list[CheckView]:
        """Every check of the candidate's latest run, with its status."""
        return self.candidate_run.checks if self.candidate_run is not None else []


def _measured(run: ValidationView | None) -> dict[str, CheckView]:
    if run is None:
        return {}
    return {c.name: c for c in run.by_category("performance") if c.value is not None}


def compare_metrics(
    candidate: ValidationView | None, champion: ValidationView | None
) -> list[MetricComparison]:
    """The candidate run's measured metrics by name, each against the champion run's."""
    mine, theirs = _measured(candidate), _measured(champion)
    rows = []
    for name, check in sorted(mine.items()):
        value = check.value or 0.0
        other = theirs.get(name)
        other_value = other.value if other is not None else None
        delta = value - other_value if other_value is not None else None
        rows.append(
            MetricComparison(
                check=name,
                metric=name.removeprefix("performance."),
                status=check.status,
                value=value,
                interval=details_of(check).confidence_interval(),
                champion_value=other_value,
                delta=delta,
                improves=improves(name, delta) if delta is not None else None,
                direction=direction(name),
            )
        )
    return rows


def changed_card_fields(rows: Rows, model: str, version: int, other: int) -> list[str]:
    """The card fields whose text differs between two versions of a model, by name."""
    mine, theirs = read_card_values(rows, model, version), read_card_values(rows, model, other)
    names = (set(mine) | set(theirs)) & set(FIELD_NAMES)
    return sorted(k for k in names if mine.get(k) != theirs.get(k))


def paired_comparison(
    run: ValidationView | None, champion: VersionView | None
) -> PairedComparison | None:
    """The run's `champion.not_worse` check as a paired comparison (None when it has none)."""
    check = run.check("champion.not_worse") if run is not None else None
    if run is None or check is None:
        return None
    detail = details_as(check, ChampionComparison)
    if detail is None:
        return None
    held = champion.number if champion is not None else None
    return PairedComparison(
        run.id, run.dataset_name, check.status, detail, detail.champion_version == held
    )


def review_evidence(store: Store, request_id: int) -> ReviewEvidence:
    """Everything the review screen shows about one request, read from the store."""
    from console.release.policy import load_policy
    from console.release.request_reads import read_log_time
    from console.store.rows import SessionRows

    policy = load_policy(store)
    with store.session() as session:
        rows = SessionRows(session.connection())
        return read_review(rows, policy, read_log_time(rows, store.clock()), request_id)


def read_review(rows: Rows, policy: Policy, now: str, request_id: int) -> ReviewEvidence:
    """`review_evidence` on plain rows, at `now` (the log's time)."""
    request = read_request(rows, policy, now, request_id)
    candidate = read_version(rows, request.model, request.version)
    holder = read_model(rows, request.model).stages.get(request.stage)
    champion = read_version(rows, request.model, holder) if holder else None
    candidate_run = read_latest_validation(rows, request.model, request.version)
    champion_run = (
        read_latest_validation(rows, request.model, champion.number)
        if champion is not None
        else None
    )
    metrics = compare_metrics(candidate_run, champion_run)
    training = []
    if not metrics:
        for name, value in sorted(candidate.metrics.items()):
            other = champion.metrics.get(name) if champion is not None else None
            training.append(
                TrainingComparison(name, value, value - other if other is not None else None)
            )
    return ReviewEvidence(
        request=request,
        candidate=candidate,
        champion=champion,
        candidate_run=candidate_run,
        champion_run=champion_run,
        metrics=metrics,
        training=training,
        failed_checks=[c.name for c in candidate_run.checks if c.status == "fail"]
        if candidate_run is not None
        else [],
        card_changes=changed_card_fields(rows, request.model, request.version, champion.number)
        if champion is not None
        else [],
        paired=paired_comparison(candidate_run, champion),
        same_dataset=candidate_run.dataset_sha256 == champion_run.dataset_sha256
        if candidate_run is not None and champion_run is not None
        else None,
        earlier_runs=[
            run
            for run in read_validation_runs(rows, request.model, request.version)
            if candidate_run is None or run.id != candidate_run.id
        ],
        card_diff=read_source_diff(rows, request.model, request.version),
    )
