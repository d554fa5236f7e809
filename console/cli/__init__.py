"""The `signoff` command: thin click commands that open the store and call one service each."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

from console.cli.command_summaries import COMMAND_SUMMARIES
from console.cli.options import DEFAULT_HOME, SignoffGroup, db_option, escape_stdout

# Each command's module, imported only when the command runs (or help lists them all): a read
# command does not pay for the imports of the other modules. tests/test_cli_imports.py checks
# the table against what each module registers.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {  # in the order `signoff --help` lists them
    "registry_cmds": ("register", "models", "show", "demo"),
    "import_cmds": ("import",),
    "keys_cmds": ("keys",),
    "users_cmds": ("init", "users"),
    "audit_cmds": ("audit",),
    "policy_cmds": ("policy",),
    "request_cmds": (
        "request",
        "requests",
        "show-request",
        "approve",
        "reject",
        "withdraw",
    ),
    "stage_cmds": ("promote", "canary", "rollback", "history", "retire"),
    "card_cmds": ("card",),
    "validate_cmds": ("validate", "validations"),
    "package_cmds": ("package", "verify-package"),
    "report_cmds": ("report", "settings"),
    "monitor_cmds": ("monitor", "retrain"),
    "store_cmds": ("store",),
    "gc_cmds": ("gc",),
    "tier_cmds": ("model",),
}
_MODULE_OF = {name: module for module, names in COMMAND_MODULES.items() for name in names}


class LazySignoffGroup(SignoffGroup):
    """The top-level group: a subcommand's module is imported when the command is looked up.

    `commands` (the whole mapping, as the docs generator and the tests read it) imports every
    module; `get_command` imports only the one it names, and `list_commands` none.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loaded: dict[str, click.Command] = {}
        self._imported: set[str] = set()
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        if len(self._imported) < len(COMMAND_MODULES):
            for module in COMMAND_MODULES:
                self._import(module)
            # In the table's order whichever was imported first; commands added later go last.
            order = list(COMMAND_MODULES)
            ranked = sorted(
                self._loaded.items(),
                key=lambda item: (
                    order.index(_MODULE_OF.get(item[0], ""))
                    if item[0] in _MODULE_OF
                    else len(order)
                ),
            )
            self._loaded.clear()
            self._loaded.update(ranked)
        return self._loaded

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._loaded = dict(value)

    def _import(self, module: str) -> None:
        if module not in self._imported:
            self._imported.add(module)
            importlib.import_module(f"console.cli.{module}").register(self)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._loaded[name] = cmd

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _MODULE_OF.get(cmd_name)
        if cmd_name not in self._loaded and module is not None:
            self._import(module)
        return self._loaded.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_MODULE_OF) | set(self._loaded))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's list of commands, each shortened by click from its own help text or, for a
        command not imported yet, from its first paragraph in `COMMAND_SUMMARIES`."""
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            command = self._loaded.get(name)
            if command is None and name in COMMAND_SUMMARIES:
                command = click.Command(name, help=COMMAND_SUMMARIES[name])
            elif command is None:
                command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _command in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, c.get_short_help_str(limit)) for name, c in rows])


@click.group(cls=LazySignoffGroup, invoke_without_command=True)
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
        command = cli.get_command(ctx, ctx.invoked_subcommand)
        if command is not None:  # only the command that runs: the others stay unimported
            ctx.default_map = {ctx.invoked_subcommand: _defaults_for(command, given)}
    if ctx.invoked_subcommand is not None:
        escape_stdout(ctx)  # stored text cannot drive the terminal (the console draws its own)
    if ctx.invoked_subcommand is None:
        import os

        from console.store.location import require_store
        from console.tui.app import make_app

        # The store opens inside the console, after its first frame; a missing file is
        # reported here, before the screen is taken over. A team store is reached after the
        # first frame too (connecting and checking it costs more than the frame): a server
        # that refuses ends the console with the same one line and exit code.
        if not db:
            require_store(home)
        secret = os.environ.get("SIGNOFF_PASSPHRASE")
        keys = os.environ.get("SIGNOFF_KEYS")
        app = make_app(
            home,
            user=user,
            url=db,
            passphrase=(lambda _name: secret.encode()) if secret is not None else None,
            keys_dir=Path(keys) if keys else None,
        )
        app.run()
        if app.open_error is not None:
            raise app.open_error
        if app.return_code:
            raise SystemExit(app.return_code)


def _defaults_for(command: click.Command, values: dict[str, str | None]) -> object:
    if not isinstance(command, click.Group):
        return dict(values)
    return {name: _defaults_for(sub, values) for name, sub in command.commands.items()}


def main() -> None:
    cli(prog_name="signoff")
