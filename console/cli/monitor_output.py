"""How monitoring results read in a terminal: window tables, baselines, alerts and jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from console.cli.options import table

if TYPE_CHECKING:
    from console.monitoring.runs import MonitorRun
    from console.monitoring.triggers import CheckResult
    from console.monitoring.views import AlertView, JobView


def _recorded_line(monitor_run: MonitorRun) -> str:
    recorded = monitor_run.recorded
    if recorded is None:
        return "not recorded: pass --as USER to record windows and alerts"
    if recorded.event_seq is None:
        return "nothing new to record"
    return (
        f"recorded {len(recorded.windows)} window(s) and {len(recorded.alerts)} new alert(s) "
        f"(event #{recorded.event_seq})"
    )


def fmt(value: object, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "-"


def print_drift(result: MonitorRun) -> None:
    evaluation = result.evaluation
    limits = evaluation.as_dict().get("thresholds")
    assert isinstance(limits, dict)
    click.echo(
        f"{evaluation.model}: drift per {evaluation.window} window (PSI > {limits['max_psi']}, "
        f"KS D > {limits['max_ks_statistic']} at p < {limits['max_ks_pvalue']}, "
        f"prediction PSI > {limits['max_prediction_psi']})"
    )
    for note in evaluation.notes:
        click.echo(f"  {note}")
    rows: list[list[str]] = []
    for w in evaluation.windows:
        features = w.result.get("features")
        assert isinstance(features, dict)
        worst: tuple[str | None, dict[str, Any]] = max(
            features.items(),
            key=lambda item: item[1].get("psi") or 0.0,
            default=(None, {}),
        )
        prediction = w.result.get("prediction")
        crossed = sorted(
            {
                c.subject if c.subject == "prediction" else f"{c.kind.split('.', 1)[1]} {c.subject}"
                for c in w.crossings
            }
        )
        rows.append(
            [
                w.start[:10],
                f"v{w.version}",
                str(w.rows),
                w.status,
                f"{fmt(worst[1].get('psi'))} {worst[0]}" if worst[0] else "-",
                fmt(prediction.get("psi")) if isinstance(prediction, dict) else "-",
                (", ".join(crossed[:3]) + (" …" if len(crossed) > 3 else "")) or "-",
            ]
        )
    click.echo(
        table(rows, ["WINDOW", "VERSION", "ROWS", "STATUS", "MAX PSI", "PRED PSI", "CROSSED"])
    )
    _print_footer(result)


def _print_footer(result: MonitorRun) -> None:
    click.echo(_recorded_line(result))
    if result.open_alerts:
        click.echo(
            f"{len(result.open_alerts)} open alert(s) for these windows; see `signoff monitor "
            f"alerts {result.evaluation.model}`"
        )
    if result.unrecorded:
        click.echo(f"{len(result.unrecorded)} threshold crossing(s) not recorded as alerts yet")


def _metric(metrics: object, name: str) -> str:
    if not isinstance(metrics, dict) or name not in metrics:
        return "-"
    entry = metrics[name]
    ci = entry.get("ci95")
    interval = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if isinstance(ci, list) else ""
    return f"{fmt(entry.get('value'))}{interval}"


def print_performance(result: MonitorRun) -> None:
    from console.monitoring.performance import PerformanceEvaluation

    evaluation = result.evaluation
    assert isinstance(evaluation, PerformanceEvaluation)
    click.echo(
        f"{evaluation.model}: performance per {evaluation.window} window (decay tolerance "
        f"{evaluation.decay_tolerance})"
    )
    for number, baseline in evaluation.baselines.items():
        shown = ", ".join(f"{k} {v:.3f}" for k, v in baseline.metrics.items()) or "none"
        run_id = f"validation run {baseline.run_id}" if baseline.run_id else "no validation run"
        click.echo(f"  baseline v{number} ({run_id}): {shown}")
    for note in evaluation.notes:
        click.echo(f"  {note}")
    names = ["accuracy", "roc_auc"]
    if any(
        "r2" in (w.result.get("metrics") or {})  # type: ignore[operator]
        for w in evaluation.windows
    ):
        names = ["r2", "rmse"]
    rows = [
        [
            w.start[:10],
            f"v{w.version}",
            f"{w.rows}/{w.result.get('rows')}",
            *(_metric(w.result.get("metrics"), n) for n in names),
            w.status,
        ]
        for w in evaluation.windows
    ]
    headers = ["WINDOW", "VERSION", "LABELLED", *(n.upper() + " (95% CI)" for n in names)]
    click.echo(table(rows, [*headers, "STATUS"]))
    _print_footer(result)


def _interval(value: float | None, low: float | None, high: float | None) -> str:
    interval = f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
    return f"{fmt(value)}{interval}"


def print_fairness(result: MonitorRun) -> None:
    from console.monitoring.fairness import FairnessEvaluation
    from console.monitoring.fairness_rows import fairness_rows

    evaluation = result.evaluation
    assert isinstance(evaluation, FairnessEvaluation)
    bounds = ", ".join(f"{k} <= {v:g}" for k, v in evaluation.thresholds.items())
    click.echo(
        f"{evaluation.model}: fairness per {evaluation.window} window over "
        f"{', '.join(evaluation.attributes)} (decision threshold "
        f"{evaluation.decision_threshold:g}; {bounds})"
    )
    for note in evaluation.notes:
        click.echo(f"  {note}")
    rows = [
        [
            r.start[:10],
            f"v{r.version}",
            r.attribute,
            f"{r.labelled}/{r.logged}",
            str(r.groups) if r.groups is not None else "-",
            *(
                _interval(g.value, g.low, g.high)
                for g in (r.gaps["demographic_parity"], r.gaps["equal_opportunity"])
            ),
            f"alert: {', '.join(r.failed)}" if r.failed else r.status,
        ]
        for r in fairness_rows(evaluation.windows)
    ]
    headers = ["WINDOW", "VERSION", "ATTRIBUTE", "LABELLED", "GROUPS", "DP DIFF (95% CI)"]
    click.echo(table(rows, [*headers, "EO DIFF (95% CI)", "STATUS"]))
    _print_footer(result)


def alert_row(alert: AlertView) -> list[str]:
    return [
        str(alert.id),
        f"{alert.model}:{alert.version}",
        alert.window_start[:10],
        alert.kind,
        alert.subject,
        f"{fmt(alert.value)} > {fmt(alert.threshold)}",
        alert.status,
    ]


def job_row(job: JobView) -> list[str]:
    fired = ", ".join(str(t.get("trigger")) for t in job.triggers)
    result = f"v{job.result_version} (request {job.request_id})" if job.result_version else "-"
    return [str(job.id), f"{job.model}:{job.version}", fired, job.status, result]


def print_check(result: CheckResult) -> None:
    """Per model: windows recorded, alerts opened, triggers fired and retraining jobs."""
    if not result.models:
        click.echo("no model has a version in a stage; nothing to check")
    for item in result.models:
        families = (item.drift, item.performance, item.fairness)
        recorded = sum(len(f.windows) for f in families)
        alerts = sum(len(f.alerts) for f in families)
        served = ", ".join(f"v{v}" for v in item.versions) or "none"
        click.echo(
            f"{item.model} (serving {served}): {recorded} window(s) recorded, {alerts} new alert(s)"
        )
        for note in item.notes:
            click.echo(f"  {note}")
        for version, fired in item.triggers.items():
            names = ", ".join(str(t["trigger"]) for t in fired)
            click.echo(f"  v{version}: triggers {names}")
        for job in item.opened:
            click.echo(
                f"  opened retraining job {job.id} for v{job.version}: "
                f"`signoff retrain {item.model} --data FILE --as AUTHOR`"
            )
        for job in item.already_open:
            click.echo(f"  retraining job {job.id} for v{job.version} is already open")
