"""The `signoff` command: thin click commands that open the store and call one service each."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from console.cli import (
    audit_cmds,
    card_cmds,
    gc_cmds,
    import_cmds,
    keys_cmds,
    monitor_cmds,
    package_cmds,
    policy_cmds,
    registry_cmds,
    report_cmds,
    request_cmds,
    stage_cmds,
    store_cmds,
    tier_cmds,
    users_cmds,
    validate_cmds,
)
from console.cli.options import DEFAULT_HOME, SignoffGroup, db_option, escape_stdout

if TYPE_CHECKING:
    from console.store.db import Store


@click.group(cls=SignoffGroup, invoke_without_command=True)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SIGNOFF_HOME",
    default=DEFAULT_HOME,
    help="The store the console opens (env SIGNOFF_HOME).",
)
@db_option()
@click.option("--as", "user", envvar="SIGNOFF_USER", help="Who you are in the console.")
@click.version_option(package_name="signoff")
@click.pass_context
def cli(ctx: click.Context, home: Path, db: str | None, user: str | None) -> None:
    """signoff: govern ML models offline, with signed approvals and a tamper-evident log.

    With no command, opens the console on the store.

    \b
    Example:
        signoff demo --home ./demo && signoff --home ./demo
    """
    # `signoff --home X --as U models` means the same as `signoff models --home X --as U`.
    given = {
        name: value
        for name, value in (("home", str(home)), ("db", db), ("user", user))
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    }
    if given and ctx.invoked_subcommand is not None:
        ctx.default_map = _defaults_for(cli, given)
    if ctx.invoked_subcommand is not None:
        escape_stdout(ctx)  # stored text cannot drive the terminal (the console draws its own)
    if ctx.invoked_subcommand is None:
        import os

        from console.store.location import require_store
        from console.tui.app import make_app

        # The store opens inside the console, after its first frame; a missing one is
        # reported here, before the screen is taken over (a team store opens here).
        target: Path | Store = home
        if db:
            from console.store.db import open_store

            target = open_store(home, url=db)
        else:
            require_store(home)
        secret = os.environ.get("SIGNOFF_PASSPHRASE")
        keys = os.environ.get("SIGNOFF_KEYS")
        app = make_app(
            target,
            user=user,
            passphrase=(lambda _name: secret.encode()) if secret is not None else None,
            keys_dir=Path(keys) if keys else None,
        )
        app.run()
        if app.return_code:
            raise SystemExit(app.return_code)


for module in (
    registry_cmds,
    import_cmds,
    keys_cmds,
    users_cmds,
    audit_cmds,
    policy_cmds,
    request_cmds,
    stage_cmds,
    card_cmds,
    validate_cmds,
    package_cmds,
    report_cmds,
    monitor_cmds,
    store_cmds,
    gc_cmds,
    tier_cmds,
):
    module.register(cli)


def _defaults_for(group: click.Group, values: dict[str, str | None]) -> dict[str, object]:
    return {
        name: _defaults_for(command, values) if isinstance(command, click.Group) else dict(values)
        for name, command in group.commands.items()
    }


def main() -> None:
    cli(prog_name="signoff")
