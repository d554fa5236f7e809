"""The validation section of a model report: runs, charts and check tables of the latest run."""

from __future__ import annotations

from console.release.evidence import CheckView, ValidationView
from console.validation.details import FairnessGap, GroupResults, details_as, details_of
from reports.charts import MetricBar, group_chart, metrics_chart, psi_chart
from reports.pdf_layout import Story
from reports.pdf_styles import WARN_FILL, WIDTH, status_cell
from reports.report_model import ModelScope
from reports.report_text import as_float, number, when


def _metric_bars(run: ValidationView) -> list[MetricBar]:
    bars = []
    for check in run.by_category("performance"):
        value = as_float(check.value)
        if value is None or not 0.0 <= value <= 1.0:
            continue
        low, high = _interval(check)
        bars.append(
            MetricBar(
                check.name.removeprefix("performance."),
                value,
                low,
                high,
                as_float(check.threshold),
                details_of(check).rule,
                check.status,
            )
        )
    return bars


def _interval(check: CheckView) -> tuple[float | None, float | None]:
    ci = details_of(check).confidence_interval()
    return (ci.low, ci.high) if ci is not None else (None, None)


def validation_section(story: Story, scope: ModelScope) -> None:
    snap, s = scope.snapshot, story.s
    story.heading("3. Validation results")
    runs = snap.runs_of(scope.model, scope.version)
    run = scope.run
    if run is None:
        story.para(
            f"No validation run of v{scope.version} was recorded before log size {snap.size}.",
            s.note,
        )
        return
    story.grid(
        ["Run", "Finished", "By", "Dataset", "Status", "Report sha256", "Event"],
        [
            [
                str(r.id),
                when(r.finished_at),
                r.actor,
                r.dataset_name,
                status_cell(s, r.status),
                r.report_sha256,
                f"#{r.event_seq}",
            ]
            for r in runs
        ],
        [0.05, 0.14, 0.07, 0.25, 0.08, 0.33, 0.08],
        mono=(5,),
    )
    counts = ", ".join(
        f"{sum(1 for c in run.checks if c.status == k)} {k}"
        for k in ("pass", "warn", "fail", "info")
    )
    story.para(
        f"The latest run, {run.id}, is the evidence the promotion gates read. It checked "
        f"v{scope.version} on {run.dataset_name} (sha256 `{run.dataset_sha256}`), target "
        f"`{run.target}`"
        + (f", sensitive attribute `{run.sensitive}`" if run.sensitive else "")
        + f", with the thresholds of {run.stage or 'the policy'}: {counts}."
    )
    bars = _metric_bars(run)
    if bars:
        story.subheading("Performance against thresholds")
        story.add(metrics_chart(bars, WIDTH))
        story.gap(4)
        story.grid(
            ["Metric", "Value", "95% interval", "Threshold", "Status"],
            [
                [
                    c.name.removeprefix("performance."),
                    number(as_float(c.value)),
                    "{} to {}".format(*(number(v) for v in _interval(c)))
                    if _interval(c)[0] is not None
                    else "-",
                    f"{details_of(c).rule or ''} {number(as_float(c.threshold))}"
                    if c.threshold is not None
                    else "-",
                    status_cell(s, c.status),
                ]
                for c in run.by_category("performance")
                if c.value is not None
            ],
            [0.3, 0.15, 0.25, 0.15, 0.15],
        )
    psi = [c for c in run.by_category("drift") if c.name.startswith("drift.psi.")]
    if psi:
        story.subheading("Holdout drift against the training data (PSI per feature)")
        story.para(
            "The validation data compared with the training data, before release; production "
            "drift is in the monitoring section.",
            s.note,
        )
        threshold = next((as_float(c.threshold) for c in psi if c.threshold is not None), None)
        story.add(
            psi_chart(
                [
                    (c.name.removeprefix("drift.psi."), as_float(c.value) or 0.0, c.status)
                    for c in psi
                ],
                threshold,
                WIDTH,
            )
        )
        story.gap(4)
    _fairness(story, run)
    others = [c for c in run.checks if c.category not in ("performance", "fairness", "drift")] + [
        c for c in run.by_category("drift") if c.status in ("fail", "warn")
    ]
    if others:
        story.subheading("Other checks")
        story.grid(
            ["Check", "Status", "Value", "Threshold", "Note"],
            [
                [
                    c.name,
                    status_cell(s, c.status),
                    number(as_float(c.value)),
                    number(as_float(c.threshold)),
                    details_of(c).note,
                ]
                for c in others
            ],
            [0.27, 0.1, 0.1, 0.1, 0.43],
            fills={i: WARN_FILL for i, c in enumerate(others) if c.status == "fail"},
        )


