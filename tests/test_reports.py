"""PDF compliance reports: what they say, that they are remade byte for byte at a log size,
that a new one is recorded in the log, that tampering shows, and that bad input changes
nothing."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader

from audit.keys import KeyStore, Signer
from console.auditing.trail import issue_checkpoint
from console.store.db import Store
from fixtures.demo import DEMO_PASSPHRASE
from reports.checklist import GAP, evaluate, find_evidence
from reports.compliance import build_report
from reports.framework_catalog import EVIDENCE_KINDS, framework_names, load_framework
from reports.snapshot import take_snapshot
from tests.conftest import Runner, one_line_error

Unchanged = Callable[[Path], Callable[[], None]]
MODEL = "credit-risk"
BREAST = "breast-cancer-classifier"
TEAM = ("ada", "dana", "rita", "raj", "rosa", "rel", "aud")


def signers(home: Path) -> dict[str, Signer]:
    keys = KeyStore(home / "demo-keys")
    return {n: Signer(n, keys.load_private(n, DEMO_PASSPHRASE.encode())) for n in TEAM}


@pytest.fixture
def home(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo store: credit-risk v1 rejected, v2 through dev and staging to production (its
    first deployment, direct) and packaged; a break-glass rollback of breast-cancer-classifier in
    staging; a checkpoint by aud."""
    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    return demo_home


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def squeeze(text: str) -> str:
    """Text without white space: a table cell may wrap anywhere, even inside a digest."""
    return re.sub(r"\s+", "", text)


