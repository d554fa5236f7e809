"""Monitoring from the command line: logs and outcomes in, drift, decay, canaries, retraining."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from console.cli.monitor_output import (
    alert_row,
    fmt,
    job_row,
    print_check,
    print_drift,
    print_fairness,
    print_performance,
)
from console.cli.options import SignoffGroup, common, invocation, print_json, table

if TYPE_CHECKING:
    from console.monitoring.runs import MonitorRun


@click.group("monitor", cls=SignoffGroup)
def monitor() -> None:
    """Production monitoring: prediction logs, outcomes, drift, decay, canaries, retraining jobs."""


@monitor.command("ingest")
@click.argument("model")
@click.option(
    "--predictions",
    "path",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV, Parquet or JSON lines: timestamp, version, prediction, features[, request_id, score];"
    " or a SageMaker data capture or KServe request/response log.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "json", "sagemaker", "kserve"]),
    help="The file's format (default: detected from its content).",
)
@click.option(
    "--version",
    "version",
    type=click.IntRange(min=1),
    help="sagemaker/kserve: the version behind the endpoint (kserve: else its model_version).",
)
@click.option("--stage", help="The stage that served them (default: the last stage serving one).")
@click.option(
    "--sensitive",
    multiple=True,
    help="A group column to keep for fairness monitoring, not a model input (repeatable; "
    "default: the attributes of the model's latest validation that the file has).",
)
@click.option(
    "--allow-backfill",
    "backfill",
    metavar="REASON",
    help="Accept rows dated before their version served the stage or after now; recorded.",
)
@common(json_output=True)
def ingest_cmd(
    path: Path,
    model: str,
    fmt: str | None,
    version: int | None,
    stage: str | None,
    sensitive: tuple[str, ...],
    backfill: str | None,
    **kwargs: Any,
) -> None:
    """Store a prediction log (release managers, authors, admins; audited).

    Every row names the version that served it; rows with versions the store does not know,
    missing feature columns, unparseable timestamps, times before the version served the
    stage or after now (5 minutes of clock skew allowed; a backfill says why with
    --allow-backfill) or an empty file are refused with a count and examples, and nothing is
    stored. A capture record that cannot be read is refused with its line number.

    \b
    Example:
        signoff monitor ingest credit-risk --predictions week-44.csv --stage production --as rel
        signoff monitor ingest credit-risk --predictions capture.jsonl --version 3 --as rel
    """
    from console.monitoring.ingest import ingest_predictions

    run = invocation(kwargs)
    store = run.store()
    result = ingest_predictions(
        store,
        run.signer(store),
        model,
        path,
        stage=stage,
        sensitive=list(sensitive) or None,
        fmt=fmt,
        version=version,
        allow_backfill=backfill,
    )
    if run.as_json:
        print_json(result.as_dict())
        return
    versions = ", ".join(f"v{v}: {n}" for v, n in result.versions.items())
    click.echo(
        f"log {result.log_id}: {result.rows} predictions of {model} ({versions}) from "
        f"{result.first_ts[:19]} to {result.last_ts[:19]}"
        + (f" in {result.stage}" if result.stage else "")
    )
    click.echo(
        f"  stored as Parquet {result.artifact_sha256[:16]}…; {result.with_request_ids} rows "
        "carry a request id for outcomes"
    )
    if result.sensitive_columns:
        click.echo(f"  sensitive columns kept: {', '.join(result.sensitive_columns)}")
    if result.ignored_columns:
        click.echo(f"  ignored columns: {', '.join(result.ignored_columns)}")
    if result.backfill is not None:
        click.echo(
            f"  backfill: {result.backfill['before_serving']} rows before serving, "
            f"{result.backfill['after_now']} after now, accepted: {result.backfill['reason']}"
        )


@monitor.command("labels")
@click.argument("model")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV, Parquet or JSON lines with request_id and the outcome.",
)
@click.option("--outcome", "outcome", help="The outcome column (default: outcome or the target).")
@click.option(
    "--allow-unmatched",
    is_flag=True,
    help="Keep outcomes whose request id no log holds yet (counted, never dropped silently).",
)
@common(json_output=True)
def labels_cmd(
    path: Path, model: str, outcome: str | None, allow_unmatched: bool, **kwargs: Any
) -> None:
    """Attach outcomes that arrived later, joined to predictions by request id.

    Outcomes for request ids that were never logged are refused with a count and examples,
    unless --allow-unmatched keeps them (counted in the batch and its event).

    \b
    Example:
        signoff monitor labels credit-risk --file outcomes-october.csv --as rel
    """
    from console.monitoring.labels import ingest_outcomes

    run = invocation(kwargs)
    store = run.store()
    result = ingest_outcomes(
        store,
        run.signer(store),
        model,
        path,
        outcome_column=outcome,
        allow_unmatched=allow_unmatched,
    )
    if run.as_json:
        print_json(result.as_dict())
        return
    click.echo(
        f"outcome batch {result.batch_id}: {result.rows} outcomes of {model}, "
        f"{result.matched} matched to logged predictions"
    )
    if result.unmatched:
        click.echo(
            f"  {result.unmatched} not logged yet (kept with --allow-unmatched), e.g. "
            + ", ".join(result.unmatched_examples)
        )


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


@click.command("retrain")
@click.argument("model")
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV or Parquet with the features and the target (and the sensitive column).",
)
@click.option("--from-version", type=int, help="The version to refit (default: the open job's).")
@click.option(
    "--holdout",
    type=click.Path(path_type=Path),
    help="Validate on this file instead of a seeded 25% split of --data.",
)
@click.option(
    "--sample-weight",
    "sample_weight",
    help="A column of --data with per-row fit weights (e.g. fairness reweighing).",
)
@click.option("--comment", help="The promotion request's comment.")
@common(json_output=True)
def retrain_cmd(
    model: str,
    data: Path,
    from_version: int | None,
    holdout: Path | None,
    sample_weight: str | None,
    comment: str | None,
    **kwargs: Any,
) -> None:
    """Refit a clone of a version (same hyperparameters, fixed seed) on new data, register it
    with lineage, validate it and open a promotion request to the first stage (authors,
    admins). Nothing is promoted: people review and approve the request.

    \b
    Example:
        signoff retrain credit-risk --data recent-labelled.csv --as dana
    """
    from console.monitoring.retrain import retrain

    run = invocation(kwargs)
    store = run.store()
    result = retrain(
        store,
        run.signer(store),
        model,
        data,
        from_version=from_version,
        holdout=holdout,
        comment=comment,
        sample_weight=sample_weight,
    )
    if run.as_json:
        print_json(result.as_dict())
        return
    click.echo(
        f"{model}:{result.version} retrained from v{result.parent} ({result.trigger}) on "
        f"{result.train_rows} rows; validated on {result.holdout_rows}: {result.validation_status}"
    )
    click.echo(f"  data sha256 {result.data_sha256}")
    click.echo(
        f"  request {result.request_id} to {result.stage} is open for review: "
        f"`signoff show-request {result.request_id}`"
    )
    for item in result.request_needed:
        click.echo(f"    - {item}")


def register(cli: click.Group) -> None:
    from console.cli.incident_cmds import incidents_cmd, resolve_cmd

    monitor.add_command(incidents_cmd)
    monitor.add_command(resolve_cmd)
    cli.add_command(monitor)
    cli.add_command(retrain_cmd)
