"""Machine-kept promises: the core never imports Textual, and every command is documented."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import click
import pytest

from console.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CORE_MODULES = [
    "audit.chain",
    "audit.key_history",
    "console.auditing.log",
    "audit.verify",
    "console.api",
    "console.auditing.trail",
    "console.release.policy",
    "console.packaging.build",
    "console.packaging.verify",
    "console.registry.profiling",
    "console.registry.dataset_files",
    "console.analytics",
    "console.files",
    "console.release.requests",
    "console.release.deployments",
    "console.release.canary",
    "console.release.decisions",
    "console.release.history",
    "console.release.status",
    "console.registry.cards",
    "console.monitoring",
    "console.validation",
    "fixtures.demo_monitoring",
    "console.registry.register",
    "console.registry.views",
    "console.identity.users",
    "fixtures.demo",
    "reports",
]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_never_imports_textual(module: str) -> None:
    code = f"import sys, {module}; sys.exit(1 if any(m.split('.')[0] == 'textual' for m in sys.modules) else 0)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{module} pulled in textual {done.stderr}"


def test_the_audit_core_imports_only_the_standard_library_and_cryptography() -> None:
    """An auditor copies `audit/` alone; every import in it, even inside a function, must resolve."""
    allowed = set(sys.stdlib_module_names) | {"audit", "cryptography", "__future__"}
    for path in sorted((ROOT / "audit").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_cli_help_does_not_import_the_heavy_stack() -> None:
    code = (
        "import sys; from console.cli import cli\n"
        "heavy = {'pandas', 'sklearn', 'textual', 'duckdb', 'sqlmodel', 'reportlab'}\n"
        "sys.exit(1 if heavy & {m.split('.')[0] for m in sys.modules} else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0


def test_the_console_paints_before_the_store_stack_loads() -> None:
    """`signoff` imports the app with Textual only; SQL, DuckDB and the science stack load in
    the first worker, after the first frame (a bare Textual app's start-up, not four times it)."""
    code = (
        "import sys; from console.cli import cli; from console.tui.app import make_app\n"
        "heavy = {'pandas', 'sklearn', 'numpy', 'duckdb', 'sqlalchemy', 'sqlmodel', "
        "'reportlab', 'cryptography'}\n"
        "loaded = heavy & {m.split('.')[0] for m in sys.modules}\n"
        "sys.exit(', '.join(sorted(loaded)) or 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"the console's start imports {done.stderr.strip()}"


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path + " "))
        else:
            found.append((path, command))
    return found


def test_every_command_has_help_with_an_example_and_is_documented() -> None:
    docs = (ROOT / "README.md").read_text() + "".join(
        p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))
    )
    for path, command in _commands(cli):
        assert command.help and "Example" in command.help, (
            f"`signoff {path}` needs help with an example"
        )
        assert f"signoff {path}" in docs, (
            f"`signoff {path}` is not documented in README.md or docs/"
        )
