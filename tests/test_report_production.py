"""Reports that show production: monitoring, its open alerts as findings, checklist items that
hold only while nothing is open, counts that equal their rows, and document control."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from console.monitoring.incidents import list_incidents
from console.monitoring.resolution import resolve_alert
from console.monitoring.views import list_alerts, recorded_windows
from console.store.db import Store
from reports.checklist import MET, PARTIAL, evaluate, find_evidence
from reports.compliance import build_report
from reports.framework_catalog import load_framework
from reports.snapshot import take_snapshot
from tests.conftest import Runner, demo_store, one_line_error
from tests.test_reports import log_size, pdf_text, report, signers

Unchanged = Callable[[Path], Callable[[], None]]
MODEL = "credit-risk"
KINDS = {"FAIL", "GATE", "BREAK-GLASS", "OVERRIDE", "INTEGRITY", "SIGNATURE", "INCIDENT", "WINDOW"}


@pytest.fixture
def home(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo store: credit-risk v2 serves production while its inputs drift, with open
    drift and decay alerts, failing windows and a retraining job."""
    from fixtures.demo import DEMO_PASSPHRASE

    monkeypatch.setenv("SIGNOFF_PASSPHRASE", DEMO_PASSPHRASE)
    return demo_home


def after(text: str, start: str, end: str) -> list[str]:
    """The lines from the first `start` to the next `end`: a table and what leads into it."""
    begin = text.index(start)
    return text[begin : text.index(end, begin + len(start))].splitlines()


def stated(pattern: str, text: str) -> tuple[int, ...]:
    found = re.search(pattern, text)
    assert found is not None, pattern
    return tuple(int(g.replace(",", "")) for g in found.groups())


def count(lines: list[str], pattern: str) -> int:
    return sum(1 for line in lines if re.fullmatch(pattern, line.strip()))


def test_every_stated_count_equals_the_rows_it_lists(home: Path, signoff: Runner) -> None:
    text = pdf_text(report(signoff, home, MODEL))  # the serving version: v2
    assert "credit-risk v2" in text

    # Decisions: the summary counts this version's, and that table lists exactly those.
    (decided,) = stated(r"Signed decisions\n(\d+) on this version", text)
    table = after(text, "signed decision(s) on v2, oldest first", "Signed statements on v2")
    assert stated(r"(\d+) signed decision\(s\) on v2", text) == (decided,)
    assert count(table, r"VALID|INVALID") == decided
    assert count(table, r"v\d+ to.*") == count(table, r"v2 to.*") == decided
    statements = after(text, "signed statement(s), to compare", "Decisions on other versions")
    assert stated(r"each of the (\d+) signed statement", text) == (decided,)
    assert count(statements, r"#\d+") == decided
    (others,) = stated(r"(\d+) signed decision\(s\) on other versions of credit-risk", text)
    table = after(text, "on other versions of credit-risk, oldest first", "6. Timeline")
    assert count(table, r"VALID|INVALID") == others >= 1
    assert count(table, r"v2 to.*") == 0

    # Findings: the stated number, and each kind, are the rows of the findings table.
    (found,) = stated(r"(\d+) open finding\(s\)\.", text)
    table = after(text, "open finding(s).", "Gaps against the framework")
    kinds = [line.strip() for line in table if line.strip() in KINDS]
    assert len(kinds) == found
    incidents, opened, failing = stated(
        r"Production monitoring\nv2: (\d+) open incident\(s\) of (\d+) open alert\(s\), "
        r"(\d+) failing window\(s\)",
        text,
    )
    assert kinds.count("INCIDENT") == incidents and kinds.count("WINDOW") == failing
    # Each open incident is one finding whose alert count is the alerts it lists.
    flat = re.sub(r"\s+", " ", "\n".join(table))
    listed = re.findall(
        r"incident (\d+): (\d+) alert\(s\) \((\d+) open\).*?alerts ([\d, ]+);", flat
    )
    assert len(listed) == incidents and sum(int(o) for _, _, o, _ in listed) == opened
    for number, total, _, ids in listed:
        assert len(ids.split(",")) == int(total) and ids.split(",")[0] == number

    # Monitoring: alerts, open alerts, performance windows, retraining jobs.
    alerts, still = stated(r"(\d+) alert\(s\) on v2, (\d+) open at log size", text)
    table = after(text, "alert(s) on v2, ", "retraining job(s) for v2")
    assert count(table, r"alert \d+") == alerts and count(table, "OPEN") == still == opened
    # Section 4 groups them: one table per incident, each stating its own counts.
    (grouped,) = stated(r"open at log size \d+, in (\d+) incident\(s\)", text)
    blocks = re.split(r"\nIncident \d+, window ", "\n".join(table))[1:]
    assert len(blocks) == grouped >= incidents
    for block in blocks:
        total, still_open = stated(r": (\d+) alert\(s\), (\d+) open;", block)
        lines = block.splitlines()
        assert count(lines, r"alert \d+") == total and count(lines, "OPEN") == still_open
    assert stated(r"Open alerts\n(\d+) of (\d+)", text) == (still, alerts)
    (windows,) = stated(r"(\d+) performance window\(s\) of v2\.", text)
    # The performance table ends where the fairness section (when the log keeps sensitive
    # columns) or the alerts begin.
    end = "Fairness of v2 in" if "Fairness of v2 in" in text else "alert(s) on v2, "
    table = after(text, "performance window(s) of v2.", end)
    assert count(table, r"\d{4}-\d\d-\d\d to") == windows
    (drift,) = stated(r"Drift in (\d+) window\(s\) of v2\.", text)
    fair = re.search(r"Fairness of v2 in (\d+) window\(s\)", text)
    assert stated(
        r"Windows\n(\d+) drift, (\d+) performance, (\d+) fairness; (\d+) failing", text
    ) == (drift, windows, int(fair.group(1)) if fair else 0, failing)
    (jobs,) = stated(r"(\d+) retraining job\(s\) for v2\.", text)
    assert count(after(text, "retraining job(s) for v2.", "5. Approvals"), r"job \d+") == jobs

    # The model's events, and the checklist's statuses.
    (events,) = stated(r"(\d+) event\(s\) of credit-risk, oldest first", text)
    table = after(text, "event(s) of credit-risk, oldest first", "8. EU AI Act")
    assert count(table, r"#\d+") == events
    met, partial, gaps, items = stated(
        r"(\d+) met, (\d+) partial, (\d+) gaps of (\d+)", text.replace("\n", " ")
    )
    checklist = text[text.rindex("8. EU AI Act Annex IV checklist") :].splitlines()
    assert (count(checklist, "MET"), count(checklist, "PARTIAL"), count(checklist, "GAP")) == (
        met,
        partial,
        gaps,
    )
    assert met + partial + gaps == items == len(load_framework("eu-ai-act").items)

    # And those numbers are the store's, read through the services.
    store = Store(home)
    assert alerts == len([a for a in list_alerts(store, MODEL) if a.version == 2])
    assert failing == len(
        [w for w in recorded_windows(store, MODEL) if w.version == 2 and w.status == "alert"]
    )
    store.dispose()


