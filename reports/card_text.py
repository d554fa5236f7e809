"""How a card writes its values and its sentences, the same in every format."""

from __future__ import annotations

import json

from reports.card_model import CardData, FairnessAnalysis, MetricRow


def when(ts: str | None) -> str:
    """A store timestamp as `YYYY-MM-DD HH:MM:SS UTC`."""
    if not ts:
        return "-"
    if len(ts) >= 19 and ts[10] == "T":
        return f"{ts[:10]} {ts[11:19]} UTC"
    return ts


def number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def threshold(value: float | None, rule: str | None) -> str:
    """A threshold with its direction: `≥ 0.7000` (the value must be at least this)."""
    if value is None:
        return "-"
    sign = {">=": "≥ ", "<=": "≤ "}.get(rule or "", "")
    return f"{sign}{number(value)}"


def interval(metric: MetricRow) -> str:
    if metric.lower is None and metric.upper is None:
        return "-"
    level = f" ({metric.level * 100:.0f}%)" if metric.level is not None else ""
    return f"{number(metric.lower)} – {number(metric.upper)}{level}"


def plain_value(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def group_value(value: int | float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4f}"


def analysis_heading(analysis: FairnessAnalysis) -> str:
    return analysis.title + (f" by `{analysis.attribute}`" if analysis.attribute else "")


def analysis_line(analysis: FairnessAnalysis) -> str:
    """The check, its status, and its value with interval and threshold where they apply."""
    line = f"Check `{analysis.check}`: **{analysis.status}**"
    if analysis.value is not None and (analysis.threshold is not None or analysis.note):
        line += f"; value {number(analysis.value)}"
        if analysis.lower is not None and analysis.upper is not None:
            level = f"{analysis.level * 100:.0f}% " if analysis.level is not None else ""
            line += f" ({level}interval {number(analysis.lower)} – {number(analysis.upper)})"
        if analysis.note:
            line += f", the {analysis.note}"
    if analysis.threshold is not None:
        line += f"; threshold {threshold(analysis.threshold, analysis.rule)}"
    return line + "."


def validation_line(card: CardData) -> str:
    run = card.validation
    if run is None:
        return "not validated yet"
    verdict = "passed" if run.passed else "did not pass"
    return f"{verdict} ({run.status}; run {run.run_id}, {when(run.finished_at)})"


def completeness_line(card: CardData) -> str:
    waiting = [
        f.name for f in card.human.values() if f.origin and f.origin.endswith("not confirmed")
    ]
    unconfirmed = f"; inherited, not confirmed: {', '.join(waiting)}" if waiting else ""
    if not card.missing:
        return "complete" + unconfirmed
    return "incomplete — missing " + ", ".join(card.missing) + unconfirmed


def evaluation_factors_text(card: CardData) -> str:
    if card.validation is None:
        return "None yet: the version has not been validated, so no results are disaggregated."
    factors = card.evaluation_factors
    if not factors:
        return (
            "None: the latest validation run named no sensitive attribute, so its results "
            "are not disaggregated by group."
        )
    return (
        "Results are disaggregated by "
        + ", ".join(f"`{f}`" for f in factors)
        + f" (validation run {card.validation.run_id})."
    )


def metrics_intro(card: CardData) -> str:
    run = card.validation
    if run is None:
        return (
            "No validation run yet. These are the in-sample metrics recorded at registration, "
            "measured on the training data; they overstate performance on new data."
        )
    stage = f" with the thresholds of the `{run.stage}` stage" if run.stage else ""
    return (
        f"Measured by validation run {run.run_id} on `{run.dataset_name}`{stage}, finished "
        f"{when(run.finished_at)} by {run.actor}. A threshold is the limit the policy sets "
        "for the check and the status says whether the value met it; a metric the policy sets "
        "no limit for is reported for information (`info`). Intervals are bootstrap confidence "
        "intervals computed by the validation run."
    )


def quantitative_none(card: CardData) -> str:
    if card.validation is None:
        return "None yet: the version has not been validated."
    if card.validation.sensitive:
        return (
            f"The latest validation run named the sensitive attribute "
            f"`{card.validation.sensitive}` but recorded no fairness results."
        )
    return "None: the latest validation run named no sensitive attribute."
