"""Everything a model card says about one version, gathered from the store through services.

`build_card` returns plain frozen dataclasses that the Markdown, JSON and PDF renderers share,
so the three formats always say the same thing. Nothing here reads the clock: every date is
one the store recorded, and the same store state always gives the same card.

What the card reads from a validation run (`console.release.evidence.latest_validation`), each
check's detail through `console.validation.details.details_of`:

- **Metrics** are its checks of category `performance` that carry a value, named by the check
  (`performance.roc_auc` -> `roc_auc`) unless the detail names another metric, with the
  detail's confidence interval and rule (`>=` or `<=`).
- **Quantitative analyses** are its checks of category `fairness`: the per-group table of
  `fairness.groups`, and each parity check with the rate of every compared group; the attribute
  is the detail's column, else the run's sensitive column.

Without a validation run the card shows the training metrics recorded at registration, and
says that they are in-sample.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace

from console.errors import NotFound
from console.registry.cards import FIELDS, card_completeness, card_field_views
from console.registry.views import VersionView, get_dataset, get_model
from console.release.evidence import CheckView, ValidationView, latest_validation, model_approvals
from console.release.history import history
from console.store.db import Store
from console.validation.details import FairnessGap, GroupResults, MetricEstimate, details_of
from console.validation.metrics import PARITY_RATES

NOT_PROVIDED = "Not provided — to be filled by the model owner"
PROFILE_COLUMNS_SHOWN = 40


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


def build_card(store: Store, model: str, version: int) -> CardData:
    """Read one version's card from the store."""
    model_view = get_model(store, model)
    row = next((v for v in model_view.versions if v.number == version), None)
    if row is None:
        raise NotFound(
            f"model {model!r} has no version {version}"
            + (f"; its versions are 1..{len(model_view.versions)}" if model_view.versions else "")
        )
    run = latest_validation(store, model, version)
    views = {v.field: v for v in card_field_views(store, model, version)}
    human = {
        spec.name: HumanField(
            spec.name,
            spec.title,
            views[spec.name].value if spec.name in views else None,
            views[spec.name].updated_at if spec.name in views else None,
            views[spec.name].updated_by if spec.name in views else None,
            views[spec.name].event_seq if spec.name in views else None,
        )
        for spec in FIELDS
    }
    metrics, source = _metrics(row, run)
    return CardData(
        model=model,
        version=version,
        model_description=model_view.description,
        version_description=row.description,
        owner=model_view.owner,
        risk_tier=model_view.risk_tier,
        registered_intended_use=model_view.intended_use,
        model_created_at=model_view.created_at,
        task_type=row.task_type,
        estimator_class=row.estimator_class,
        library=row.estimator_class.split(".", 1)[0],
        architecture=_architecture(row),
        hyperparameters=_hyperparameters(row.params),
        params=dict(sorted(row.params.items())),
        author=row.author,
        created_at=row.created_at,
        parent=row.parent,
        code_ref=row.code_ref,
        artifact_sha256=row.artifact_sha256,
        artifact_format=row.artifact_format,
        target=row.target,
        features=[dict(c) for c in row.input_schema],
        tags=dict(sorted(row.tags.items())),
        current_stages=sorted(row.stages),
        metrics=metrics,
        metrics_source=source,
        training_metrics=dict(sorted(row.metrics.items())),
        training_data=_dataset(store, row.train_dataset_sha256, row.train_dataset_sha256[:16]),
        evaluation_data=_evaluation_data(store, run) if run is not None else None,
        fairness=_fairness(run) if run is not None else [],
        validation=_validation(run) if run is not None else None,
        stage_history=[
            StageChange(
                d.occurred_at,
                d.stage,
                d.kind,
                d.version,
                d.replaced_version,
                d.actor,
                d.reason,
                d.break_glass,
                d.request_id,
                d.event_seq,
            )
            for d in history(store, model).changes
            if version in (d.version, d.replaced_version)
        ],
        approvals=[
            ApprovalRow(
                a.request_id,
                a.approver,
                a.role,
                a.decision,
                a.decided_at,
                a.comment,
                a.void,
                a.void_reason,
                a.event_seq,
            )
            for a in model_approvals(store, model, version)
        ],
        human=human,
        missing=card_completeness(store, model, version),
    )


