"""A session's version rows and events go in as driver statements: the same bytes as the ORM's."""

from __future__ import annotations

import hashlib
import itertools
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from console.api import _parquet, _saved
from console.auditing.trail import verify_store
from console.registry import version_rows
from console.registry.cards import set_card_fields
from console.registry.register import RegisterRequest, register_version
from console.registry.session_memory import ProfiledFrames, Proven
from console.store.db import Store
from tests.conftest import Team
from tests.session_frames import churn_frame

TABLES = {
    "audit_events": "seq",
    "model_versions": "model, number",
    "card_fields": "model, version, field",
    "datasets": "sha256",
    "models": "name",
}


def fingerprint(store: Store) -> dict[str, str]:
    """Each table's rows, in key order, as one digest per table."""
    digests = {}
    with store.session() as session:
        for table, order in TABLES.items():
            rows = session.connection().execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(row)).encode())
            digests[table] = digest.hexdigest()
    return digests


Artifacts = list[tuple[bytes, tuple[str, ...]]]


def _artifacts(frame: pd.DataFrame) -> Artifacts:
    """Saved once: skops' bytes differ from one dump to the next."""
    x = frame[["a", "b", "c"]]
    return [_saved(LogisticRegression(C=c).fit(x, frame["label"])) for c in (0.5, 1.0, 2.0, 4.0)]


def _register_all(store: Store, team: Team, artifacts: Artifacts) -> list[int]:
    """The same registrations on either store: a new model, remembered versions, a card
    inherited, a duplicate allowed, a parent named, a second frame; one session's memory."""
    ticks = itertools.count()
    store.clock = lambda: f"2030-03-01T10:00:{next(ticks):02d}.000000Z"
    first, second = churn_frame(), churn_frame(seed=11)

    def request(index: int, frame: pd.DataFrame, **extra: object) -> RegisterRequest:
        data, trusted = artifacts[index]
        return RegisterRequest(
            model="churn",
            artifact=data,
            artifact_source="churn (in-process estimator)",
            train_data=Path("train.parquet"),
            target="label",
            trust_types=trusted,
            train_parquet=_parquet(frame),
            **extra,  # type: ignore[arg-type]
        )

    proven, frames = Proven(), ProfiledFrames()
    numbers = []
    with store.reading():
        for index in (0, 1):
            done = register_version(
                store, team["dana"], request(index, first), proven=proven, frames=frames
            )
            numbers.append(done.version)
        set_card_fields(store, team["dana"], "churn", 2, {"license": "apache-2.0"})
        for req in (
            request(2, first),  # inherits v2's card, after a write the session did not make
            request(0, first, allow_duplicate=True),
            request(3, second, parent=1),
        ):
            numbers.append(
                register_version(store, team["dana"], req, proven=proven, frames=frames).version
            )
    return numbers


def test_driver_statements_store_the_orms_bytes(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = _artifacts(churn_frame())
    team.store.dispose()
    shutil.copytree(team.home, tmp_path / "orm-home")
    driver, orm = Store(team.home), Store(tmp_path / "orm-home")
    taken: list[bool] = []
    chosen = version_rows.driver_statements

    def spy(session: object) -> bool:
        taken.append(chosen(session))  # type: ignore[arg-type]
        return taken[-1]

    monkeypatch.setattr(version_rows, "driver_statements", spy)
    assert _register_all(driver, team, artifacts) == [1, 2, 3, 4, 5]
    assert taken == [True] * 5
    monkeypatch.setattr(version_rows, "driver_statements", lambda _session: False)
    assert _register_all(orm, team, artifacts) == [1, 2, 3, 4, 5]
    ours, theirs = fingerprint(driver), fingerprint(orm)
    assert ours == theirs
    with driver.session() as session:
        count = session.connection().execute(text("SELECT count(*) FROM audit_events")).scalar()
    assert count is not None and count > 10  # the sequence wrote what it should
    assert verify_store(driver).ok and verify_store(orm).ok
    driver.dispose()
    orm.dispose()


def test_a_failed_driver_insert_changes_nothing(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version row the store refuses (here: its INSERT names a missing table) rolls its event
    back with it, and the model and dataset before them: one transaction, the log verifying."""
    before = fingerprint(team.store)
    frame = churn_frame()
    data, trusted = _saved(LogisticRegression().fit(frame[["a", "b", "c"]], frame["label"]))
    req = RegisterRequest(
        model="churn",
        artifact=data,
        artifact_source="churn (in-process estimator)",
        train_data=Path("train.parquet"),
        target="label",
        trust_types=trusted,
        train_parquet=_parquet(frame),
    )
    wrong = version_rows.VERSION_INSERT.replace("model_versions", "no_such_table")
    monkeypatch.setattr(version_rows, "VERSION_INSERT", wrong)
    with pytest.raises(DBAPIError, match="no_such_table"):
        register_version(team.store, team["dana"], req)
    assert fingerprint(team.store) == before
    assert verify_store(team.store).ok
