"""What a card says about a version's latest validation run: metrics, fairness analyses, checks.

Each check's detail is read through `console.validation.details.details_of`. Metrics are the
run's `performance` checks that carry a value, named by the check (`performance.roc_auc` ->
`roc_auc`) unless the detail names another metric. Quantitative analyses are its `fairness`
checks: the per-group table of `fairness.groups`, and each parity check with the rate of every
compared group; the attribute is the detail's column, else the run's sensitive column.
"""

from __future__ import annotations

from console.registry.views import VersionView
from console.release.evidence import CheckView, ValidationView
from console.validation.details import FairnessGap, GroupResults, MetricEstimate, details_of
from console.validation.metrics import PARITY_RATES
from reports.card_model import (
    CheckRow,
    FairnessAnalysis,
    GroupResult,
    MetricRow,
    ValidationSummary,
    finite_float,
)


def _interval(check: CheckView) -> tuple[float | None, float | None, float | None]:
    """(lower, upper, level) of the check's confidence interval, when it recorded one."""
    found = details_of(check).confidence_interval()
    if found is None:
        return None, None, None
    return finite_float(found.low), finite_float(found.high), found.level


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
        value=finite_float(check.value),
        lower=lower,
        upper=upper,
        level=level,
        threshold=finite_float(check.threshold),
        rule=details_of(check).rule,
        status=check.status,
        check=check.name,
    )


def card_metrics(version: VersionView, run: ValidationView | None) -> tuple[list[MetricRow], str]:
    if run is not None:
        rows = [
            _metric_row(c)
            for c in run.by_category("performance")
            if finite_float(c.value) is not None
        ]
        return sorted(rows, key=lambda r: (r.name, r.check or "")), "validation"
    rows = [
        MetricRow(name, finite_float(value), None, None, None, None, None, None, None)
        for name, value in sorted(version.metrics.items())
    ]
    return rows, "training"


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


def fairness_analyses(run: ValidationView) -> list[FairnessAnalysis]:
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
                value=finite_float(check.value),
                lower=lower,
                upper=upper,
                level=level,
                threshold=finite_float(check.threshold),
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


def validation_summary(run: ValidationView) -> ValidationSummary:
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
                finite_float(c.value),
                finite_float(c.threshold),
                details_of(c).rule,
            )
            for c in run.checks
        ],
    )
