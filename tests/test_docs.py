"""Docs that cannot drift: what docs/architecture.md names exists, the README's CLI table is current.

What counts, in docs/architecture.md, is every span in single backticks that is one of:

- a **path**: no whitespace and starts with a top-level folder of the repository (`console/`,
  `audit/`, `reports/`, `fixtures/`, `tests/`, `docs/`); a trailing `/` means a folder, and a
  `*` is a glob that must match at least one file;
- a **symbol**: a dotted name that starts with a top-level package (`console.`, `audit.`,
  `reports.`, `fixtures.`), optionally followed by a call's parentheses; the longest prefix that
  imports is the module and the rest must be attributes of it;
- a **member**: `Class.name` or `Class.name()` with a capitalised, not all-capital first part
  (`MANIFEST.json` is a file); a class of that name must be defined in our packages and have that attribute (or field).

Everything else in backticks is prose and is not checked: commands (`signoff audit verify`),
SQL, event names (`version.registered`), field and column names, names relative to the
section's package (`service.run_validation`, `ingest.py`), paths inside a store
(`artifacts/sha256/…`), and other projects' names written in full
(`securesystemslib.dsse.Envelope.verify`).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGES = ("console", "audit", "reports", "fixtures")
FOLDERS = (*PACKAGES, "tests", "docs")

PATH = re.compile(rf"(?:{'|'.join(FOLDERS)})/\S*")
SYMBOL = re.compile(rf"((?:{'|'.join(PACKAGES)})(?:\.\w+)+)(?:\(.*\))?")
MEMBER = re.compile(r"([A-Z][A-Za-z0-9]*[a-z]\w*)\.(\w+)(?:\(.*\))?")


def _spans() -> list[str]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # fenced blocks are diagrams
    return sorted(set(re.findall(r"`([^`\n]+)`", text)))


def _paths() -> list[str]:
    return [span for span in _spans() if PATH.fullmatch(span)]


def _symbols() -> list[str]:
    return [match[1] for span in _spans() if (match := SYMBOL.fullmatch(span))]


def _members() -> list[tuple[str, str]]:
    return [(match[1], match[2]) for span in _spans() if (match := MEMBER.fullmatch(span))]


@cache
def _classes() -> dict[str, list[str]]:
    """Every class name defined at a module's top level in our packages -> its modules."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            module = module.removesuffix(".__init__")
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.ClassDef):
                    found.setdefault(node.name, []).append(module)
    return found


def _has(cls: type, name: str) -> bool:
    if hasattr(cls, name):
        return True
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    annotated = {key for klass in cls.__mro__ for key in getattr(klass, "__annotations__", {})}
    return name in fields | annotated


def test_the_rule_sees_the_document() -> None:
    """Guards the regular expressions: if they stop matching, nothing would be checked."""
    assert "console/release/gates.py" in _paths()
    assert "console.identity.actor.unlock" in _symbols()
    assert ("Store", "reading") in _members()
    assert "signoff audit verify" not in _paths() + _symbols()


@pytest.mark.parametrize("path", _paths())
def test_every_path_in_the_architecture_exists(path: str) -> None:
    if "*" in path:
        assert list(ROOT.glob(path)), f"`{path}` matches no file"
    elif path.endswith("/"):
        assert (ROOT / path).is_dir(), f"`{path}` is not a folder"
    else:
        assert (ROOT / path).is_file(), f"`{path}` is not a file"


@pytest.mark.parametrize("symbol", _symbols())
def test_every_symbol_in_the_architecture_exists(symbol: str) -> None:
    parts = symbol.split(".")
    module: ModuleType | None = None
    for end in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:end]))
        except ModuleNotFoundError:
            continue
        break
    assert module is not None, f"`{symbol}`: no module"
    value: object = module
    for name in parts[end:]:
        assert hasattr(value, name), f"`{symbol}`: {name!r} is not in {value!r}"
        value = getattr(value, name)


@pytest.mark.parametrize(("cls", "name"), _members())
def test_every_class_member_in_the_architecture_exists(cls: str, name: str) -> None:
    modules = _classes().get(cls)
    assert modules, f"`{cls}.{name}`: no class {cls} in {', '.join(PACKAGES)}"
    owners = [getattr(importlib.import_module(module), cls) for module in modules]
    assert any(_has(owner, name) for owner in owners), f"`{cls}` has no {name!r}"
