"""The executive summary of a model report: its facts, its open findings and its gaps."""

from __future__ import annotations

from console.monitoring.views import MonitoringSummary
from reports.checklist import GAP, MET, PARTIAL, ItemResult
from reports.framework_catalog import EVIDENCE_KINDS
from reports.monitoring_rows import (
    alert_rows,
    day,
    failing_windows,
    incident_rows,
    monitored_versions,
    window_alerts,
)
from reports.pdf_layout import Story
from reports.pdf_styles import ALERT_FILL, status_cell
from reports.report_model import ModelScope
from reports.report_text import Finding, number, when
from reports.snapshot import DecisionEntry


def findings(scope: ModelScope, integrity: list[Finding]) -> list[Finding]:
    snap = scope.snapshot
    found: list[Finding] = []
    run = scope.run
    if run is not None:
        for check in run.checks:
            if check.status == "fail":
                found.append(
                    Finding(
                        "FAIL",
                        f"{check.name} = {number(check.value)}"
                        + (f" (threshold {number(check.threshold)})" if check.threshold else ""),
                        f"run {run.id}, #{run.event_seq}",
                    )
                )
    for request in snap.requests.values():
        if request.model != scope.model or request.status != "open":
            continue
        for gate in request.gates:
            if not gate.get("passed"):
                found.append(
                    Finding(
                        "GATE",
                        f"request {request.id} (v{request.version} to {request.stage}): "
                        f"{gate.get('name')}: {gate.get('detail')}",
                        f"promotion.requested #{request.event_seq}",
                    )
                )
    for d in snap.deployments:
        if d.model == scope.model and d.break_glass and snap.in_period(d.occurred_at):
            found.append(
                Finding(
                    # a canary step taken against the comparison's advice is an override
                    "OVERRIDE" if d.kind.startswith("canary.") else "BREAK-GLASS",
                    f"{d.kind} of {d.stage} to v{d.version} by {d.actor}"
                    + (
                        " past an inconclusive canary comparison"
                        if d.kind.startswith("canary.")
                        else ""
                    )
                    + f": {d.reason}",
                    f"#{d.event_seq}, {when(d.occurred_at)}",
                )
            )
    found += monitoring_findings(scope)
    for decision in snap.decisions:
        if decision.model == scope.model and not decision.sound:
            found.append(
                Finding(
                    "SIGNATURE",
                    f"decision by {decision.approval.approver}: {decision.problem}",
                    f"#{decision.approval.event_seq}",
                )
            )
    return integrity + found


def monitoring_findings(scope: ModelScope) -> list[Finding]:
    """Open incidents (one per version and window, however many alerts), then failing
    windows (in the period), of the versions monitoring shows."""
    snap = scope.snapshot
    summary = snap.monitoring(scope.model)
    versions = monitored_versions(summary, snap.serving_versions(scope.model), scope.version)
    found = [
        Finding("INCIDENT", incident.what, incident.ref)
        for version in versions
        for incident in incident_rows(alert_rows(summary, version), open_only=True)
    ]
    for version in versions:
        for window in failing_windows(summary, version):
            if not snap.in_period(window.end):
                continue
            alerts = window_alerts(summary, window)
            still = [a for a in alerts if a.is_open]
            found.append(
                Finding(
                    "WINDOW",
                    f"v{version} {window.kind} window {day(window.start)} to {day(window.end)} "
                    f"failed on {window.rows:,} rows: {len(alerts)} alert(s), {len(still)} open",
                    f"window {window.id}, #{window.event_seq}",
                )
            )
    return found


def version_decisions(scope: ModelScope, *, this_version: bool = True) -> list[DecisionEntry]:
    """Decisions on the report's version (or on the model's other versions) in the period."""
    snap = scope.snapshot
    return [
        d
        for d in snap.decisions
        if d.model == scope.model
        and (d.version == scope.version) == this_version
        and snap.in_period(d.approval.decided_at)
    ]


