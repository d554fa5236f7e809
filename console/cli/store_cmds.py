"""`signoff store …`: where the store lives and what it holds."""

from __future__ import annotations

from typing import Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json


@click.group("store", cls=SignoffGroup)
def store() -> None:
    """The store itself: its backend, versions and log (`info`)."""


@store.command("info")
@common(json_output=True)
def info(**kwargs: Any) -> None:
    """Print the backend, server and schema versions, the log's size and head, the artifacts.

    \b
    Example:
        signoff store info --db postgresql://signoff@db.internal/signoff
    """
    from console.store.summary import store_summary

    run = invocation(kwargs)
    summary = store_summary(run.store())
    if run.as_json:
        print_json(summary.as_dict())
        return
    for label, value in (
        ("backend", summary.backend),
        ("location", summary.location),
        ("server", summary.server_version),
        ("schema version", summary.schema_version),
        ("store id", summary.store_id or "-"),
        ("log size", summary.log_size),
        ("log head", summary.log_head or "-"),
        ("artifacts", summary.artifacts_dir),
    ):
        click.echo(f"{label:<15} {value}")


def register(cli: click.Group) -> None:
    cli.add_command(store)
