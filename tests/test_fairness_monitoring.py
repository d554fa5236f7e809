"""Fairness watched in production: sensitive columns kept in logs, gaps per window, alerts.

The tests run on a copy of a small team store built once per module: credit-risk v1 in
production, validated over two sensitive attributes (gender and age_band); four weeks of logged
predictions carrying both attributes, and outcomes for most of them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from console import api
from console.auditing.trail import list_events
from console.monitoring import list_alerts
from console.monitoring.logs import log_batches
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from fixtures.credit import make_credit_drifted
from tests.conftest import Runner, make_team, one_line_error
from tests.test_monitoring import FEATURES, MODEL, POLICY, WEEK_ONE, _pipeline

Unchanged = Callable[[Path], Callable[[], None]]
ROWS = 400  # per week


def _weeks(estimator: object, weeks: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`weeks` weeks of logged predictions with gender and age_band, and their outcomes."""
    logs, outcomes = [], []
    for week in range(weeks):
        frame = make_credit_drifted(ROWS, seed=500 + week, shift=0.0)
        start = WEEK_ONE + timedelta(weeks=week)
        ids = [f"w{week}-{i:04d}" for i in range(ROWS)]
        logs.append(
            pd.DataFrame(
                {
                    "timestamp": [
                        (start + timedelta(minutes=20 * i + 3)).strftime("%Y-%m-%dT%H:%M:%SZ")
                        for i in range(ROWS)
                    ],
                    "version": 1,
                    "request_id": ids,
                    "prediction": estimator.predict(frame[FEATURES]),  # type: ignore[attr-defined]
                    "score": estimator.predict_proba(frame[FEATURES])[:, 1],  # type: ignore[attr-defined]
                    **{c: frame[c] for c in FEATURES},
                    "gender": frame["gender"],
                    "age_band": frame["age_band"],
                }
            )
        )
        outcomes.append(pd.DataFrame({"request_id": ids, "outcome": frame["default"]}))
    return pd.concat(logs, ignore_index=True), pd.concat(outcomes, ignore_index=True)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fairwatch")
    team = make_team(root / "home", root / "keys")
    train = make_credit_drifted(2000, seed=1, shift=0.0)
    fitted = _pipeline(1.0).fit(train[FEATURES], train["default"])
    api.register_model(
        team.store, team["dana"], MODEL, fitted, train[[*FEATURES, "default"]], target="default"
    )
    holdout = root / "holdout.csv"
    make_credit_drifted(800, seed=2, shift=0.0).to_csv(holdout, index=False)
    from console.release.decisions import decide
    from console.release.deployments import promote
    from console.release.policy import set_policy
    from console.release.requests import request_promotion
    from console.validation.service import run_validation

    run_validation(team.store, team["dana"], MODEL, 1, holdout, "default", ["gender", "age_band"])
    set_policy(team.store, team["ada"], POLICY, "policy.toml")
    view = request_promotion(team.store, team["dana"], MODEL, 1, "production", "v1", None)
    decide(team.store, team["rita"], view.id, "approve", "reviewed")
    promote(team.store, team["rel"], view.id)
    data = root / "data"
    data.mkdir()
    log, outcomes = _weeks(fitted)
    log.to_csv(data / "log.csv", index=False)
    outcomes.to_csv(data / "labels.csv", index=False)
    # Week 1 (the second) gets no outcomes: its window has no labelled rows.
    outcomes[~outcomes["request_id"].str.startswith("w1-")].to_csv(
        data / "labels-gap.csv", index=False
    )
    team.store.dispose()
    yield root


@pytest.fixture
def home(template: Path, tmp_path: Path, isolated_env: Path) -> Path:
    shutil.copytree(template / "home", tmp_path / "home")
    shutil.copytree(template / "keys", isolated_env, dirs_exist_ok=True)
    return tmp_path / "home"


@pytest.fixture
def data(template: Path) -> Path:
    return template / "data"