def test_the_serving_version_lists_its_open_alerts_and_monitoring_is_not_met(
    home: Path, signoff: Runner
) -> None:
    store = Store(home)
    opened = list_alerts(store, MODEL, status="open")
    assert len(opened) >= 10 and {a.version for a in opened} == {2}
    incidents = list_incidents(store, MODEL, status="open")
    assert 1 < len(incidents) < len(opened)
    text = pdf_text(report(signoff, home, MODEL))
    findings = "\n".join(after(text, "open finding(s).", "Gaps against the framework"))
    flat = re.sub(r"\s+", " ", findings)
    assert flat.count("INCIDENT") == len(incidents)  # one finding per incident, not per alert
    for incident in incidents:
        ids = ", ".join(str(a) for a in incident.alert_ids)
        assert f"v2 incident {incident.id}: {len(incident.alerts)} alert(s)" in flat
        assert f"alerts {ids}; monitoring.alert_opened" in flat
        for alert in incident.alerts:
            assert alert.subject in flat and alert.kind in flat
    assert "alert(s) (" in flat and " ALERT " not in flat
    assert "WINDOW" in findings and "drift window" in flat and "performance window" in flat

    # The production items name the open alerts; holdout drift is not cited for them.
    size = log_size(home)
    snapshot = take_snapshot(store, as_of=size)
    for framework, item_id in (
        ("eu-ai-act", "IV.9"),
        ("sr-11-7", "VAL-2"),
        ("nist-ai-rmf", "MEASURE 2.4"),
        ("nist-ai-rmf", "MANAGE 4.1"),
        ("iso-42001", "A.6.2.6"),
    ):
        items = evaluate(load_framework(framework), find_evidence(snapshot, MODEL, 2))
        item = next(i for i in items if i.item.id == item_id)
        assert item.status == PARTIAL, (framework, item_id)
        assert "validation.drift" not in item.item.evidence
        named = " ".join(item.problems)
        assert f"incident {incidents[0].id} is OPEN" in named
    production = find_evidence(snapshot, MODEL, 2)["monitoring.production"]
    assert "largest production PSI" in production.refs[0]
    checklist = re.sub(r"\s+", " ", text[text.rindex("8. EU AI Act Annex IV checklist") :])
    assert f"incident {incidents[0].id} is OPEN" in checklist
    store.dispose()


