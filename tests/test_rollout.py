"""Canary rules against logged outcomes: a step is held to `monitor compare` on the stage's
primary metric (abort refused, inconclusive only with a signed, flagged override).

The store is test_monitoring's template (credit-risk v1 in production, v2 its 10% canary, both
validated); each test logs its own traffic for the two arms since the canary started.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from sklearn.metrics import roc_auc_score

from console.monitoring import ingest_outcomes, ingest_predictions
from console.monitoring.compare import canary_state, compare_canary
from console.release.policy import set_policy
from console.store.db import Store
from fixtures.credit import make_credit_drifted
from tests import test_monitoring as monitoring
from tests.conftest import Runner, one_line_error
from tests.test_monitoring import FEATURES, MODEL, POLICY, signer

# test_monitoring's store: built once for this module too, copied for each test.
template = monitoring.template
home = monitoring.home

STEP_ARGS = ("canary", "step", MODEL, "--stage", "production", "--as", "rel")


def traffic(home: Path, *, canary: str, rows: int = 400, scores: bool = True) -> pd.DataFrame:
    """Log `rows` labelled predictions per arm since the canary started. The champion's scores
    overlap between the classes; the canary's are `perfect`, the same `noisy` kind, or `wrong`."""
    store = Store(home)
    state = canary_state(store, MODEL, "production")
    assert state is not None
    started = datetime.strptime(state.started_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    frame = make_credit_drifted(2 * rows, seed=91, shift=0.0)
    rng = np.random.default_rng(5)
    parts = []
    for index, (version, kind) in enumerate(((1, "noisy"), (2, canary))):
        part = frame.iloc[index * rows : (index + 1) * rows].reset_index(drop=True)
        y = part["default"].to_numpy().astype(int)
        noise = rng.uniform(size=rows)
        score = {
            "perfect": 0.7 * y + 0.3 * noise,
            "noisy": 0.3 * y + 0.7 * noise,
            "wrong": 0.3 * (1 - y) + 0.7 * noise,
        }[kind]
        log = pd.DataFrame(
            {
                "timestamp": [
                    (started + timedelta(minutes=m + 1)).isoformat() + "Z" for m in range(rows)
                ],
                "version": version,
                "request_id": [f"t{version}-{m}" for m in range(rows)],
                "prediction": (score > 0.5).astype(int),
            }
        )
        if scores:
            log["score"] = np.round(score, 6)
        parts.append(log.join(part[FEATURES]).assign(outcome=y))
    logged = pd.concat(parts, ignore_index=True)
    logged.drop(columns="outcome").to_parquet(home.parent / "canary.parquet")
    logged[["request_id", "outcome"]].to_json(
        home.parent / "outcomes.jsonl", orient="records", lines=True
    )
    me = signer(home, "rel")
    ingest_predictions(
        store, me, MODEL, home.parent / "canary.parquet", stage="production",
        allow_backfill="test: canary traffic simulated ahead of the clock",
    )  # fmt: skip
    ingest_outcomes(store, me, MODEL, home.parent / "outcomes.jsonl")
    store.dispose()
    return logged


def last_stage_event(home: Path) -> dict[str, object]:
    store = Store(home)
    from sqlmodel import col, select

    from console.store.models import AuditEvent

    with store.session() as session:
        event = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.action).in_(("canary.step", "canary.completed")))
            .order_by(col(AuditEvent.seq).desc())
        ).first()
        assert event is not None
        payload: dict[str, object] = json.loads(bytes(event.payload))
    store.dispose()
    return payload


def test_compare_uses_the_stages_primary_metric(home: Path, signoff: Runner) -> None:
    logged = traffic(home, canary="noisy")
    result = compare_canary(Store(home), MODEL, "production")
    assert (result.metric, result.primary_metric, result.metric_note) == ("roc_auc", "roc_auc", "")
    for arm in (result.champion, result.canary):
        rows = logged[logged["version"] == arm.version]
        assert arm.rows == len(rows)
        assert arm.value == pytest.approx(roc_auc_score(rows["outcome"], rows["score"]), abs=1e-9)
    assert result.difference == pytest.approx(result.canary.value - result.champion.value)  # type: ignore[operator]
    out = signoff("monitor", "compare", MODEL, "--stage", "production", "--home", home).output
    assert "metric: roc_auc (the stage's primary metric)" in out
    # A policy may choose accuracy instead; an unknown metric is refused at `policy set`.
    accuracy = POLICY.replace(
        "canary_steps = [10, 50, 100]", 'canary_steps = [10, 50, 100]\nprimary_metric = "accuracy"'
    )
    policy_file = home.parent / "accuracy.toml"
    policy_file.write_text(accuracy.replace('"accuracy"', '"f1"'))
    line = one_line_error(
        signoff("policy", "set", policy_file, "--home", home, "--as", "ada"), code=2
    )
    assert "primary_metric must be one of roc_auc, accuracy" in line
    set_policy(Store(home), signer(home, "ada"), accuracy, "accuracy.toml")
    result = compare_canary(Store(home), MODEL, "production")
    assert (result.metric, result.primary_metric) == ("accuracy", "accuracy")
    correct = logged["prediction"] == logged["outcome"]
    assert result.canary.value == pytest.approx(correct[logged["version"] == 2].mean())


