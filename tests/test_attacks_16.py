"""Issue 16, held under attack: each test attacks one class of defect (the item number is in its
name): a failed output leaves no event (4), time never runs backwards in the log (10), a demo
is whole or absent (11), policy and checkpoint verdicts (12), exit codes (13)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text as sa_text
from sqlmodel import Session

from audit.keys import KeyStore, Signer
from console.auditing.log import append_uncatalogued_event
from console.auditing.trail import issue_checkpoint
from console.errors import Refused
from console.release.decisions import decide
from console.release.deployments import promote
from console.release.requests import get_request, list_requests, request_promotion
from console.store.db import Store
from fixtures.demo import DEMO_PASSPHRASE
from reports.compliance import generate_report
from tests.conftest import Runner, Team, one_line_error, store_fingerprint
from tests.workflow_helpers import record_validation, register_versions, use_policy

Unchanged = Callable[[Path], Callable[[], None]]
MODEL = "credit-risk"
BREAST = "breast-cancer-classifier"
# /proc takes no new files, even for root: a path no test runner can write to.
UNWRITABLE = Path("/proc/signoff-attack/out.pdf")
UNWRITABLE_IN_DIR = Path("/proc/signoff-attack.txt")


def demo_signer(home: Path, name: str) -> Signer:
    keys = KeyStore(home / "demo-keys")
    return Signer(name, keys.load_private(name, DEMO_PASSPHRASE.encode()))


def scalar(home: Path, sql: str) -> object:
    con = duckdb.connect(str(home / "signoff.duckdb"), read_only=True)
    try:
        row = con.execute(sql).fetchone()
        assert row is not None
        return row[0]
    finally:
        con.close()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---- 4: a failed report or checkpoint output leaves neither file nor event ---------------------


@pytest.mark.parametrize("target", [UNWRITABLE, UNWRITABLE_IN_DIR], ids=["no-dir", "no-write"])
def test_item4_report_and_checkpoint_to_unwritable_path_record_nothing(
    signoff: Runner,
    demo_home: Path,
    unchanged: Unchanged,
    target: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    check = unchanged(demo_home)
    result = signoff("report", f"{MODEL}:2", "-o", target, "--home", demo_home, "--as", "aud")
    assert "cannot write" in one_line_error(result)
    check()
    result = signoff("audit", "checkpoint", "-o", target, "--home", demo_home, "--as", "aud")
    assert "cannot write" in one_line_error(result)
    check()


def test_item4_failed_rename_or_commit_leaves_neither_file_nor_event(
    demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(demo_home)
    aud = demo_signer(demo_home, "aud")
    out = tmp_path / "out"
    out.mkdir()
    before = store_fingerprint(demo_home)

    def no_rename(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("console.store.staged_output.os.replace", no_rename)
        with pytest.raises(Exception, match="cannot write"):
            generate_report(store, aud, MODEL, 2, None, output=out / "r.pdf")
        with pytest.raises(Exception, match="cannot write"):
            issue_checkpoint(store, aud, out / "c.txt")
    assert store_fingerprint(demo_home) == before
    assert list(out.iterdir()) == []

    real_commit = Session.commit

    def failing_commit(self: Session) -> None:
        if self.info.get("signoff.audit_head") is not None:  # only a transaction that appended
            raise OSError(5, "Input/output error")
        real_commit(self)

    with monkeypatch.context() as patch:
        patch.setattr(Session, "commit", failing_commit)
        with pytest.raises(Exception, match="Input/output"):
            generate_report(store, aud, MODEL, 2, None, output=out / "r.pdf")
        with pytest.raises(Exception, match="Input/output"):
            issue_checkpoint(store, aud, out / "c.txt")
    assert store_fingerprint(demo_home) == before
    assert list(out.iterdir()) == []

    result = generate_report(store, aud, MODEL, 2, None, output=out / "r.pdf")
    assert (out / "r.pdf").read_bytes() == result.pdf_bytes and result.event_seq is not None
    issue_checkpoint(store, aud, out / "c.txt")
    assert (out / "c.txt").read_text().startswith("signoff/")
    assert leftovers(out) == []


# ---- 10: time in the log never runs backwards; expiry reads the log's time ---------------------


def _times(home: Path) -> list[str]:
    con = duckdb.connect(str(home / "signoff.duckdb"), read_only=True)
    try:
        return [
            str(r[0]) for r in con.execute("SELECT ts FROM audit_events ORDER BY seq").fetchall()
        ]
    finally:
        con.close()


def _instants(times: list[str]) -> list[datetime]:
    return [datetime.fromisoformat(t) for t in times]


def test_item10_clock_set_back_cannot_approve_or_promote_an_expired_request(
    team: Team, tmp_path: Path, signoff: Runner
) -> None:
    register_versions(team, 1)
    use_policy(team, tmp_path)
    record_validation(team, "tumour", 1)
    team.store.clock = lambda: "2027-01-01T00:00:00.000000Z"
    view = request_promotion(team.store, team["dana"], "tumour", 1, "dev", "go")
    team.store.clock = lambda: "2027-03-01T00:00:00.000000Z"
    issue_checkpoint(team.store, team["aud"])  # the log now knows two months went by
    team.store.clock = lambda: "2027-01-01T01:00:00.000000Z"  # set back inside the window
    with pytest.raises(Refused, match="expired"):
        decide(team.store, team["rita"], view.id, "approve", "late")
    with pytest.raises(Refused, match="expired"):
        promote(team.store, team["rel"], view.id)
    assert get_request(team.store, view.id).status == "expired"

    # A request "created in the past" is created at the log's time, not the clock's.
    team.store.clock = lambda: "2000-01-01T00:00:00.000000Z"
    old = request_promotion(team.store, team["dana"], "tumour", 1, "dev", "again")
    assert old.expires_at > "2027-03-01"
    times = _times(team.home)
    assert _instants(times) == sorted(_instants(times))
    assert times[-1].startswith("2027-03-01")
    result = signoff("audit", "verify", "--home", team.home)
    assert result.exit_code == 0, result.output


def test_item10_verify_fails_on_an_event_whose_time_goes_backwards(
    team: Team, signoff: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_audit_export import _offline_verify

    size = len(_times(team.home))
    with monkeypatch.context() as patch:  # a writer that skips the clamp, as a forger would
        patch.setattr("console.auditing.log.event_time", lambda _s, proposed: proposed)
        with team.store.session() as session:
            append_uncatalogued_event(
                session, team["ada"], "test.event", "x", {}, ts="2001-01-01T00:00:00Z"
            )
    result = signoff("audit", "verify", "--home", team.home)
    assert result.exit_code == 1
    assert f"FAILED at sequence {size}: the time goes backwards" in result.output
    exported = signoff("audit", "export", tmp_path / "export", "--home", team.home)
    assert exported.exit_code == 0, exported.output
    offline = _offline_verify(tmp_path / "export")
    assert offline.returncode == 1 and "time goes backwards" in offline.stdout + offline.stderr

    # Through the service, the same old time is clamped and the log verifies after it.
    with team.store.session() as session:
        session.execute(sa_text("DELETE FROM audit_events WHERE seq = :s"), {"s": size})
    with team.store.session() as session:
        event = append_uncatalogued_event(
            session, team["ada"], "test.event", "x", {}, ts="2001-01-01T00:00:00Z"
        )
    assert event.ts == _times(team.home)[size - 1]
    assert signoff("audit", "verify", "--home", team.home).exit_code == 0


# ---- 11: the demo is built aside and moved into place whole ------------------------------------


def test_item11_demo_that_fails_late_leaves_nothing_and_a_retry_needs_no_force(
    tmp_path: Path, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fixtures.demo import build_demo

    home = tmp_path / "demo"

    def killed(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt  # as good as kill -9 for what is on disk at this point

    with monkeypatch.context() as patch:  # the store, team and models exist when this step runs
        patch.setattr("fixtures.demo._validate", killed)
        with pytest.raises(KeyboardInterrupt):
            build_demo(home, echo=lambda _line: None)
    assert not home.exists()
    assert [p.name for p in tmp_path.iterdir() if "demo" in p.name] == []

    (tmp_path / f".{home.name}.demo-partial").mkdir()  # what a real kill -9 leaves behind
    result = signoff("demo", "--home", home)
    assert result.exit_code == 0, result.output
    assert (home / "signoff.duckdb").is_file()
    assert [p.name for p in tmp_path.iterdir() if "demo" in p.name] == ["demo"]
    assert str(tmp_path / ".demo") not in (home / "signoff.duckdb").read_bytes().decode("latin-1")
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    verified = signoff("audit", "verify", "--home", home)
    assert verified.exit_code == 0, verified.output
    shown = signoff("show", f"{MODEL}:2", "--home", home)
    assert shown.exit_code == 0, shown.output


# ---- 12: policy changes that would weaken or strand, and checkpoint verdicts -------------------


def _policy_file(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "is empty"),
        ("   \n# nothing but a comment\n", "is empty"),
        ("version = 1\n", "does not list its stages"),
        ('version = 1\nstages = ["dev", ""]\n', "stage name ''"),
        ('version = 1\nstages = ["dev", " "]\n', "stage name ' '"),
        ('version = 1\nstages = ["dev", "prod\\u001b[2J"]\n', "stage name"),
        ('version = 1\nstages = ["dev", "prod\\u0007"]\n', "stage name"),
        ('version = 1\nstages = ["dev", "prod\\nuction"]\n', "stage name"),
        ('version = 1\nstages = ["dev", "pro\\u200eductions"]\n', "stage name"),
    ],
)
def test_item12_policy_set_refuses_empty_files_and_bad_stage_names(
    demo_home: Path,
    signoff: Runner,
    unchanged: Unchanged,
    tmp_path: Path,
    text: str,
    why: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    check = unchanged(demo_home)
    path = _policy_file(tmp_path, text)
    result = signoff("policy", "set", path, "--home", demo_home, "--as", "ada")
    assert why in one_line_error(result)
    check()


def test_item12_dropping_a_stage_a_model_holds_is_refused_naming_it(
    demo_home: Path,
    signoff: Runner,
    unchanged: Unchanged,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.release.policy import default_policy_text

    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    text = default_policy_text()
    head, production = text.split("[stage.production]")
    without = (
        head.replace('stages = ["dev", "staging", "production"]', 'stages = ["dev", "staging"]')
        + "[rollback]"
        + production.split("[rollback]", 1)[1]
    )
    check = unchanged(demo_home)
    result = signoff(
        "policy", "set", _policy_file(tmp_path, without), "--home", demo_home, "--as", "ada"
    )
    line = one_line_error(result, code=3)
    assert "'production'" in line and MODEL in line
    check()
    renamed = text.replace('"production"', '"prod"').replace("[stage.production]", "[stage.prod]")
    result = signoff(
        "policy", "set", _policy_file(tmp_path, renamed), "--home", demo_home, "--as", "ada"
    )
    assert MODEL in one_line_error(result, code=3)
    check()


def test_item12_forged_or_foreign_checkpoint_is_rejected_not_called_truncation(
    team: Team, demo_home: Path, signoff: Runner, tmp_path: Path
) -> None:
    from console.auditing.trail import latest_checkpoint

    foreign = latest_checkpoint(Store(demo_home))
    assert foreign is not None and foreign.size > len(_times(team.home))
    path = _policy_file(tmp_path, foreign.note, "foreign.txt")
    result = signoff("audit", "verify", "--home", team.home, "--checkpoint", path)
    assert result.exit_code == 1
    assert "checkpoint rejected: it is for another log" in result.output
    assert "truncated" not in result.output

    own = issue_checkpoint(team.store, team["aud"])
    body, _, signature = own.rpartition("\n\n")
    origin, size, root = body.split("\n")[:3]
    inflated = f"{origin}\n{int(size) + 500}\n{root}\n\n{signature}"  # a known key, a bad signature
    path = _policy_file(tmp_path, inflated, "inflated.txt")
    result = signoff("audit", "verify", "--home", team.home, "--checkpoint", path)
    assert result.exit_code == 1
    assert "checkpoint rejected:" in result.output and "does not verify" in result.output
    assert "truncated" not in result.output


# ---- 14: what people wrote is what the PDF says ------------------------------------------------

WRITTEN = "Проверено Łódź Ελληνικά ✓ ✗ → Ωμέγα"
NOT_EMBEDDED = "中文 😀"  # no shipped font draws these: printed as their code points


def test_item14_pdfs_keep_non_latin_text_and_check_marks(demo_home: Path) -> None:
    import io
    import re

    from pypdf import PdfReader

    from console.registry.cards import set_card_fields
    from reports.card_data import build_card
    from reports.card_pdf import render_pdf
    from tests.conftest import demo_store

    store = demo_store(demo_home)
    rita = demo_signer(demo_home, "rita")
    open_request = next(v for v in list_requests(store, pending=True) if v.model == BREAST)
    decide(store, rita, open_request.id, "approve", f"{WRITTEN} {NOT_EMBEDDED}")
    set_card_fields(
        store, demo_signer(demo_home, "dana"), BREAST, 3, {"caveats_and_recommendations": WRITTEN}
    )

    def text_of(data: bytes) -> str:
        pages = PdfReader(io.BytesIO(data)).pages
        return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in pages))

    report = generate_report(store, demo_signer(demo_home, "aud"), BREAST, 3, None)
    said = text_of(report.pdf_bytes)
    assert re.sub(r"\s+", "", WRITTEN) in said
    assert "\\u4E2D\\u6587\\U0001F600" in said and "?" not in said.split("Проверено")[1][:40]
    card = text_of(render_pdf(build_card(store, BREAST, 3)))
    assert re.sub(r"\s+", "", WRITTEN) in card


# ---- 13: exit codes: a user's mistake is exit 2 and one line, never 70, never a silent 0 -------


def test_item13_unknown_model_or_stage_in_read_commands_is_exit_2(
    team: Team, signoff: Runner, tmp_path: Path
) -> None:
    register_versions(team, 1)
    use_policy(team, tmp_path)
    home = ("--home", team.home)
    for args, said in (
        (("monitor", "alerts", "nosuch"), "no model 'nosuch'"),
        (("history", "tumour", "--stage", "nosuch"), "unknown stage 'nosuch'"),
        (("history", "nosuch"), "no model 'nosuch'"),
        (("requests", "--model", "nosuch"), "no model 'nosuch'"),
        (("audit", "log", "--model", "nosuch"), "no model 'nosuch'"),
    ):
        assert said in one_line_error(signoff(*args, *home)), args
    for args in (("history", "tumour", "--stage", "dev"), ("monitor", "alerts", "tumour")):
        result = signoff(*args, *home)
        assert result.exit_code == 0, result.output


def test_item13_lock_timeout_that_is_not_a_number_is_exit_2(
    team: Team, signoff: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    for value in ("abc", "nan", "-1"):
        monkeypatch.setenv("SIGNOFF_LOCK_TIMEOUT", value)
        assert "SIGNOFF_LOCK_TIMEOUT" in one_line_error(signoff("models", "--home", team.home))
    monkeypatch.setenv("SIGNOFF_LOCK_TIMEOUT", " 2.5 ")
    assert signoff("models", "--home", team.home).exit_code == 0


def test_item13_output_to_a_closed_pipe_stops_quietly(team: Team) -> None:
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`head -1`) is already gone
    try:
        done = subprocess.run(
            [sys.executable, "-m", "console", "audit", "log", "--home", str(team.home)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141, done.stderr
    assert done.stderr == ""


def test_item13_prediction_failure_names_the_column_holding_text(
    demo_home: Path, signoff: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    frame = pd.read_csv(demo_home / "demo-data" / f"{MODEL}-v1-holdout.csv")
    assert frame["credit_history_years"].isna().any()  # the bystander the old message blamed
    frame["loan_amount"] = frame["loan_amount"].astype(object)
    frame.loc[3, "loan_amount"] = "twelve thousand"
    data = tmp_path / "holdout-with-text.csv"
    frame.to_csv(data, index=False)
    result = signoff(
        "validate",
        f"{MODEL}:1",
        "--data",
        data,
        "--target",
        "default",
        "--home",
        demo_home,
        "--as",
        "dana",
    )
    line = one_line_error(result)
    assert "loan_amount" in line and "credit_history_years" not in line


def test_item13_predictions_of_another_type_than_the_classes_are_exit_2(
    demo_home: Path,
    signoff: Runner,
    tmp_path: Path,
    unchanged: Unchanged,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pandas as pd

    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    logs = sorted((demo_home / "demo-data").glob(f"{MODEL}-predictions-*.csv"))
    frame = pd.read_csv(logs[-1])
    frame["request_id"] = frame["request_id"] + "-again"
    frame["prediction"] = frame["prediction"].map({0: "no", 1: "yes"})
    data = tmp_path / "words.csv"
    frame.to_csv(data, index=False)
    check = unchanged(demo_home)
    result = signoff(
        "monitor", "ingest", MODEL, "--predictions", data, "--home", demo_home, "--as", "rel"
    )
    assert "classes the model never predicts" in one_line_error(result)
    check()
