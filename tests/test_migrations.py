"""Frozen migrations: old stores open, verify and read; the steps build what the models declare."""

from __future__ import annotations

import hashlib
import shutil
from importlib import resources
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from console.store import models  # noqa: F401  (registers every table on SQLModel.metadata)
from console.store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from tests.conftest import Runner

FIXTURES = Path(__file__).parent / "fixtures_data"

# A shipped step never changes: a new schema is a new step (add its digest here), not an edit.
SHIPPED_STEPS = {
    "v1_initial": "3bfcd0d8969ea6ee4e86c82cfdefa733262e2307efad77421863600182f0e09f",
    "v2_workflow_validation_cards": "4a25eb3bbe9584be14c267b7b78bc6da2f2079b3d7c7d0bdc9712d48055c4c05",
    "v3_monitoring": "6ed28fdf706a78b0b5d5a316743c5f606f6ab7691ddb6ea8c7d19b8aa4b9d11b",
    "v4_policy_in_store": "0a22ea3bd416bf1aa0344a2a0ec02b9b18b3e599eab711417cc396caa9963de3",
    "v5_framework_version": "da410dbb27a4a6e2fe8724b07125f746f5f22c26ba7ee8bd44b59c24ba947703",
    "v6_release_keys": "767c8e011c61647c66b320ceaf13cdbf7b625a396b8c020a892486ae8bc7e93d",
}


def _schema(db: Path) -> dict[str, object]:
    """Columns (name, type, nullability, order), primary keys and indexes of every table."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, ordinal_position, column_name, data_type, is_nullable "
            "FROM information_schema.columns WHERE table_schema = 'main' ORDER BY 1, 2"
        ).fetchall()
        keys = con.execute(
            "SELECT table_name, constraint_type, constraint_column_names FROM duckdb_constraints() "
            "WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE') ORDER BY 1, 2, 3"
        ).fetchall()
        indexes = con.execute(
            "SELECT table_name, index_name, is_unique, expressions FROM duckdb_indexes() "
            "ORDER BY 1, 2"
        ).fetchall()
    finally:
        con.close()
    return {"columns": columns, "keys": keys, "indexes": indexes}


def _models_schema(tmp_path: Path) -> dict[str, object]:
    db = tmp_path / "models.duckdb"
    engine = create_engine(f"duckdb:///{db}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    return _schema(db)


def _migrated(db: Path, *, first: int, then_to: int | None = None) -> Path:
    """A database built by the first `first` steps, then upgraded in a second run if asked."""
    engine = create_engine(f"duckdb:///{db}")
    with engine.begin() as connection:
        migrate(connection, 0, first)
    if then_to is not None:
        with engine.begin() as connection:
            migrate(connection, first, then_to)
    engine.dispose()
    return db


def test_the_frozen_steps_build_exactly_the_schema_the_models_declare(tmp_path: Path) -> None:
    """A model changed without a new migration step fails here."""
    migrated = _migrated(tmp_path / "migrated.duckdb", first=SCHEMA_VERSION)
    assert _schema(migrated) == _models_schema(tmp_path)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_a_store_at_every_older_version_upgrades_to_the_models_schema(
    tmp_path: Path, version: int
) -> None:
    upgraded = _migrated(tmp_path / "old.duckdb", first=version, then_to=SCHEMA_VERSION)
    assert _schema(upgraded) == _models_schema(tmp_path)
    con = duckdb.connect(str(upgraded), read_only=True)
    try:
        versions = [
            r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        ]
    finally:
        con.close()
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_shipped_steps_are_never_edited() -> None:
    assert list(SHIPPED_STEPS) == MIGRATIONS
    for step, digest in SHIPPED_STEPS.items():
        text = resources.files("console.store").joinpath("schema", f"{step}.sql").read_bytes()
        assert hashlib.sha256(text).hexdigest() == digest, f"{step}.sql changed after shipping"


@pytest.fixture
def v3_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the store made by schema v3's signoff, with its keys unlocked for the CLI."""
    copy = tmp_path / "store-v3"
    shutil.copytree(FIXTURES / "store-v3", copy)
    for key in (copy / "keys").glob("*.key"):
        key.chmod(0o600)  # git keeps no file modes but the executable bit
    monkeypatch.setenv("SIGNOFF_KEYS", str(copy / "keys"))
    monkeypatch.setenv(
        "SIGNOFF_PASSPHRASE", (copy / "passphrase.txt").read_text(encoding="utf-8").rstrip("\n")
    )
    return copy / "home"


def test_a_store_made_by_schema_v3_opens_verifies_and_reads(
    v3_store: Path, signoff: Runner
) -> None:
    con = duckdb.connect(str(v3_store / "signoff.duckdb"), read_only=True)
    made_at = con.execute("SELECT max(version) FROM schema_version").fetchone()
    con.close()
    assert made_at == (3,)

    verified = signoff("audit", "verify", "--home", v3_store)
    assert verified.exit_code == 0, verified.output

    from console.registry.estimators import load_artifact
    from console.registry.views import get_version
    from console.store.artifacts import ArtifactStore
    from console.store.db import open_store

    store = open_store(v3_store)
    version = get_version(store, "credit-risk", 1)
    assert (version.author, version.target, version.task_type) == (
        "dana",
        "default",
        "classification",
    )
    assert [c["name"] for c in version.input_schema] == ["income", "debt"]
    data = ArtifactStore(store.artifacts_dir).read_verified(version.artifact_sha256)
    loaded = load_artifact(data, source="fixture", trust_types=tuple(version.trusted_types))
    assert type(loaded.estimator).__name__ == "LogisticRegression"
    store.dispose()

    shown = signoff("show", "credit-risk:1", "--json", "--home", v3_store)
    assert shown.exit_code == 0 and '"author": "dana"' in shown.output
    # A command that signs still works on the old store: its keys and users came through.
    checkpoint = signoff("audit", "checkpoint", "--as", "ada", "--home", v3_store)
    assert checkpoint.exit_code == 0, checkpoint.output
    assert signoff("audit", "verify", "--home", v3_store).exit_code == 0