def test_without_scores_compare_falls_back_to_accuracy_and_says_so(
    home: Path, signoff: Runner
) -> None:
    traffic(home, canary="noisy", scores=False)
    out = signoff("monitor", "compare", MODEL, "--stage", "production", "--home", home).output
    assert (
        "metric: accuracy (roc_auc not computable (an arm has labelled rows without a score" in out
    )


def test_a_step_is_refused_when_compare_recommends_abort(
    home: Path,
    signoff: Runner,
    unchanged,  # type: ignore[no-untyped-def]
) -> None:
    traffic(home, canary="wrong")
    check = unchanged(home)
    line = one_line_error(signoff(*STEP_ARGS, "--home", home), code=3)
    assert "`monitor compare` recommends abort (ABORT on roc_auc" in line
    assert f"signoff canary abort {MODEL} --stage production" in line
    one_line_error(signoff(*STEP_ARGS, "--override", "ship it", "--home", home), code=3)
    check()
    aborted = signoff(
        "canary", "abort", MODEL, "--stage", "production", "--reason", "worse AUC", "--as", "rel",
        "--home", home,
    )  # fmt: skip
    assert aborted.exit_code == 0, aborted.output


def test_a_recommended_step_needs_no_override(
    home: Path,
    signoff: Runner,
    unchanged,  # type: ignore[no-untyped-def]
) -> None:
    traffic(home, canary="perfect")
    check = unchanged(home)
    line = one_line_error(signoff(*STEP_ARGS, "--override", "why not", "--home", home))
    assert "--override is only for an inconclusive comparison" in line
    check()
    stepped = signoff(*STEP_ARGS, "--home", home)
    assert stepped.exit_code == 0, stepped.output
    assert "compare: STEP on roc_auc" in stepped.output and "at 50%" in stepped.output
    assert "override" not in stepped.output
    payload = last_stage_event(home)
    assert (payload["break_glass"], payload["reason"]) == (False, "")
    comparison = payload["comparison"]
    assert isinstance(comparison, dict)
    assert (comparison["recommendation"], comparison["metric"]) == ("step", "roc_auc")
    assert comparison["champion_rows"] == comparison["canary_rows"] == 400


def test_an_inconclusive_comparison_needs_a_signed_flagged_override(
    home: Path,
    signoff: Runner,
    unchanged,  # type: ignore[no-untyped-def]
) -> None:
    traffic(home, canary="noisy", rows=50)  # below the policy's min_compare_rows of 100
    check = unchanged(home)
    line = one_line_error(signoff(*STEP_ARGS, "--home", home), code=3)
    assert "inconclusive (WAIT" in line and "too few outcomes" in line and "--override" in line
    one_line_error(signoff(*STEP_ARGS, "--override", "", "--home", home), code=2)
    one_line_error(signoff(*STEP_ARGS, "--override", "a\x1bb", "--home", home), code=2)
    check()
    reason = "CAB-1142: ramp approved while outcomes lag"
    stepped = signoff(*STEP_ARGS, "--override", reason, "--home", home)
    assert stepped.exit_code == 0, stepped.output
    assert "recorded as an override" in stepped.output
    payload = last_stage_event(home)
    assert (payload["break_glass"], payload["reason"]) == (True, reason)
    assert isinstance(payload["comparison"], dict)
    assert payload["comparison"]["recommendation"] == "wait"
    history = signoff("history", MODEL, "--stage", "production", "--home", home).output
    assert f"OVERRIDE of an inconclusive comparison: {reason}" in history
    assert signoff("audit", "verify", "--home", home).exit_code == 0
    report = home.parent / "report.pdf"
    made = signoff("report", f"{MODEL}:2", "-o", report, "--as", "aud", "--home", home)
    assert made.exit_code == 0, made.output
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in PdfReader(io.BytesIO(report.read_bytes())).pages
    )
    assert "OVERRIDE" in text and "past an inconclusive canary comparison" in text


def test_the_release_screen_refuses_a_step_compare_says_to_abort() -> None:
    from console.release.canary import ABORT, WAIT, StepAdvice
    from console.tui.release_data import StageRow, step_prompt

    row = StageRow(MODEL, "production", 1, "", "rel", "", None, 2, 10, [10, 50, 100])
    advice = StepAdvice(ABORT, "roc_auc", "worse", -0.2, [-0.3, -0.1], 400, 400)
    title, detail = step_prompt(row, advice)
    assert "cannot step" in title and "ABORT on roc_auc: worse" in detail and "x" in detail
    title, detail = step_prompt(row, StepAdvice(WAIT, None, "no outcomes", None, None, 0, 0))
    assert title.startswith("Step the canary") and "override reason" in detail