def summary(
    story: Story, scope: ModelScope, found: list[Finding], results: list[ItemResult]
) -> None:
    snap, s = scope.snapshot, story.s
    story.heading("1. Executive summary")
    story.para(
        f"This report documents {scope.model} version {scope.version} against "
        f"{scope.framework.short}, from the store as it stood at audit log size {snap.size} "
        f"({when(snap.as_of_ts)})."
    )
    stages = [
        f"{st.stage}: v{st.version}" if st.version is not None else f"{st.stage}: none"
        for st in snap.stages_of(scope.model)
    ]
    canaries = [
        f"canary v{st.canary_version} at {st.canary_share}% in {st.stage}"
        for st in snap.stages_of(scope.model)
        if st.canary_version is not None
    ]
    run = scope.run
    decisions = version_decisions(scope)
    monitoring = snap.monitoring(scope.model)
    watched = monitored_versions(monitoring, snap.serving_versions(scope.model), scope.version)
    production = [_production(monitoring, v) for v in watched]
    counts = {
        status: sum(1 for r in results if r.status == status) for status in (MET, PARTIAL, GAP)
    }
    story.facts(
        [
            ("Stages of the model", "; ".join(stages + canaries) or "no stage holds a version"),
            (
                "This version serves",
                ", ".join(snap.held_by(scope.model, scope.version)) or "no stage",
            ),
            (
                "Latest validation",
                f"run {run.id}: {run.status.upper()} on {run.dataset_name}, {when(run.finished_at)}"
                if run
                else "none recorded",
            ),
            (
                "Signed decisions",
                f"{len(decisions)} on this version"
                + (f" since {snap.since}" if snap.since else "")
                + ", "
                + ("all verify" if all(d.sound for d in decisions) else "SOME DO NOT VERIFY"),
            ),
            ("Production monitoring", "; ".join(production) or "no version serves"),
            (
                "Audit log",
                f"verified, {snap.size} events"
                if snap.verified
                else f"FAILS at event {snap.first_bad_seq}",
            ),
            (
                "Checkpoint",
                f"{snap.checkpoint.id} at size {snap.checkpoint.size}"
                + (
                    " holds"
                    if snap.checkpoint.signature_ok and snap.checkpoint.matches_log
                    else " DOES NOT HOLD"
                )
                if snap.checkpoint
                else "none issued yet",
            ),
            (
                f"{scope.framework.short} items",
                f"{counts[MET]} met, {counts[PARTIAL]} partial, {counts[GAP]} gaps "
                f"of {len(results)}",
            ),
        ]
    )
    story.subheading("Open findings")
    if not found:
        story.para(
            "No open findings: no failed check in the latest validation run, no failing "
            "gate on an open request, no break-glass use or override in the period, no open "
            "monitoring incident or failing window, and the log and every signature verify."
        )
    else:
        story.para(f"{len(found)} open finding(s).", s.small)
        story.grid(
            ["Type", "Finding", "Reference"],
            [[status_cell(s, f.kind), f.what, f.ref] for f in found],
            [0.14, 0.64, 0.22],
            fills={i: ALERT_FILL for i, f in enumerate(found) if f.kind != "GATE"},
        )
    story.subheading("Gaps against the framework")
    open_items = [r for r in results if r.status != MET]
    if not open_items:
        story.para("Every item of the framework has evidence in the store.")
    else:
        story.grid(
            ["Item", "Title", "Status", "Evidence missing, or not holding now"],
            [
                [
                    r.item.id,
                    r.item.title,
                    status_cell(s, r.status),
                    "; ".join([EVIDENCE_KINDS[k] for k in r.missing_kinds] + _named(r.problems)),
                ]
                for r in open_items
            ],
            [0.13, 0.35, 0.1, 0.42],
        )


def _production(monitoring: MonitoringSummary, version: int) -> str:
    opened = alert_rows(monitoring, version, open_only=True)
    return (
        f"v{version}: {len(incident_rows(opened))} open incident(s) of {len(opened)} open "
        f"alert(s), {len(failing_windows(monitoring, version))} failing window(s)"
    )


def _named(problems: list[str], shown: int = 3) -> list[str]:
    """The first few problems of an item, and how many more the checklist names."""
    more = [f"{len(problems) - shown} more in the checklist"] if len(problems) > shown else []
    return problems[:shown] + more