def log_size(home: Path) -> int:
    con = duckdb.connect(str(home / "signoff.duckdb"), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM audit_events").fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


def query(home: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(home / "signoff.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def report(signoff: Runner, home: Path, *args: object, user: str = "aud") -> bytes:
    out = home.parent / f"report-{len(list(home.parent.glob('report-*.pdf')))}.pdf"
    result = signoff("report", *args, "-o", out, "--home", home, "--as", user)
    assert result.exit_code == 0, result.output
    return out.read_bytes()


# ---- what a report says ----------------------------------------------------------------------


def test_the_report_names_the_model_every_approver_and_the_checkpoint(
    home: Path, signoff: Runner
) -> None:
    data = report(signoff, home, f"{MODEL}:2", "--framework", "eu-ai-act")
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    flat = squeeze(text)
    assert "credit-risk v2" in text and "EU AI Act" in text
    for name in ("rita", "raj", "dana", "rel"):  # reviewers, risk officer, requester, releaser
        assert name in text, name
    assert "Demographic parity gap by gender" in text  # raj's rejection of v1
    assert "VALID" in text and "INVALID" not in text
    checkpoint = query(home, "SELECT root_hex, note, size FROM checkpoints ORDER BY id DESC")[0]
    assert str(checkpoint[0]) in flat
    assert squeeze(str(checkpoint[1])) in flat  # the whole signed note, verbatim
    for section in (
        "Executive summary",
        "Validation results",
        "Approvals",
        "Timeline",
        "Audit trail",
        "checklist",
    ):
        assert section in text, section
    assert "promotion.executed" in text and "package.built" in flat
    assert "Page 3 of" in text
    # Every decision's key fingerprint is printed in full.
    decided = query(
        home,
        "SELECT a.keyid FROM approvals a JOIN promotion_requests r ON a.request_id = r.id "
        f"WHERE r.model = '{MODEL}'",
    )
    assert len(decided) >= 4
    for (keyid,) in decided:
        assert str(keyid) in flat


@pytest.mark.parametrize("framework", ["eu-ai-act", "sr-11-7", "nist-ai-rmf", "iso-42001"])
def test_each_framework_item_shows_its_evidence_or_gap(home: Path, framework: str) -> None:
    store = Store(home)
    size = log_size(home)
    result = build_report(store, MODEL, 2, framework, since=None, as_of=size, generated_by="aud")
    flat = squeeze(pdf_text(result.pdf_bytes))
    snapshot = take_snapshot(store, as_of=size)
    items = evaluate(load_framework(framework), find_evidence(snapshot, MODEL, 2))
    assert items
    for item in items:
        assert squeeze(item.item.id) in flat, item.item.id
        for evidence in item.evidence:
            assert squeeze(EVIDENCE_KINDS[evidence.kind]) in flat
            if evidence.found:
                assert squeeze(evidence.refs[0]) in flat, (item.item.id, evidence.refs[0])
            else:
                assert squeeze(evidence.missing) in flat, (item.item.id, evidence.missing)
    statuses = {item.status for item in items}
    if framework == "eu-ai-act":
        assert GAP in statuses  # a declaration of conformity is never in the store
    store.dispose()


def test_without_a_version_the_report_covers_the_one_in_production(
    home: Path, signoff: Runner
) -> None:
    text = pdf_text(report(signoff, home, MODEL))
    assert "credit-risk v2" in text and "serving dev, staging, production" in text


def test_a_break_glass_rollback_is_an_open_finding(home: Path, signoff: Runner) -> None:
    # The demo rolled breast-cancer-classifier's staging back to v1: the version it serves now.
    text = pdf_text(report(signoff, home, BREAST))
    assert f"{BREAST} v1" in text
    body = text[text.index("1. Executive summary", text.index("Contents") + 200) :]
    summary = body[body.index("Open findings") : body.index("Gaps against")]
    assert "BREAK-GLASS" in summary and "INC-2041" in summary


def test_the_registry_report_lists_every_stage_change_and_break_glass_use(
    home: Path, signoff: Runner
) -> None:
    text = pdf_text(report(signoff, home, "--all", "--since", "2026-11-02"))
    assert "REGISTRY REPORT" in text
    for model in ("credit-risk", "breast-cancer-classifier"):
        assert model in text
    assert "BREAK-GLASS" in text and "INC-2041" in text
    assert "promotion.executed" in text and "rita" in text and "raj" in text and "rosa" in text
    early = pdf_text(report(signoff, home, "--all", "--since", "2030-01-01"))
    assert "No stage changed in the period" in early


# ---- reproducible at a log size -------------------------------------------------------------


def test_a_new_report_is_recorded_and_as_of_remakes_it_byte_for_byte(
    home: Path, signoff: Runner
) -> None:
    size = log_size(home)
    fresh = report(signoff, home, f"{MODEL}:2")
    assert log_size(home) == size + 1
    seq, actor, payload = query(
        home, "SELECT seq, actor, payload FROM audit_events WHERE action = 'report.generated'"
    )[-1]
    import hashlib
    import json

    assert isinstance(payload, bytes)
    event = json.loads(payload)
    assert seq == size and actor == "aud"
    assert event["sha256"] == hashlib.sha256(fresh).hexdigest()
    assert event["log_size"] == size and event["model"] == MODEL and event["version"] == 2
    assert event["framework"] == "eu-ai-act" and event["pages"] == len(
        PdfReader(io.BytesIO(fresh)).pages
    )
    first = report(signoff, home, f"{MODEL}:2", "--as-of", size)
    second = report(signoff, home, f"{MODEL}:2", "--as-of", size)
    assert first == second == fresh
    assert log_size(home) == size + 1  # remaking records nothing
    assert signoff("audit", "verify", "--home", home).exit_code == 0


def test_a_report_at_n_is_unchanged_after_the_log_grows(home: Path, signoff: Runner) -> None:
    from console.registry.cards import set_card_fields
    from console.release import decisions
    from console.release import requests as workflow

    size = log_size(home)
    before = report(signoff, home, f"{MODEL}:2", "--as-of", size, "--framework", "sr-11-7")
    store = Store(home)
    who = signers(home)
    set_card_fields(store, who["dana"], MODEL, 2, {"contact": "someone else", "license": "mit"})
    request = workflow.request_promotion(store, who["dana"], MODEL, 1, "dev", "again")
    decisions.decide(store, who["rosa"], request.id, "approve", "fine by me")
    issue_checkpoint(store, who["aud"])
    store.dispose()
    assert log_size(home) > size + 3
    after = report(signoff, home, f"{MODEL}:2", "--as-of", size, "--framework", "sr-11-7")
    assert after == before
    now = pdf_text(report(signoff, home, f"{MODEL}:2", "--framework", "sr-11-7"))
    assert "someone else" in now and "fine by me" in now
    assert "someone else" not in pdf_text(before)


# ---- tampering shows -------------------------------------------------------------------------


def test_a_forged_decision_signature_is_reported_invalid(home: Path, signoff: Runner) -> None:
    con = duckdb.connect(str(home / "signoff.duckdb"))
    try:
        row = con.execute(
            "SELECT a.id, a.signature FROM approvals a JOIN promotion_requests r "
            f"ON a.request_id = r.id WHERE r.model = '{MODEL}' ORDER BY a.id LIMIT 1"
        ).fetchone()
        assert row is not None
        forged = bytes([row[1][0] ^ 1]) + bytes(row[1][1:])
        con.execute("UPDATE approvals SET signature = ? WHERE id = ?", [forged, row[0]])
    finally:
        con.close()
    text = pdf_text(report(signoff, home, f"{MODEL}:2"))
    assert "INVALID" in text and "SIGNATURE" in text
    assert "the signature does not verify" in text


def test_a_rewritten_event_makes_the_report_say_the_log_fails(home: Path, signoff: Runner) -> None:
    con = duckdb.connect(str(home / "signoff.duckdb"))
    try:
        con.execute(
            "UPDATE audit_events SET actor = 'mallory' WHERE seq = "
            "(SELECT min(seq) FROM audit_events WHERE action = 'promotion.approved')"
        )
    finally:
        con.close()
    text = pdf_text(report(signoff, home, f"{MODEL}:2"))
    assert "INTEGRITY" in text and "FAILS at event" in text


# ---- the rendered page -----------------------------------------------------------------------


def ink_share(ppm: bytes) -> float:
    """The share of pixels that are not near-white in a binary PPM (P6)."""
    parts = ppm.split(maxsplit=4)
    assert parts[0] == b"P6"
    width, height, pixels = int(parts[1]), int(parts[2]), parts[4]
    assert len(pixels) >= width * height * 3
    dark = sum(1 for i in range(0, width * height * 3, 3) if min(pixels[i : i + 3]) < 200)
    return dark / (width * height)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler's pdftoppm is not installed")
def test_rendered_pages_are_not_blank(home: Path, signoff: Runner, tmp_path: Path) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(report(signoff, home, f"{MODEL}:2"))
    for page in (1, 3, 5):
        done = subprocess.run(
            ["pdftoppm", "-r", "40", "-f", str(page), "-l", str(page), str(path)],
            capture_output=True,
            check=True,
        )
        share = ink_share(done.stdout)
        assert 0.01 < share < 0.6, (page, share)


# ---- refusals and bad input ------------------------------------------------------------------


BAD_INPUT = [
    ([f"{MODEL}:2", "--framework", "gdpr", "-o", "{out}"], "unknown framework"),
    (["no-such-model", "-o", "{out}"], "no model"),
    ([f"{MODEL}:9", "-o", "{out}"], "no version 9"),
    ([f"{MODEL}:x", "-o", "{out}"], "invalid version"),
    ([MODEL, "--since", "2026-13-40", "-o", "{out}"], "is not a date"),
    ([MODEL, "--since", "last week", "-o", "{out}"], "is not a date"),
    ([MODEL, "--as-of", "0", "-o", "{out}"], "--as-of"),
    ([MODEL, "--as-of", "-3", "-o", "{out}"], "--as-of"),
    ([MODEL, "--as-of", "ten", "-o", "{out}"], "--as-of"),
    ([MODEL, "--as-of", "100000", "-o", "{out}"], "outside the log"),
    ([MODEL], "-o FILE.pdf"),
    ([MODEL, "--all", "-o", "{out}"], "not both"),
    (["-o", "{out}"], "--all"),
    (["--all", "--framework", "sr-11-7", "-o", "{out}"], "--framework"),
    ([MODEL, "-o", "{missing}"], "does not exist"),
    ([MODEL, "-o", "{dir}"], "is a directory"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    home: Path,
    signoff: Runner,
    unchanged: Unchanged,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    out = tmp_path / "out.pdf"
    values = {"out": str(out), "missing": str(tmp_path / "nowhere" / "r.pdf"), "dir": str(tmp_path)}
    check = unchanged(home)
    result = signoff("report", *[a.format(**values) for a in args], "--home", home, "--as", "aud")
    line = one_line_error(result, 2)
    assert message in line, line
    check()
    assert not out.exists()


def test_only_reading_roles_may_make_reports(
    home: Path, signoff: Runner, unchanged: Unchanged, tmp_path: Path
) -> None:
    check = unchanged(home)
    for user in ("dana", "rel"):
        result = signoff("report", MODEL, "-o", tmp_path / "r.pdf", "--home", home, "--as", user)
        assert "auditor" in one_line_error(result, 3)
    check()
    for user in ("raj", "rita", "ada"):  # a small registry report, remade: nothing recorded
        assert report(signoff, home, "--all", "--as-of", 12, user=user).startswith(b"%PDF-")
    check()


def test_every_framework_file_parses_and_names_known_evidence() -> None:
    from console.errors import BadInput
    from reports.framework_catalog import parse_framework

    assert framework_names() == ["eu-ai-act", "iso-42001", "nist-ai-rmf", "sr-11-7"]
    for name in framework_names():
        framework = load_framework(name)
        assert framework.id == name and len(framework.items) >= 9
        assert len({item.id for item in framework.items}) == len(framework.items)
    ids = {item.id for item in load_framework("nist-ai-rmf").items}
    assert {"GOVERN 1.6", "MANAGE 4.1"} <= ids
    ids = {item.id for item in load_framework("iso-42001").items}
    assert {"A.6.2.4", "A.6.2.5", "A.6.2.6", "A.6.2.7", "A.6.2.8", "A.7.5"} <= ids
    bad = (
        'id = "x"\ntitle = "t"\nshort = "s"\nsource = "s"\n[[item]]\nid = "1"\ntitle = "t"\n'
        'description = "d"\nevidence = ["card.horoscope"]\n'
    )
    with pytest.raises(BadInput, match="unknown evidence"):
        parse_framework(bad, "x.toml")
    with pytest.raises(BadInput, match="unknown key"):
        parse_framework(bad.replace('source = "s"', 'source = "s"\nextra = 1'), "x.toml")