# ---- model details ---------------------------------------------------------------------------


def _short(name: object) -> str:
    return str(name).rsplit(".", 1)[-1]


def _architecture(version: VersionView) -> str:
    steps = version.params.get("steps")
    if (
        isinstance(steps, list)
        and steps
        and all(isinstance(s, list) and len(s) == 2 for s in steps)
    ):
        chain = " → ".join(f"{s[0]} ({_short(s[1])})" for s in steps)
        return f"{_short(version.estimator_class)}: {chain}"
    return _short(version.estimator_class)


def _hyperparameters(params: dict[str, object]) -> dict[str, object]:
    """The final estimator's own parameters (a pipeline's last step), sorted by name."""
    steps = params.get("steps")
    if isinstance(steps, list) and steps and isinstance(steps[-1], list) and steps[-1]:
        prefix = f"{steps[-1][0]}__"
        own = {
            k[len(prefix) :]: v
            for k, v in params.items()
            if k.startswith(prefix) and "__" not in k[len(prefix) :]
        }
    else:
        own = {k: v for k, v in params.items() if "__" not in k}
    return dict(sorted(own.items()))


# ---- metrics ---------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _interval(check: CheckView) -> tuple[float | None, float | None, float | None]:
    """(lower, upper, level) of the check's confidence interval, when it recorded one."""
    found = details_of(check).confidence_interval()
    return (found.low, found.high, found.level) if found is not None else (None, None, None)


def metric_name(check: CheckView) -> str:
    """The metric the detail names, else the check's name without its category prefix."""
    detail = details_of(check)
    if isinstance(detail, MetricEstimate) and detail.metric:
        return detail.metric
    prefix = f"{check.category}."
    return check.name[len(prefix) :] if check.name.startswith(prefix) else check.name


def _metric_row(check: CheckView) -> MetricRow:
    lower, upper, level = _interval(check)
    return MetricRow(
        name=metric_name(check),
        value=_number(check.value),
        lower=lower,
        upper=upper,
        level=level,
        threshold=_number(check.threshold),
        rule=details_of(check).rule,
        status=check.status,
        check=check.name,
    )


def _metrics(version: VersionView, run: ValidationView | None) -> tuple[list[MetricRow], str]:
    if run is not None:
        rows = [
            _metric_row(c) for c in run.by_category("performance") if _number(c.value) is not None
        ]
        return sorted(rows, key=lambda r: (r.name, r.check or "")), "validation"
    rows = [
        MetricRow(name, _number(value), None, None, None, None, None, None, None)
        for name, value in sorted(version.metrics.items())
    ]
    return rows, "training"


# ---- data --------------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    number = _number(value)
    if number is None:
        return "-"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if number == int(number):
        return str(int(number))
    return f"{number:.4g}"


def _column_summary(column: dict[str, object]) -> ColumnSummary:
    kind = str(column.get("kind", ""))
    if kind == "numeric":
        summary = (
            f"min {_fmt(column.get('min'))}, mean {_fmt(column.get('mean'))}, "
            f"max {_fmt(column.get('max'))}"
        )
    else:
        frequencies = column.get("frequencies")
        if isinstance(frequencies, dict) and frequencies:
            total = sum(v for v in frequencies.values() if isinstance(v, int)) + int(
                _number(column.get("other_count")) or 0
            )
            top = sorted(
                ((str(k), int(v)) for k, v in frequencies.items() if isinstance(v, int)),
                key=lambda kv: (-kv[1], kv[0]),
            )
            shown = [f"{k} {100 * v / total:.0f}%" for k, v in top[:4]] if total else []
            more = len(top) - len(shown)
            summary = ", ".join(shown) + (f", {more} more" if more > 0 else "")
        else:
            distinct = column.get("distinct")
            summary = f"{distinct} distinct values" if distinct is not None else "-"
    return ColumnSummary(
        name=str(column.get("name", "")),
        kind=kind,
        dtype=str(column.get("dtype", "")),
        null_rate=_number(column.get("null_rate")),
        summary=summary,
    )