def _group_value(values: dict[str, int | float | None], key: str) -> str:
    value = as_float(values.get(key))
    return number(value) if value is not None else "-"


def _fairness(story: Story, run: ValidationView) -> None:
    """Per attribute its groups (chart and table), then every gap check with the bound applied."""
    s = story.s
    fairness = run.by_category("fairness")
    if not fairness:
        return
    tables = [
        (c, details_as(c, GroupResults)) for c in fairness if c.name.startswith("fairness.groups")
    ]
    order = [c.strip() for c in (run.sensitive or "").split(",")]
    tables.sort(key=lambda t: order.index(t[1].column) if t[1] and t[1].column in order else 99)
    story.subheading(f"Fairness across groups of {run.sensitive or 'the sensitive attribute'}")
    for _, table in tables:
        groups = {g: outcome.values() for g, outcome in table.groups.items()} if table else {}
        if not groups:
            continue
        if len(tables) > 1 and table is not None:
            story.para(f"Groups of {table.column}", s.note)
        names = sorted(groups)
        series = []
        for key, label in (("selection_rate", "selection rate"), ("tpr", "true-positive rate")):
            values = [as_float(groups[g].get(key)) for g in names]
            if any(v is not None for v in values):
                series.append((label, values))
        if series:
            story.add(group_chart(names, series, WIDTH))
            story.gap(4)
        story.grid(
            ["Group", "Rows", "Selection rate", "TPR", "FPR", "Accuracy"],
            [
                [
                    g,
                    *(
                        _group_value(groups[g], k)
                        for k in ("count", "selection_rate", "tpr", "fpr", "accuracy")
                    ),
                ]
                for g in names
            ],
            [0.25, 0.15, 0.15, 0.15, 0.15, 0.15],
        )
    gaps = [c for c in fairness if not c.name.startswith("fairness.groups")]
    story.grid(
        ["Check", "Value", "95% interval", "Threshold", "Status", "Note"],
        [
            [
                c.name,
                number(as_float(c.value)),
                "{} to {}".format(*(number(v) for v in _interval(c)))
                if _interval(c)[0] is not None
                else "-",
                number(as_float(c.threshold)),
                status_cell(s, c.status),
                details_of(c).note,
            ]
            for c in gaps
        ],
        [0.27, 0.1, 0.16, 0.1, 0.1, 0.27],
    )
    if gaps:
        story.para(_bounds_text(gaps), s.note)


def _bounds_text(gaps: list[CheckView]) -> str:
    """Which policy bound each attribute's gaps were held to, and why a bound of its own."""
    own: dict[str, list[str]] = {}
    shared: list[str] = []
    for check in gaps:
        detail = details_of(check)
        if not isinstance(detail, FairnessGap):
            continue
        column = detail.column or "the attribute"
        if detail.bound_source is None:
            if column not in shared:
                shared.append(column)
        else:
            own.setdefault(f"{column} from {detail.bound_text}", [])
    parts = [f"Thresholds of {', '.join(shared)} from [validation]."] if shared else []
    parts += [f"Thresholds of {text}" for text in own]
    return " ".join(parts)
