"""`signoff store …`: where the store lives and what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json


@click.group("store", cls=SignoffGroup)
def store() -> None:
    """The store itself: its backend, versions and log (`info`), moving it (`copy`)."""


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


@store.command("copy")
@click.option("--to", "to", required=True, metavar="URL|DIR", help="An empty target store.")
@click.option(
    "--artifacts",
    type=click.Path(file_okay=False, path_type=Path),
    help="With a postgresql:// target: the shared artifacts directory its clients mount.",
)
@common(json_output=True)
def copy(to: str, artifacts: Path | None, **kwargs: Any) -> None:
    """Copy the whole store (tables, artifacts, policy) into an empty one and verify its log.

    Both ways: a DuckDB store into a team database, or a team store into a DuckDB file an
    auditor takes offline. The target's log must have the source's size and root.

    \b
    Example:
        signoff store copy --home ./governance --to postgresql://signoff@db/signoff \\
            --artifacts /mnt/signoff-artifacts
        signoff store copy --db postgresql://signoff@db/signoff --to ./snapshot-2026-12
    """
    from console.auditing.transfer import copy_store
    from console.errors import BadInput
    from console.store.backend import POSTGRES_SCHEMES
    from console.store.db import Store

    run = invocation(kwargs)
    source = run.store()
    if to.startswith(POSTGRES_SCHEMES):
        if artifacts is None:
            raise BadInput("a postgresql:// target needs --artifacts DIR (the shared directory)")
        target = Store(run.home, url=to)
        target.artifacts_dir = artifacts.absolute()
    else:
        if artifacts is not None:
            raise BadInput("--artifacts is for a postgresql:// target; a DuckDB store keeps them")
        target = Store(Path(to))
    report = copy_store(source, target)
    if run.as_json:
        print_json(report.as_dict())
        return
    rows = sum(report.tables.values())
    click.echo(
        f"copied {rows} rows of {len(report.tables)} tables and {report.artifacts} artifacts "
        f"to {report.target}"
    )
    click.echo(f"its log verifies: {report.log_size} events, root {report.root_hex}")


def register(cli: click.Group) -> None:
    cli.add_command(store)
