"""The batch form of the Python API: many registrations on one connection, each its own unit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sqlmodel import col, func, select

from console import api
from console.auditing import catalogue as actions
from console.errors import BadInput, NotFound
from console.store.db import Store
from console.store.models import AuditEvent, Dataset, ModelVersion
from tests.conftest import BACKENDS, PASSPHRASE, Runner, Team
from tests.session_frames import churn_frame, fitted


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on the DuckDB file and on a PostgreSQL team store."""
    return str(request.param)


def _where(team: Team) -> tuple[str | Path, dict[str, Any]]:
    """What a training script passes to `api.session` for this team's store."""
    if team.store.kind == "duckdb":
        return team.home, {}
    return os.environ["SIGNOFF_DB"], {"home": team.home}  # the `team` fixture's database


def _state(store: Store) -> tuple[int, int, int, list[str]]:
    """Events, versions, datasets and blobs: what a registration leaves behind."""
    with store.session() as session:
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
        versions = session.exec(select(func.count()).select_from(ModelVersion)).one()
        datasets = session.exec(select(func.count()).select_from(Dataset)).one()
    blobs = sorted(p.name for p in store.artifacts_dir.rglob("*") if p.is_file())
    return int(events), int(versions), int(datasets), blobs


def test_a_session_registers_many_versions_each_signed(team: Team, signoff: Runner) -> None:
    where, options = _where(team)
    frame = churn_frame()
    with api.session(where, "dana", passphrase=PASSPHRASE, keys_dir=team.keys, **options) as s:
        done = [
            s.register_model("churn", fitted(frame, c), frame, target="label", tags={"c": str(c)})
            for c in (0.1, 0.5, 1.0, 2.0, 5.0)
        ]
    assert [r.version for r in done] == [1, 2, 3, 4, 5]
    assert len({r.artifact_sha256 for r in done}) == 5
    with team.store.session() as session:
        registered = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == actions.VERSION_REGISTERED)
            .order_by(col(AuditEvent.seq))
        ).all()
    assert [e.subject for e in registered] == [f"churn:{n}" for n in range(1, 6)]
    assert [e.seq for e in registered] == [r.event_seq for r in done]
    assert {e.actor for e in registered} == {"dana"}
    verified = signoff("audit", "verify", "--home", team.home)
    assert verified.exit_code == 0, verified.output


def test_a_failure_mid_session_keeps_the_earlier_and_leaves_nothing_of_itself(
    team: Team, signoff: Runner
) -> None:
    frame = churn_frame()
    with api.session(team.store, team["dana"]) as s:
        s.register_model("churn", fitted(frame, 0.5), frame, target="label")
        s.register_model("churn", fitted(frame, 1.0), frame, target="label")
        before = _state(team.store)
        with pytest.raises(BadInput):  # a bad artifact: refused before the transaction
            s.register_model("churn", LogisticRegression(), frame, target="label")
        assert _state(team.store) == before
        with pytest.raises(NotFound):  # fails inside the transaction, after the blob was put
            s.register_model(
                "churn", fitted(frame, 2.0), churn_frame(seed=9), target="label", parent=9
            )
        assert _state(team.store) == before
        after = s.register_model("churn", fitted(frame, 3.0), frame, target="label")
    assert after.version == 3  # the failed ones took no number
    events, versions, datasets, blobs = _state(team.store)
    assert (events, versions, datasets) == (before[0] + 1, before[1] + 1, before[2])
    assert len(blobs) == len(before[3]) + 1
    verified = signoff("audit", "verify", "--home", team.home)
    assert verified.exit_code == 0, verified.output


def test_a_closed_session_refuses_to_register(team: Team) -> None:
    frame = churn_frame()
    with api.session(team.store, team["dana"]) as s:
        s.register_model("churn", fitted(frame), frame, target="label")
    before = _state(team.store)
    with pytest.raises(BadInput, match="closed"):
        s.register_model("churn", fitted(frame, 2.0), frame, target="label")
    assert _state(team.store) == before


