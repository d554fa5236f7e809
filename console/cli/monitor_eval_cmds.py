"""`monitor drift|performance|fairness|compare|check|alerts`: what monitoring evaluates and opens."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from console.cli.monitor_cmds import monitor
from console.cli.monitor_output import (
    alert_row,
    fmt,
    job_row,
    print_check,
    print_drift,
    print_fairness,
    print_performance,
)
from console.cli.options import common, invocation, print_json, table

if TYPE_CHECKING:
    from console.monitoring.runs import MonitorRun


def _signer_if_acting(run: Any, store: Any) -> Any:
    return run.signer(store) if run.user else None


_SENSITIVE = click.option(
    "--sensitive",
    multiple=True,
    help="Only this sensitive attribute (repeatable; default: every one the logs kept).",
)


def _window_command(kind: str, help_text: str, show: Callable[[MonitorRun], None]) -> None:
    """`monitor drift|performance|fairness`: evaluate, record with --as, exit 1 on alerts."""

    def command(model: str, window: str | None, since: str | None, **kwargs: Any) -> None:
        from console.monitoring.runs import monitor as evaluate
        from console.monitoring.settings import parse_window

        run = invocation(kwargs)
        store = run.store()
        result = evaluate(
            store,
            _signer_if_acting(run, store),
            model,
            kind,
            window=parse_window(window) if window else None,
            since=since,
            sensitive=list(kwargs.pop("sensitive", ())) or None,
        )
        if run.as_json:
            print_json(result.as_dict())
        else:
            show(result)
        if result.alerting:
            raise click.exceptions.Exit(1)

    decorated = common(json_output=True)(command)
    if kind == "fairness":
        decorated = _SENSITIVE(decorated)
    decorated = click.option("--since", help="Only windows from this date (UTC), e.g. 2026-09-01.")(
        decorated
    )
    decorated = click.option(
        "--window", help="Window length, e.g. 7d, 24h, 2w (default: the policy's)."
    )(decorated)
    monitor.command(kind, help=help_text)(click.argument("model")(decorated))


_window_command(
    "drift",
    """Drift per window and feature: PSI and KS against the training profile, prediction
    drift, null rates and range violations, computed in DuckDB over the logs.

    With --as USER (release manager, risk officer, author or admin) new windows are recorded
    and each threshold crossed opens an audited alert; without it nothing is written. Exits 1
    while an alert is open for an evaluated window.

    \b
    Example:
        signoff monitor drift credit-risk --window 7d --since 2026-09-01 --as raj
    """,
    print_drift,
)
_window_command(
    "performance",
    """Metrics per window on the outcomes that arrived, with 95% bootstrap intervals, against
    the version's latest validation run.

    A metric below its validation value by more than the policy's decay_tolerance, with its
    whole interval below that value, opens an alert when you act with --as USER. Exits 1 while
    a decay alert is open for an evaluated window.

    \b
    Example:
        signoff monitor performance credit-risk --window 7d --as raj
    """,
    print_performance,
)
_window_command(
    "fairness",
    """Fairness per window and sensitive attribute on the outcomes that arrived, as validation
    measures it.

    The demographic parity and equal opportunity differences (95% bootstrap intervals), at the
    policy's decision threshold, over the group columns the logs kept (`monitor ingest
    --sensitive`).

    A difference above the policy's bound opens a `fairness.<metric>` alert for that attribute
    when you act with --as USER; windows with too few outcomes never alert. Exits 1 while such
    an alert is open for an evaluated window.

    \b
    Example:
        signoff monitor fairness credit-risk --sensitive gender --sensitive age_band --as raj
    """,
    print_fairness,
)


@monitor.command("compare")
@click.argument("model")
@click.option("--stage", required=True, help="The stage whose canary runs.")
@common(json_output=True)
def compare_cmd(model: str, stage: str, **kwargs: Any) -> None:
    """Champion against canary on logged outcomes: the difference with a 95% interval, a
    significance test, and a recommendation (step, abort, or wait for more outcomes).

    Reads only. Exits 1 when the recommendation is to abort.

    \b
    Example:
        signoff monitor compare credit-risk --stage production
    """
    from console.monitoring.compare import ABORT, compare_canary

    run = invocation(kwargs)
    result = compare_canary(run.store(), model, stage)
    if run.as_json:
        print_json(result.as_dict())
    else:
        share = f" at {result.canary_share}%" if result.canary_share is not None else ""
        click.echo(
            f"{model} {stage}: champion v{result.champion.version} vs canary "
            f"v{result.canary.version}{share}, since {result.since[:19]}"
        )
        click.echo(
            f"metric: {result.metric} "
            + (f"({result.metric_note})" if result.metric_note else "(the stage's primary metric)")
        )
        for label, arm in (("champion", result.champion), ("canary", result.canary)):
            click.echo(f"  {label:9} v{arm.version}: {fmt(arm.value, 4)} on {arm.rows} outcomes")
        if result.difference is not None and result.ci95 is not None:
            better = "canary better" if result.difference > 0 else "canary worse"
            click.echo(
                f"  difference {result.difference:+.4f} ({better}), 95% CI "
                f"{result.ci95[0]:+.4f} to {result.ci95[1]:+.4f}, z {fmt(result.z, 2)}, "
                f"p {result.p_value:.3g}"
            )
        click.echo(f"recommendation: {result.recommendation.upper()}: {result.reason}")
        if result.command:
            click.echo(f"  act with: {result.command} --as YOU")
    if result.recommendation == ABORT:
        raise click.exceptions.Exit(1)


@monitor.command("check")
@click.option("--model", help="Only this model (default: every model with a version in a stage).")
@common(json_output=True)
def check_cmd(model: str | None, **kwargs: Any) -> None:
    """Evaluate drift, performance and fairness, record what is new, and open retraining jobs
    for the policy's triggers (drift, decay or fairness alert, model age). Idempotent: safe
    from cron.

    \b
    Example:
        signoff monitor check --as rel     # e.g. hourly from cron
    """
    from console.monitoring.triggers import run_check

    run = invocation(kwargs)
    store = run.store()
    result = run_check(store, run.signer(store), model)
    if run.as_json:
        print_json(result.as_dict())
        return
    print_check(result)


@monitor.command("alerts")
@click.argument("model", required=False)
@click.option("--all", "show_all", is_flag=True, help="Also resolved alerts and closed jobs.")
@common(json_output=True)
def alerts_cmd(model: str | None, show_all: bool, **kwargs: Any) -> None:
    """Open monitoring alerts and retraining jobs (with --all, also closed ones).

    \b
    Example:
        signoff monitor alerts credit-risk
    """
    from console.monitoring.views import OPEN, list_alerts, list_jobs
    from console.registry.refs import check_model_name

    run = invocation(kwargs)
    if model is not None:
        check_model_name(model)
    store = run.store()
    status = None if show_all else OPEN
    alerts = list_alerts(store, model, status=status)
    jobs = list_jobs(store, model, status=status)
    if run.as_json:
        print_json({"alerts": [a.as_dict() for a in alerts], "jobs": [j.as_dict() for j in jobs]})
        return
    if alerts:
        from console.monitoring.incidents import group_incidents

        click.echo(
            table(
                [alert_row(a) for a in alerts],
                ["ALERT", "VERSION", "WINDOW", "KIND", "SUBJECT", "VALUE", "STATUS"],
            )
        )
        grouped = len(group_incidents(alerts))
        click.echo(f"{len(alerts)} alert(s) in {grouped} incident(s): `signoff monitor incidents`")
    else:
        click.echo("no open alerts" if not show_all else "no alerts")
    click.echo("")
    if jobs:
        click.echo(
            table([job_row(j) for j in jobs], ["JOB", "VERSION", "TRIGGERS", "STATUS", "RESULT"])
        )
    else:
        click.echo("no open retraining jobs" if not show_all else "no retraining jobs")
