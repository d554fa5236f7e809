"""`signoff --help` lists every command as click would, without importing the command modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from console.cli import COMMAND_MODULES, LazySignoffGroup, cli
from console.cli.command_summaries import COMMAND_SUMMARIES

ROOT = Path(__file__).resolve().parents[1]


def _every_command() -> dict[str, click.Command]:
    return {name: command for name, command in cli.commands.items() if not command.hidden}


def test_the_summaries_name_every_listed_command_and_nothing_else() -> None:
    assert set(COMMAND_SUMMARIES) == set(_every_command())


@pytest.mark.parametrize("limit", [20, 45, 62, 74, 200])
def test_a_summary_shortens_as_the_commands_own_help(limit: int) -> None:
    for name, command in _every_command().items():
        from_summary = click.Command(name, help=COMMAND_SUMMARIES[name])
        assert from_summary.get_short_help_str(limit) == command.get_short_help_str(limit), name


@pytest.mark.parametrize("width", [60, 80, 140])
def test_help_lists_the_same_lines_as_with_every_command_imported(width: int) -> None:
    fresh = LazySignoffGroup(name="signoff", params=cli.params, callback=cli.callback)
    listed = CliRunner().invoke(fresh, ["--help"], terminal_width=width)
    assert fresh._imported == set()  # nothing imported to list them
    loaded = CliRunner().invoke(cli, ["--help"], terminal_width=width)
    assert cli._imported == set(COMMAND_MODULES)  # `cli.commands` above imported them all
    assert listed.exit_code == loaded.exit_code == 0
    commands = listed.output[listed.output.index("Commands:") :]
    assert commands == loaded.output[loaded.output.index("Commands:") :]
    assert "verify-package" in commands and commands.count("\n") > len(COMMAND_SUMMARIES)


def test_help_in_a_new_process_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from console.cli import cli\n"
        "try:\n"
        "    cli(prog_name='signoff', args=['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.endswith('_cmds'))\n"
        "sys.stderr.write(' '.join(loaded))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "Commands:" in done.stdout and "show-request" in done.stdout
    assert done.stderr == ""
