"""`signoff audit …`: verify, checkpoint, export and read the signed log."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json, table


@click.group("audit", cls=SignoffGroup)
def audit() -> None:
    """The signed, hash-chained audit log."""


@audit.command("verify")
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A checkpoint you kept: prove the log only grew since.",
)
@common(json_output=True)
def verify(checkpoint: Path | None, **kwargs: Any) -> None:
    """Recompute every hash, the chain and the Merkle root, and verify every signature;
    then replay the log and compare every derived table with it, row by row.

    Exit 0 when all holds, 1 with the first bad sequence number and the reason, or the first
    table, key and field that differs from the log (--json lists every difference).

    \b
    Example:
        signoff audit verify --checkpoint kept-2026-11.txt
    """
    from console.auditing.trail import audit_size, read_checkpoint_file, verify_store

    run = invocation(kwargs)
    store = run.store()
    note = read_checkpoint_file(checkpoint) if checkpoint else None
    total = audit_size(store)
    if run.as_json or total < 5000:
        result = verify_store(store, checkpoint_note=note)
    else:
        bar: Any
        stderr = sys.stderr
        with click.progressbar(length=total, label="verifying", file=stderr) as bar:
            state = {"done": 0}

            def advance(done: int, _total: int) -> None:
                bar.update(done - state["done"])
                state["done"] = done

            result = verify_store(store, checkpoint_note=note, progress=advance)
    if run.as_json:
        print_json(result.as_dict())
    elif result.ok:
        extra = " and extends the checkpoint" if note else ""
        click.echo(
            f"OK: {result.size} events verified{extra}, every derived table matches them; "
            f"root {result.root_hex}"
        )
    else:
        click.echo(result.failure_line())
    if not result.ok:
        raise SystemExit(1)


@audit.command("checkpoint")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here."
)
@common()
def checkpoint_cmd(output: Path | None, **kwargs: Any) -> None:
    """Sign the log's size and root as a C2SP checkpoint; keep it outside the store.

    \b
    Example:
        signoff audit checkpoint -o checkpoint-$(date +%F).txt --as ada
    """
    from console.auditing.trail import issue_checkpoint
    from console.store.staged_output import check_writable

    run = invocation(kwargs)
    if output is not None:
        check_writable(output)  # a path that cannot be written fails before the passphrase
    store = run.store()
    note = issue_checkpoint(store, run.signer(store), output)
    if output is None:
        click.echo(note, nl=False)
        return
    click.echo(f"checkpoint written to {output}")


@audit.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@common()
def export(directory: Path, **kwargs: Any) -> None:
    """Write events.jsonl, keys.json and the latest checkpoint for an offline verifier.

    Verify it anywhere with: python -m audit.verify DIRECTORY

    \b
    Example:
        signoff audit export ./audit-2026-q4
    """
    from console.auditing.trail import export_log

    run = invocation(kwargs)
    count, path = export_log(run.store(), directory)
    click.echo(f"exported {count} events to {path}; verify with `python -m audit.verify {path}`")


@audit.command("log")
@click.option("--model", help="Only events about this model.")
@click.option("--actor", help="Only events by this user.")
@click.option("--action", help="Only actions starting with this (e.g. `promotion.`).")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.option("--before", type=int, help="Only events before this sequence number (paging).")
@common(json_output=True)
def log(
    model: str | None,
    actor: str | None,
    action: str | None,
    limit: int,
    before: int | None,
    **kwargs: Any,
) -> None:
    """Show the newest events, filtered by model, actor or action.

    \b
    Example:
        signoff audit log --model credit-risk --action promotion.
    """
    from console.auditing.events import read_events

    run = invocation(kwargs)
    with run.rows() as store:
        events = read_events(
            store, model=model, actor=actor, action=action, before=before, limit=limit
        )
    if run.as_json:
        print_json([e.as_dict() for e in events])
        return
    rows = [[str(e.seq), e.ts[:19], e.actor, e.action, e.subject] for e in events]
    click.echo(table(rows, ["SEQ", "TIME (UTC)", "ACTOR", "ACTION", "SUBJECT"]))


def register(cli: click.Group) -> None:
    cli.add_command(audit)