def test_a_session_checks_the_actor_on_every_registration(team: Team, signoff: Runner) -> None:
    """The signer is unlocked once, but each unit re-checks it: revoked mid-session, refused."""
    from console.errors import Refused

    frame = churn_frame()
    with api.session(team.store, team["dana"]) as s:
        s.register_model("churn", fitted(frame), frame, target="label")
        from console.identity.users import revoke_user

        revoke_user(team.store, team["ada"], "dana")
        before = _state(team.store)
        with pytest.raises(Refused):
            s.register_model("churn", fitted(frame, 2.0), frame, target="label")
        assert _state(team.store) == before


def test_a_session_needs_a_passphrase_for_a_name(team: Team) -> None:
    with pytest.raises(BadInput, match="passphrase"), api.session(team.store, "dana"):
        pass


@pytest.mark.parametrize("backend", ["duckdb"])
def test_the_profile_and_digest_are_the_ones_a_file_gives(team: Team, tmp_path: Path) -> None:
    """A frame profiled in a session gets the very profile and digest that profiling its
    Parquet file on its own connection (the one-call way, and the CLI's) gives."""
    from audit.canonical import canonical_json
    from console.files import input_sha256
    from console.registry.profiling import profile_dataset

    rng = np.random.default_rng(3)
    rows = 400
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 100.0, size=rows),
            "count": rng.integers(0, 50, size=rows),
            "region": rng.choice(
                np.array(["north", "south", "east", None], dtype=object), size=rows
            ),
            "flag": rng.random(size=rows) > 0.3,
            "seen": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, rows), "D"),
        }
    )
    frame.loc[::17, "amount"] = np.nan
    frame.loc[5, "amount"] = np.inf
    frame["label"] = (frame["amount"].fillna(0) > 200).astype(int)
    model = LogisticRegression().fit(frame[["count"]], frame["label"])
    with api.session(team.store, team["dana"]) as s:
        done = s.register_model("mixed", model, frame, target="label")
    path = tmp_path / "train.parquet"
    frame.to_parquet(path, index=False)
    assert done.dataset_sha256 == input_sha256(path)
    with team.store.session() as session:
        stored = session.get(Dataset, done.dataset_sha256)
        assert stored is not None
    assert stored.profile == canonical_json(profile_dataset(path)).decode()


def test_serial_and_parallel_profiles_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small datasets are profiled one query after another; the profile does not change."""
    import console.registry.profiling as profiling
    from console.analytics import connect

    path = tmp_path / "train.parquet"
    frame = churn_frame(rows=3000)
    frame["kind"] = np.where(frame["a"] > 0, "up", "down")
    frame["constant"] = 1.0
    frame["wild"] = frame["b"].where(frame["c"] > -1)  # NaN, counted as null
    frame.loc[::50, "wild"] = np.inf
    frame["whole"] = np.arange(len(frame)) % 7
    frame.to_parquet(path, index=False)
    serial = profiling.profile_dataset(path)
    con = connect(tmp_path / "spill")
    try:
        shared = profiling.profile_dataset(path, con=con)
    finally:
        con.close()
    monkeypatch.setattr(profiling, "SERIAL_ROWS", 0)  # a thread pool, a query per column
    assert profiling.profile_dataset(path) == serial == shared


def _plain_frame(rows: int = 500, seed: int = 11) -> pd.DataFrame:
    """Every column type the session profiles in memory: numbers with NaN, infinities and
    nulls, nullable and unsigned integers, float32, booleans, text with missing values."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 100.0, size=rows),
            "count": rng.integers(-20, 50, size=rows),
            "ratio": rng.normal(size=rows).astype("float32"),
            "visits": pd.array(rng.integers(0, 9, size=rows), dtype="Int64"),
            "small": rng.integers(0, 250, size=rows).astype("uint8"),
            "huge": rng.integers(2**60, 2**62, size=rows),  # not exact as doubles
            "flag": rng.random(size=rows) > 0.3,
            "region": rng.choice(np.array(["north", "south", None], dtype=object), size=rows),
            "constant": np.full(rows, 2.5),
        }
    )
    frame.loc[::13, "amount"] = np.nan
    frame.loc[4, "amount"] = np.inf
    frame.loc[6, "amount"] = -np.inf
    frame.loc[::29, "visits"] = pd.NA
    frame["label"] = (frame["count"] > 10).astype(int)
    return frame