def run(signoff: Runner, home: Path, *args: object) -> tuple[int, str]:
    result = signoff(*args, "--home", home)
    return result.exit_code, result.output


# The fixture's weeks of traffic are dated before its promotion to production.
BACKFILL = ("--allow-backfill", "test: weeks of traffic dated before the fixture's promotion")


def ingest(signoff: Runner, home: Path, log: Path, *extra: str) -> tuple[int, str]:
    return run(
        signoff, home, "monitor", "ingest", MODEL, "--predictions", log, *extra, *BACKFILL,
        "--as", "rel",
    )  # fmt: skip


def stored_columns(home: Path) -> dict[str, str]:
    (batch,) = log_batches(Store(home), MODEL)
    path = ArtifactStore(Store(home).artifacts_dir).path_for(batch.artifact_sha256)
    con = duckdb.connect()
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    finally:
        con.close()
    return {str(r[0]): str(r[1]) for r in described}


# ---- slice 1: ingest keeps sensitive columns ----------------------------------------------------


def test_ingest_keeps_the_validated_attributes_by_default(
    home: Path, data: Path, signoff: Runner
) -> None:
    code, out = ingest(signoff, home, data / "log.csv", "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["sensitive_columns"] == ["gender", "age_band"]  # the latest validation's
    assert "gender" not in result["ignored_columns"]
    columns = stored_columns(home)
    assert columns["gender"] == "VARCHAR" and columns["age_band"] == "VARCHAR"
    (batch,) = log_batches(Store(home), MODEL)
    assert batch.sensitive == ["gender", "age_band"]
    (event,) = list_events(Store(home), action="monitoring.ingested")
    assert event.payload["sensitive_columns"] == ["gender", "age_band"]
    assert run(signoff, home, "audit", "verify")[0] == 0


def test_ingest_sensitive_named_explicitly_and_refusals(
    home: Path, data: Path, signoff: Runner, unchanged: Unchanged, tmp_path: Path
) -> None:
    def refused(log: Path, *extra: str) -> str:
        args = ("monitor", "ingest", MODEL, "--predictions", log, *extra, *BACKFILL, "--as", "rel")
        return one_line_error(signoff(*args, "--home", home))

    check = unchanged(home)
    log = data / "log.csv"
    assert "has no column 'ethnicity' for --sensitive" in refused(log, "--sensitive", "ethnicity")
    assert "reserves" in refused(log, "--sensitive", "prediction")
    assert "twice" in refused(log, "--sensitive", "gender", "--sensitive", "gender")
    banded = pd.read_csv(log).assign(age_band=lambda f: range(len(f)))
    banded.to_csv(tmp_path / "unbanded.csv", index=False)
    message = refused(tmp_path / "unbanded.csv", "--sensitive", "age_band")
    assert "band it into at most 50 groups" in message
    check()

    code, out = ingest(signoff, home, data / "log.csv", "--sensitive", "gender")
    assert code == 0, out
    assert "sensitive columns kept: gender" in out and "ignored columns: age_band" in out
    assert log_batches(Store(home), MODEL)[0].sensitive == ["gender"]


def test_a_sensitive_column_that_is_a_feature_is_allowed_and_kept_once(
    home: Path, data: Path, signoff: Runner
) -> None:
    """Decided: allowed. The feature is in the log already (typed as the feature); recording it
    as sensitive only tells fairness to read it as groups. It is not stored twice."""
    code, out = ingest(
        signoff, home, data / "log.csv", "--sensitive", "employment_type", "--sensitive", "gender"
    )
    assert code == 0, out
    assert log_batches(Store(home), MODEL)[0].sensitive == ["employment_type", "gender"]
    columns = stored_columns(home)
    assert "employment_type" in columns and "age_band" not in columns


# ---- slice 2: fairness per window ---------------------------------------------------------------


def test_fairness_per_window_recorded_with_alerts(
    home: Path, data: Path, signoff: Runner, unchanged: Unchanged
) -> None:
    assert ingest(signoff, home, data / "log.csv")[0] == 0
    code, out = run(
        signoff, home, "monitor", "labels", MODEL, "--file", data / "labels-gap.csv", "--as", "rel"
    )
    assert code == 0, out
    check = unchanged(home)
    code, out = run(signoff, home, "monitor", "fairness", MODEL)  # nobody acts: nothing written
    print(out)
    assert "fairness per 7d window over gender, age_band" in out
    assert "not recorded" in out
    check()
    assert code == 1, out  # crossings not recorded yet count as alerting
    code, out = run(signoff, home, "monitor", "fairness", MODEL, "--as", "raj", "--json")
    assert code == 1, out
    result = json.loads(out)
    windows = result["evaluation"]["windows"]
    assert [w["start"][:10] for w in windows] == [
        "2026-09-07", "2026-09-14", "2026-09-21", "2026-09-28",
    ]  # fmt: skip
    gap = windows[1]  # the week without outcomes: insufficient, nothing compared, no alert
    assert gap["status"] == "insufficient" and gap["rows"] == 0 and not gap["crossings"]
    assert gap["result"]["attributes"]["gender"]["labelled"] == 0
    assert set(windows[0]["result"]["attributes"]) == {"gender", "age_band"}
    alerts = list_alerts(Store(home), MODEL)
    assert alerts and all(a.kind.startswith("fairness.") for a in alerts)
    assert {a.subject for a in alerts} <= {"gender", "age_band"}
    assert "2026-09-14" not in {a.window_start[:10] for a in alerts}
    assert len(alerts) == len(result["recorded"]["alerts"])

    # The same numbers validation's function gives: selection rate per gender at score > 0.5.
    log = pd.read_csv(data / "log.csv").merge(pd.read_csv(data / "labels-gap.csv"))
    first = log[log["request_id"].str.startswith("w0-")]
    rates = (first["score"] > 0.5).groupby(first["gender"]).mean()
    entry = windows[0]["result"]["attributes"]["gender"]
    assert entry["decision"] == "score > 0.5"
    assert entry["demographic_parity"]["value"] == pytest.approx(rates.max() - rates.min())

    check = unchanged(home)  # nothing new: no write, not even an event
    code, out = run(signoff, home, "monitor", "fairness", MODEL, "--as", "raj")
    assert code == 1 and "nothing new to record" in out
    check()
    code, out = run(signoff, home, "monitor", "alerts", MODEL)
    assert "fairness.demographic_parity" in out
    result = signoff("monitor", "fairness", MODEL, "--sensitive", "region", "--home", home)
    assert "keeps the sensitive column 'region'" in one_line_error(result)
    code, out = run(
        signoff, home, "monitor", "fairness", MODEL, "--sensitive", "age_band", "--json"
    )
    assert json.loads(out)["evaluation"]["attributes"] == ["age_band"]
    assert run(signoff, home, "audit", "verify")[0] == 0  # replay proves windows and alerts


def test_no_sensitive_column_logged_is_one_clear_line(
    home: Path, data: Path, signoff: Runner, tmp_path: Path
) -> None:
    bare = pd.read_csv(data / "log.csv").drop(columns=["gender", "age_band"])
    bare.to_csv(tmp_path / "bare.csv", index=False)
    assert ingest(signoff, home, tmp_path / "bare.csv")[0] == 0
    result = signoff("monitor", "fairness", MODEL, "--home", home)
    assert "keeps a sensitive column; ingest logs with" in one_line_error(result)


def test_a_single_group_attribute_has_nothing_to_compare_and_never_alerts(
    home: Path, data: Path, signoff: Runner, tmp_path: Path
) -> None:
    single = pd.read_csv(data / "log.csv").assign(region="north")
    single.to_csv(tmp_path / "single.csv", index=False)
    assert ingest(signoff, home, tmp_path / "single.csv", "--sensitive", "region")[0] == 0
    run(signoff, home, "monitor", "labels", MODEL, "--file", data / "labels.csv", "--as", "rel")
    code, out = run(signoff, home, "monitor", "fairness", MODEL, "--as", "raj", "--json")
    assert code == 0, out
    for window in json.loads(out)["evaluation"]["windows"]:
        entry = window["result"]["attributes"]["region"]
        assert entry["demographic_parity"]["value"] is None
        assert not window["crossings"] and window["status"] == "ok"
    assert list_alerts(Store(home), MODEL) == []


def test_control_characters_in_group_values_are_kept_and_shown_escaped(
    home: Path, data: Path, signoff: Runner, tmp_path: Path
) -> None:
    """Values are data: stored as they are; every face escapes them."""
    hostile = pd.read_csv(data / "log.csv")
    hostile["gender"] = hostile["gender"].map({"female": "fe\x1b[2Jmale", "male": "male\u202e"})
    hostile.to_csv(tmp_path / "hostile.csv", index=False)
    assert ingest(signoff, home, tmp_path / "hostile.csv", "--sensitive", "gender")[0] == 0
    run(signoff, home, "monitor", "labels", MODEL, "--file", data / "labels.csv", "--as", "rel")
    code, out = run(signoff, home, "monitor", "fairness", MODEL, "--as", "raj")
    assert code == 1, out
    assert "\x1b" not in out and "\u202e" not in out
    code, out = run(signoff, home, "monitor", "fairness", MODEL, "--json")
    assert "\x1b" not in out and "\u202e" not in out
    groups = json.loads(out)["evaluation"]["windows"][0]["result"]["attributes"]["gender"]
    assert set(groups["demographic_parity"]["detail"]["rates"]) == {"fe\x1b[2Jmale", "male\u202e"}
    assert run(signoff, home, "audit", "verify")[0] == 0


# ---- slice 3: faces ----------------------------------------------------------------------------


def test_reports_show_production_fairness_and_the_checklist_cites_it(
    home: Path, data: Path, signoff: Runner
) -> None:
    from reports.checklist import find_evidence
    from reports.snapshot import take_snapshot
    from tests.test_reports import pdf_text, squeeze

    assert ingest(signoff, home, data / "log.csv")[0] == 0
    run(signoff, home, "monitor", "labels", MODEL, "--file", data / "labels-gap.csv", "--as", "rel")
    run(signoff, home, "monitor", "fairness", MODEL, "--as", "raj")
    out = home.parent / "report.pdf"
    result = signoff(
        "report", f"{MODEL}:1", "--framework", "nist-ai-rmf", "-o", out, "--home", home,
        "--as", "aud",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = squeeze(pdf_text(out.read_bytes()))
    assert "fairnesswindows" in text and "Demographicparity" in text
    assert "productionfairnesswindow(s)(monitoring.fairness_evaluated#" in text
    assert "fairness.demographic_parity" in text  # its alerts, in the alert table

    fairness = find_evidence(take_snapshot(Store(home), as_of=None), MODEL, 1)[
        "validation.fairness"
    ]
    assert any("production fairness window(s)" in r for r in fairness.refs)
    assert fairness.problems and all("fairness." in p for p in fairness.problems)  # open alerts


# ---- slice 4: the demo --------------------------------------------------------------------------


def test_the_demo_monitors_two_sensitive_attributes(demo_template: Path) -> None:
    from console.monitoring import monitoring_summary
    from console.monitoring.fairness_rows import fairness_rows

    summary = monitoring_summary(Store(demo_template), MODEL)
    assert all(b.sensitive == ["gender", "age_band"] for b in summary.logs)
    assert len(summary.fairness_windows) == 8
    rows = fairness_rows(summary.fairness_windows)
    assert {r.attribute for r in rows} == {"gender", "age_band"}
    assert all(r.labelled > 0 and r.gaps["demographic_parity"].value is not None for r in rows)
    fairness = [a for a in summary.alerts if a.kind.startswith("fairness.")]
    assert {(a.version, a.subject) for a in fairness} <= {(2, "gender"), (2, "age_band")}


# ---- slice 5: the cron check watches fairness ---------------------------------------------------


def _policy_with_triggers(tmp_path: Path, triggers: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY + f"retrain_triggers = {triggers}\n", encoding="utf-8")
    return path


def test_check_records_fairness_and_a_policy_may_retrain_on_its_alerts(
    home: Path, data: Path, signoff: Runner, unchanged: Unchanged, tmp_path: Path
) -> None:
    assert ingest(signoff, home, data / "log.csv")[0] == 0
    run(signoff, home, "monitor", "labels", MODEL, "--file", data / "labels.csv", "--as", "rel")

    # The default triggers: fairness is evaluated and alerts, but opens no retraining job.
    code, out = run(signoff, home, "monitor", "check", "--as", "rel", "--json")
    assert code == 0, out
    (checked,) = json.loads(out)["models"]
    assert len(checked["fairness"]["windows"]) == 4 and checked["fairness"]["event_seq"]
    opened = checked["fairness"]["alerts"]
    assert opened and all(a["kind"].startswith("fairness.") for a in opened)
    assert {a["subject"] for a in opened} <= {"gender", "age_band"}
    assert all(t["trigger"] != "fairness_alert" for t in checked["triggers"].get("1", []))
    assert [e.actor for e in list_events(Store(home), action="monitoring.fairness_evaluated")] == [
        "rel"
    ]
    check = unchanged(home)  # `monitor fairness` finds what check recorded: nothing new
    code, out = run(signoff, home, "monitor", "fairness", MODEL, "--as", "raj")
    assert code == 1 and "nothing new to record" in out
    check()

    # A policy that names fairness_alert: the open fairness alerts open one job.
    policy = _policy_with_triggers(tmp_path, '["fairness_alert"]')
    assert run(signoff, home, "policy", "set", policy, "--as", "ada")[0] == 0
    code, out = run(signoff, home, "monitor", "check", "--as", "rel")
    assert code == 0, out
    assert "v1: triggers fairness_alert" in out and "opened retraining job 1 for v1" in out
    (event,) = list_events(Store(home), action="monitoring.retraining_requested")
    triggers = event.payload["triggers"]
    assert isinstance(triggers, list) and len(triggers) == 1
    trigger = triggers[0]
    open_ids = {a.id for a in list_alerts(Store(home), MODEL) if a.status == "open"}
    assert trigger["trigger"] == "fairness_alert" and set(trigger["alerts"]) == open_ids
    check = unchanged(home)  # cron runs it again: the job is open, nothing is written
    code, out = run(signoff, home, "monitor", "check", "--as", "rel")
    assert code == 0 and "retraining job 1 for v1 is already open" in out
    check()
    assert run(signoff, home, "audit", "verify")[0] == 0


def test_check_without_sensitive_logs_skips_fairness_and_a_bad_trigger_is_refused(
    home: Path, data: Path, signoff: Runner, unchanged: Unchanged, tmp_path: Path
) -> None:
    bare = pd.read_csv(data / "log.csv").drop(columns=["gender", "age_band"])
    bare.to_csv(tmp_path / "bare.csv", index=False)
    assert ingest(signoff, home, tmp_path / "bare.csv")[0] == 0
    code, out = run(signoff, home, "monitor", "check", "--as", "rel", "--json")
    assert code == 0, out  # the check still runs drift and performance
    (checked,) = json.loads(out)["models"]
    assert checked["fairness"]["windows"] == [] and checked["fairness"]["event_seq"] is None
    assert any("keeps a sensitive column: no fairness" in n for n in checked["notes"])

    check = unchanged(home)
    policy = _policy_with_triggers(tmp_path, '["fairness"]')
    result = signoff("policy", "set", policy, "--as", "ada", "--home", home)
    assert "retrain_triggers must be a list of" in one_line_error(result)
    assert "fairness_alert" in one_line_error(result)
    check()
