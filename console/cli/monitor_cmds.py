"""Monitoring from the command line: logs and outcomes in, retraining (the evaluating
subcommands and alerts are in `console.cli.monitor_eval_cmds`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json


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
    import console.cli.monitor_eval_cmds  # noqa: F401  (its subcommands join `monitor`)
    from console.cli.incident_cmds import incidents_cmd, resolve_cmd

    monitor.add_command(incidents_cmd)
    monitor.add_command(resolve_cmd)
    cli.add_command(monitor)
    cli.add_command(retrain_cmd)
