"""Read commands on the raw driver: what they import, that they read what the services read, and
that they leave a DuckDB store free for writers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from console.cli import COMMAND_MODULES
from tests.conftest import Runner, Team
from tests.workflow_helpers import register_versions

ROOT = Path(__file__).resolve().parents[1]
READS = [
    ["models"],
    ["show", "tumour"],
    ["show", "tumour:2", "--json"],
    ["audit", "log"],
    ["history", "tumour"],
]
HEAVY = ["pandas", "sklearn", "textual", "sqlalchemy", "sqlmodel", "numpy"]
# On the demo store (its requests expired by the real clock): request 15 has a champion to
# compare with, 6 has none.
REQUEST_READS = [
    (["requests", "--pending", "--awaiting-me", "--as", "rosa"], "no requests"),
    (["requests", "--json"], "credit-risk"),
    (["show-request", "15"], "review: candidate v3 against v2"),
    (["show-request", "6"], "review: candidate"),
    (["show-request", "6", "--json"], "breast-cancer-classifier"),
]


def test_the_command_table_names_what_each_module_registers() -> None:
    import importlib

    for module, names in COMMAND_MODULES.items():
        group = click.Group()
        importlib.import_module(f"console.cli.{module}").register(group)
        assert tuple(group.commands) == names, module


def _env(team: Team) -> dict[str, str]:
    env = dict(os.environ, SIGNOFF_HOME=str(team.home), PYTHONPATH=str(ROOT))
    env.pop("SIGNOFF_DB", None)
    return env


@pytest.mark.parametrize("argv", READS, ids=" ".join)
def test_a_read_command_imports_neither_the_orm_nor_the_analytic_stack(
    team: Team, argv: list[str]
) -> None:
    register_versions(team, 2)
    code = (
        "import sys\n"
        "from console.cli import cli\n"
        f"cli(prog_name='signoff', args={argv!r}, standalone_mode=False)\n"
        f"loaded = sorted(set({HEAVY!r}) & {{m.split('.')[0] for m in sys.modules}})\n"
        "sys.exit('imported: ' + ', '.join(loaded) if loaded else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_env(team), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "tumour" in done.stdout or "SEQ" in done.stdout


def _imported_heavy(home: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        "from console.cli import cli\n"
        f"cli(prog_name='signoff', args={argv!r}, standalone_mode=False)\n"
        f"loaded = sorted(set({HEAVY!r}) & {{m.split('.')[0] for m in sys.modules}})\n"
        "sys.exit('imported: ' + ', '.join(loaded) if loaded else 0)"
    )
    env = dict(os.environ, SIGNOFF_HOME=str(home), PYTHONPATH=str(ROOT))
    env.pop("SIGNOFF_DB", None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("argv", "says"), REQUEST_READS, ids=[" ".join(a) for a, _ in REQUEST_READS]
)
def test_request_reads_import_neither_the_orm_nor_the_analytic_stack(
    demo_home: Path, argv: list[str], says: str
) -> None:
    done = _imported_heavy(demo_home, argv)
    assert done.returncode == 0, done.stderr
    assert says in done.stdout


def test_request_reads_show_what_the_services_read(demo_home: Path, signoff: Runner) -> None:
    """`requests` and `show-request` print what `list_requests`, `get_request` and
    `review_evidence` return (the console's services), byte for byte."""
    from console.cli.request_cmds import _print_request
    from console.cli.review_text import review_lines
    from console.freetext import shown
    from console.release.requests import get_request, list_requests
    from console.release.review import review_evidence
    from console.store.db import Store

    store = Store(demo_home)  # the real clock, as the command's
    home = ["--home", str(demo_home)]

    def cli_json(*args: str) -> object:
        result = signoff(*args, *home, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    def normal(value: object) -> object:
        return json.loads(json.dumps(value, default=str))

    assert cli_json("requests") == normal([v.as_dict() for v in list_requests(store)])
    assert cli_json("requests", "--pending", "--as", "rosa", "--awaiting-me") == normal(
        [v.as_dict() for v in list_requests(store, pending=True, awaiting="rosa")]
    )
    assert cli_json("requests", "--model", "credit-risk", "--mine", "--as", "dana") == normal(
        [v.as_dict() for v in list_requests(store, mine="dana", model="credit-risk")]
    )
    for request in (15, 6):
        assert cli_json("show-request", str(request)) == normal(
            get_request(store, request).as_dict()
        )

        @click.command()
        def service_text(request: int = request) -> None:
            _print_request(get_request(store, request))
            for line in review_lines(review_evidence(store, request)):
                click.echo(line)

        expected = CliRunner().invoke(service_text, [], color=True, catch_exceptions=False).output
        result = signoff("show-request", str(request), *home)
        assert result.exit_code == 0, result.output
        assert "review: candidate" in result.output
        assert result.output == shown(expected)


def test_reads_show_what_the_services_read(team: Team, signoff: Runner) -> None:
    from console.auditing.trail import list_events
    from console.registry.views import get_model, list_models
    from console.release.history import history

    register_versions(team, 2)
    home = ["--home", str(team.home)]

    def cli_json(*args: str) -> object:
        result = signoff(*args, *home, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    def normal(value: object) -> object:
        return json.loads(json.dumps(value, default=str))

    assert cli_json("models") == normal([v.as_dict() for v in list_models(team.store)])
    assert cli_json("show", "tumour") == normal(get_model(team.store, "tumour").as_dict())
    assert cli_json("audit", "log", "--limit", "5") == normal(
        [e.as_dict() for e in list_events(team.store, limit=5)]
    )
    assert cli_json("history", "tumour") == normal(
        [e.as_dict() for e in history(team.store, "tumour").entries]
    )


def test_a_missing_model_or_version_is_one_line(team: Team, signoff: Runner) -> None:
    register_versions(team, 1)
    home = ["--home", str(team.home)]
    for args, message in [
        (["show", "nope"], "no model 'nope'"),
        (["show", "tumour:7"], "has no version 7"),
        (["history", "nope"], "no model 'nope'"),
        (["audit", "log", "--model", "nope"], "no model 'nope'"),
        (["show", "Bad Name"], "error:"),
    ]:
        result = signoff(*args, *home)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_a_read_has_let_go_of_the_file_when_it_prints(
    team: Team, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process can open the store for writing while the command is still printing."""
    from console.cli import options, registry_cmds

    register_versions(team, 1)
    opened: list[int] = []
    real_table = options.table

    def table_after_a_writer(rows: list[list[str]], headers: list[str]) -> str:
        writer = (
            "import duckdb, sys\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "con.execute('SELECT count(*) FROM models').fetchall()\n"
            "con.close()"
        )
        done = subprocess.run(
            [sys.executable, "-c", writer, str(team.home / "signoff.duckdb")],
            capture_output=True,
            text=True,
        )
        opened.append(done.returncode)
        assert done.returncode == 0, done.stderr
        return real_table(rows, headers)

    monkeypatch.setattr(registry_cmds, "table", table_after_a_writer)
    result = signoff("models", "--home", str(team.home))
    assert result.exit_code == 0, result.output
    assert opened == [0] and "tumour" in result.output


def test_a_writer_waits_for_a_read_in_progress_then_writes(team: Team, signoff: Runner) -> None:
    """While another process reads (read-only, shared), reads go on and a write waits its turn."""
    register_versions(team, 1)
    reader = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from console.store.rows import read_only_rows\n"
        "with read_only_rows(Path(sys.argv[1]), 5) as rows:\n"
        "    assert rows is not None\n"
        "    rows.all('SELECT count(*) FROM audit_events')\n"
        "    print('reading', flush=True)\n"
        "    time.sleep(1.0)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", reader, str(team.home)],
        cwd=ROOT,
        env=_env(team),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "reading"
        home = ["--home", str(team.home)]
        read = signoff("models", *home)  # a second reader shares the file, without waiting
        assert read.exit_code == 0 and "tumour" in read.output, read.output
        assert process.poll() is None  # the first read was still open meanwhile
        write = signoff(
            "card", "edit", "tumour:1", "--set", "license=apache-2.0", "--as", "dana", *home
        )
        assert write.exit_code == 0, write.output  # it waited (SIGNOFF_LOCK_TIMEOUT=3), then wrote
    finally:
        assert process.wait(timeout=30) == 0
    verified = signoff("audit", "verify", *home)
    assert verified.exit_code == 0, verified.output