def _dataset(store: Store, digest: str, fallback_name: str) -> DatasetSummary:
    try:
        dataset = get_dataset(store, digest)
    except NotFound:
        return DatasetSummary(sha256=digest, name=fallback_name, registered=False)
    profile = json.loads(dataset.profile)
    columns = profile.get("columns", []) if isinstance(profile, dict) else []
    return DatasetSummary(
        sha256=digest,
        name=dataset.name,
        registered=True,
        format=dataset.format,
        row_count=dataset.row_count,
        column_count=dataset.column_count,
        registered_at=dataset.registered_at,
        registered_by=dataset.registered_by,
        columns=[
            _column_summary(c) for c in columns[:PROFILE_COLUMNS_SHOWN] if isinstance(c, dict)
        ],
    )


def _evaluation_data(store: Store, run: ValidationView) -> DatasetSummary:
    data = _dataset(store, run.dataset_sha256, run.dataset_name)
    rows = run.summary.get("rows")
    if data.row_count is None and isinstance(rows, int) and not isinstance(rows, bool):
        return replace(data, row_count=rows)
    return data


# ---- validation --------------------------------------------------------------------------------


def _groups(check: CheckView, metric: str) -> list[GroupResult]:
    """The per-group table of a fairness check: outcomes per group, or one rate per group."""
    detail = details_of(check)
    found: list[GroupResult] = []
    if isinstance(detail, GroupResults):
        found = [GroupResult(g, outcome.values()) for g, outcome in detail.groups.items()]
    elif isinstance(detail, FairnessGap) and detail.rates is not None:
        column = PARITY_RATES.get(metric, "rate")
        found = [GroupResult(g, {column: rate}) for g, rate in detail.rates.items()]
    return sorted(found, key=lambda g: g.group)


def _columns(groups: list[GroupResult]) -> list[str]:
    """The metrics of the groups in first-seen order, group sizes first."""
    seen: list[str] = []
    for group in groups:
        seen.extend(k for k in group.values if k not in seen)
    return sorted(seen, key=lambda k: (k != "count", seen.index(k)))


def _fairness(run: ValidationView) -> list[FairnessAnalysis]:
    analyses: list[FairnessAnalysis] = []
    # The per-group table first, then the checks that compare the groups.
    checks = sorted(run.by_category("fairness"), key=lambda c: metric_name(c) != "groups")
    for check in checks:
        metric = metric_name(check)
        groups = _groups(check, metric)
        detail = details_of(check)
        column = detail.column if isinstance(detail, GroupResults | FairnessGap) else None
        attribute = column or run.sensitive
        lower, upper, level = _interval(check)
        analyses.append(
            FairnessAnalysis(
                check=check.name,
                title=_humanize(metric),
                attribute=str(attribute) if attribute else None,
                status=check.status,
                value=_number(check.value),
                lower=lower,
                upper=upper,
                level=level,
                threshold=_number(check.threshold),
                rule=detail.rule,
                note=(detail.value_is or "") if isinstance(detail, GroupResults) else "",
                metrics=_columns(groups),
                groups=groups,
            )
        )
    return analyses


def _humanize(metric: str) -> str:
    if metric == "groups":
        return "Results per group"
    words = metric.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


def _validation(run: ValidationView) -> ValidationSummary:
    counts: dict[str, int] = {}
    for check in run.checks:
        counts[check.status] = counts.get(check.status, 0) + 1
    return ValidationSummary(
        run_id=run.id,
        status=run.status,
        passed=run.passed,
        stage=run.stage,
        dataset_name=run.dataset_name,
        dataset_sha256=run.dataset_sha256,
        target=run.target,
        sensitive=run.sensitive,
        started_at=run.started_at,
        finished_at=run.finished_at,
        actor=run.actor,
        report_sha256=run.report_sha256,
        event_seq=run.event_seq,
        counts=dict(sorted(counts.items())),
        checks=[
            CheckRow(
                c.name,
                c.category,
                c.status,
                _number(c.value),
                _number(c.threshold),
                details_of(c).rule,
            )
            for c in run.checks
        ],
    )