@pytest.mark.parametrize("backend", ["duckdb"])
def test_a_session_profiles_a_frame_as_the_cli_profiles_its_file(
    team: Team, signoff: Runner, tmp_path: Path
) -> None:
    """The session profiles its frame in memory; the CLI, registering the frame's Parquet file
    on another store, records the same dataset: digest, profile, schema and metrics."""
    import skops.io as sio

    from tests.conftest import make_team

    frame = _plain_frame()
    features = ["count", "ratio", "small", "flag"]
    model = LogisticRegression().fit(frame[features], frame["label"])
    data, artifact = tmp_path / "train.parquet", tmp_path / "model.skops"
    frame.to_parquet(data, index=False)
    artifact.write_bytes(sio.dumps(model))
    by_cli = signoff(
        "register", "risk", "--artifact", artifact, "--train-data", data, "--target", "label",
        "--home", team.home, "--as", "dana",
    )  # fmt: skip
    assert by_cli.exit_code == 0, by_cli.output
    other = make_team(tmp_path / "other", tmp_path / "other-keys")
    with api.session(other.store, other["dana"]) as s:
        s.register_model("risk", model, frame, target="label")

    def recorded(store: Store) -> tuple[str, str, str, str]:
        with store.session() as session:
            version = session.get(ModelVersion, ("risk", 1))
            assert version is not None
            dataset = session.get(Dataset, version.train_dataset_sha256)
            assert dataset is not None
            return dataset.sha256, dataset.profile, version.input_schema, version.metrics

    assert recorded(other.store) == recorded(team.store)
    other.store.dispose()


def test_a_frame_refused_mid_session_leaves_nothing(team: Team) -> None:
    """A frame the checks refuse after profiling it in memory, or one Parquet cannot hold: one
    BadInput line each, the store as it was, and the session goes on."""
    frame = churn_frame()
    with api.session(team.store, team["dana"]) as s:
        s.register_model("churn", fitted(frame), frame, target="label")
        before = _state(team.store)
        with pytest.raises(BadInput, match="target column 'outcome'"):
            s.register_model("churn", fitted(frame, 2.0), frame, target="outcome")
        twice = pd.concat([frame, frame["a"]], axis=1)  # two columns named "a"
        with pytest.raises(BadInput, match="as Parquet"):
            s.register_model("churn", fitted(frame, 2.0), twice, target="label")
        assert _state(team.store) == before
        after = s.register_model("churn", fitted(frame, 2.0), frame, target="label")
    assert after.version == 2
    assert _state(team.store)[1] == before[1] + 1


def test_a_session_reads_the_policy_again_once_another_unit_wrote(team: Team) -> None:
    """The session keeps the policy it read while the log's head is the one it left; a policy
    set mid-session moves the head, so the next registration checks its tier against the new
    one (and proves the actor again)."""
    from console.release.policy import default_policy_text, set_policy

    frame = churn_frame()
    critical = dict(info=api.ModelInfo(risk_tier="critical"))
    with api.session(team.store, team["dana"]) as s:
        s.register_model("churn", fitted(frame), frame, target="label")
        s.register_model("churn", fitted(frame, 2.0), frame, target="label")
        with pytest.raises(BadInput, match="unknown risk tier 'critical'"):
            s.register_model("fraud", fitted(frame), frame, target="label", **critical)
        text = default_policy_text().replace(
            "version = 1\n", 'version = 1\ntiers = ["low", "medium", "high", "critical"]\n'
        )
        set_policy(team.store, team["ada"], text, "test")
        done = s.register_model("fraud", fitted(frame), frame, target="label", **critical)
    assert (done.model, done.version) == ("fraud", 1)
