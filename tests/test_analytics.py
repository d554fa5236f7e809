"""No DuckDB connection signoff opens may install or load an extension: nothing reaches a network."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text

import console
from console import analytics
from console.errors import BadInput
from tests.conftest import Team

SETTINGS = ("autoinstall_known_extensions", "autoload_known_extensions")


OFF = dict.fromkeys(SETTINGS, False)


def _offline(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    return {
        name: con.execute(f"SELECT current_setting('{name}')").fetchone()[0]  # type: ignore[index]
        for name in SETTINGS
    }


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    """The extension settings of every connection opened through duckdb.connect meanwhile."""
    seen: list[dict[str, object]] = []
    real = duckdb.connect

    def spy(*args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        con = real(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(_offline(con))
        return con

    monkeypatch.setattr(duckdb, "connect", spy)
    yield seen


def test_an_analytics_connection_is_offline() -> None:
    con = analytics.connect()
    try:
        assert _offline(con) == OFF
        assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
    finally:
        con.close()


def test_the_stores_connection_is_offline(team: Team) -> None:
    with team.store.session() as session:
        for name in SETTINGS:
            value = session.connection().execute(text(f"SELECT current_setting('{name}')"))
            assert value.scalar_one() is False


def test_profiling_validation_and_counting_connect_offline(
    tmp_path: Path, opened: list[dict[str, object]]
) -> None:
    from console.registry.dataset_files import detect_format
    from console.registry.profiling import profile_dataset
    from console.validation.dataset import count_rows
    from console.validation.reference import measure_file, parse_profile

    data = tmp_path / "data.csv"
    data.write_text("x,c\n1.5,a\n2.5,b\n3.5,a\n", encoding="utf-8")
    profile = profile_dataset(data)
    detect_format(data)
    assert count_rows(data) == 3
    import json

    reference = parse_profile(json.dumps(profile))
    measure_file(data, "csv", reference, ["x", "c"])
    assert len(opened) >= 4
    assert all(settings == OFF for settings in opened)


def test_only_the_analytics_module_opens_duckdb_itself() -> None:
    """Any other module would open a connection without the offline settings."""
    root = Path(console.__file__).parent
    opening = re.compile(r"duckdb\.connect\(")
    found = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if opening.search(path.read_text(encoding="utf-8"))
    ]
    assert found == ["analytics.py"]


def test_quoting_and_errors() -> None:
    assert analytics.ident('a"b') == '"a""b"'
    assert analytics.literal("it's") == "'it''s'"
    assert analytics.path_literal(Path("/d/s*.csv")) == "'/d/s[*].csv'"
    con = analytics.connect()
    try:
        assert con.execute(f"SELECT {analytics.double(0.1)} = 0.1").fetchone() == (True,)
        with pytest.raises(BadInput, match=r"^adding failed: .*") as info:
            analytics.rows(con, "SELECT 1 + 'x'", "adding")
        assert "\n" not in str(info.value)
    finally:
        con.close()
