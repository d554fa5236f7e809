"""`signoff import mlflow`: bring models registered in MLflow into the store, with lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json


@click.group("import", cls=SignoffGroup)
def import_group() -> None:
    """Import models from other registries."""


@import_group.command("mlflow")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--model", "mlflow_model", help="The MLflow registered model (default: all).")
@click.option("--version", "mlflow_version", type=int, help="One version of --model.")
@click.option("--into", help="The signoff model to register into (default: MLflow's name).")
@click.option(
    "--artifact-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the store's artifacts are (default: beside mlflow.db, or the mlruns folder).",
)
@click.option(
    "--train-data",
    type=click.Path(path_type=Path),
    help="Training data, when MLflow recorded none on disk.",
)
@click.option("--target", help="The target column, when MLflow's records do not tell it.")
@click.option("--trust-pickle", is_flag=True, help="Accept pickled sklearn models (runs code!).")
@click.option("--trust-type", "trust_types", multiple=True, help="A skops type you have reviewed.")
@common(json_output=True)
def import_mlflow_cmd(
    source: Path,
    mlflow_model: str | None,
    mlflow_version: int | None,
    into: str | None,
    artifact_root: Path | None,
    train_data: Path | None,
    target: str | None,
    trust_pickle: bool,
    trust_types: tuple[str, ...],
    **kwargs: Any,
) -> None:
    """Register MLflow model versions from SOURCE (an mlruns folder or an mlflow.db file),
    with their run's parameters, metrics, tags and data as lineage. Reads the files directly:
    no mlflow, no server. Versions already imported are skipped.

    \b
    Example:
        signoff import mlflow ./mlruns --model credit-xgb --as dana
    """
    from console.registry.mlflow_import import import_mlflow

    run = invocation(kwargs)
    store = run.store()
    outcomes = import_mlflow(
        store,
        run.signer(store),
        source,
        model=mlflow_model,
        version=mlflow_version,
        into=into,
        artifact_root=artifact_root,
        train_data=train_data,
        target=target,
        trust_pickle=trust_pickle,
        trust_types=trust_types,
    )
    if run.as_json:
        print_json([o.as_dict() for o in outcomes])
        return
    for outcome in outcomes:
        click.echo(f"MLflow {outcome.mlflow_model} v{outcome.mlflow_version}: {outcome.note}")


def register(cli: click.Group) -> None:
    cli.add_command(import_group)