def test_an_item_is_met_only_when_its_evidence_holds_now(home: Path) -> None:
    store = demo_store(home)
    before = log_size(home)
    raj = signers(home)["raj"]
    for alert in list_alerts(store, MODEL, status="open"):
        resolve_alert(store, raj, alert.id, "v3 retrained on recent data; drift accepted")
    snapshot = take_snapshot(store, as_of=None)
    evidence = find_evidence(snapshot, MODEL, 2)["monitoring.production"]
    # No alert is open, but the latest windows still fail: the item does not hold yet.
    assert not any("is OPEN" in p for p in evidence.problems)
    assert any("latest drift window" in p and "FAILED" in p for p in evidence.problems)
    items = evaluate(load_framework("eu-ai-act"), find_evidence(snapshot, MODEL, 2))
    item = next(i for i in items if i.item.id == "IV.9")
    assert item.status == PARTIAL
    # The report made at the earlier size still shows the alerts open, byte for byte.
    old = build_report(store, MODEL, 2, "eu-ai-act", since=None, as_of=before, generated_by="aud")
    again = build_report(store, MODEL, 2, "eu-ai-act", since=None, as_of=before, generated_by="aud")
    assert old.pdf_bytes == again.pdf_bytes
    assert "is OPEN" in pdf_text(old.pdf_bytes)
    assert [f.kind for f in old.findings].count("INCIDENT") >= 2
    now = build_report(store, MODEL, 2, "eu-ai-act", since=None, as_of=None, generated_by="aud")
    assert [f.kind for f in now.findings].count("INCIDENT") == 0
    assert "resolved by raj" in pdf_text(now.pdf_bytes)
    # A version never served has no production evidence at all: a gap, not a pass.
    gap = find_evidence(snapshot, MODEL, 1)["monitoring.production"]
    assert not gap.found and MET not in {
        i.status
        for i in evaluate(load_framework("eu-ai-act"), find_evidence(snapshot, MODEL, 1))
        if i.item.id == "IV.9"
    }
    store.dispose()


def test_document_control_comes_from_signed_settings(
    home: Path, signoff: Runner, unchanged: Unchanged
) -> None:
    before = log_size(home)
    shown = signoff("settings", "show", "--home", home)
    assert shown.exit_code == 0 and "report.owner" in shown.output and "not set" in shown.output
    check = unchanged(home)
    for args, code, message in (
        (("report.colour", "red"), 2, "unknown setting"),
        (("report.owner", "a\x1bb"), 2, "control character"),
        (("report.owner", "x" * 400), 2, "longer than"),
    ):
        result = signoff("settings", "set", *args, "--home", home, "--as", "ada")
        assert message in one_line_error(result, code)
    refused = signoff("settings", "set", "report.owner", "me", "--home", home, "--as", "aud")
    assert "admin" in one_line_error(refused, 3)
    check()
    for key, value in (
        ("report.owner", "Model Risk Office"),
        ("report.classification", "Confidential"),
        ("report.distribution", "Risk committee; internal audit"),
    ):
        done = signoff("settings", "set", key, value, "--home", home, "--as", "ada")
        assert done.exit_code == 0, done.output
    again = signoff(
        "settings", "set", "report.owner", "Model Risk Office", "--home", home, "--as", "ada"
    )
    assert "already" in one_line_error(again, 2)
    text = pdf_text(report(signoff, home, MODEL))
    flat = re.sub(r"\s+", " ", text)
    assert "Document owner Model Risk Office (settings.changed #" in flat
    assert "Classification Confidential" in flat and "Risk committee; internal audit" in flat
    assert "Signer aud (auditor), key " in flat
    assert "Confidential · audit log size" in text  # on every page's header
    registry = re.sub(r"\s+", " ", pdf_text(report(signoff, home, "--all")))
    assert "Document owner Model Risk Office" in registry
    # A report remade at the size before the settings shows what held then.
    earlier = re.sub(r"\s+", " ", pdf_text(report(signoff, home, MODEL, "--as-of", before)))
    assert "Document owner not set" in earlier and "Model Risk Office" not in earlier
    assert signoff("audit", "verify", "--home", home).exit_code == 0
