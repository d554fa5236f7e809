"""`signoff gc`: remove unreferenced artifact blobs and staging folders, under the write lock."""

from __future__ import annotations

from typing import Any

import click

from console.cli.options import common, invocation, print_json


@click.command("gc")
@click.option(
    "--grace",
    type=click.FloatRange(0),
    default=3600.0,
    show_default=True,
    help="Seconds: spare anything younger (a command may still be preparing it).",
)
@common(json_output=True)
def gc(grace: float, **kwargs: Any) -> None:
    """Remove artifact blobs no row refers to, and staging folders left by killed commands.

    Holds the store's lock while it works; a blob any row refers to is never removed.

    \b
    Example:
        signoff gc --home ./demo
    """
    from console.store.garbage import collect_garbage

    run = invocation(kwargs)
    collected = collect_garbage(run.store(), grace_seconds=grace)
    if run.as_json:
        print_json(collected.as_dict())
        return
    for path in collected.blobs:
        click.echo(f"removed blob {path}")
    for path in collected.staging:
        click.echo(f"removed staging folder {path}")
    kept = (
        f"; kept {collected.kept_recent} younger than {grace:g}s" if collected.kept_recent else ""
    )
    click.echo(
        f"gc: removed {len(collected.blobs)} unreferenced blobs and {len(collected.staging)} "
        f"staging folders ({collected.freed_bytes} bytes){kept}"
    )


def register(cli: click.Group) -> None:
    cli.add_command(gc)
