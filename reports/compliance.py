"""PDF compliance reports of a model version, or of the whole registry, at audit log size N.

`build_report` and `build_registry_report` only read: they take a snapshot of the store at
log size N (`reports.snapshot`), lay it out with reportlab platypus, and return the PDF with
its page count and sha256. The same N (and the same model, version, framework, period and
reader) always gives the same bytes, however much the log grew since. `generate_report`
and `generate_registry_report` are what the CLI calls: they check the reader's role, build,
and for a fresh report (no `as_of`) record its sha256 in a signed `report.generated` event,
appended after event N-1 so that it never changes the report it describes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.errors import NotFound, Refused
from console.identity.actor import require_actor
from console.identity.permissions import Permission, may, roles_with
from console.store.db import Store
from console.store.models import User
from console.store.staged_output import StagedOutput, staged_output
from reports.checklist import evaluate, find_evidence
from reports.document_control import classification_at
from reports.framework_catalog import load_framework
from reports.pdf_document import PageText, render
from reports.pdf_layout import Story
from reports.pdf_styles import make_styles
from reports.report_model import ModelScope, card_section, checklist_section, cover
from reports.report_monitoring import monitoring_section
from reports.report_registry import RegistryScope, registry_story
from reports.report_summary import findings, summary, version_decisions
from reports.report_text import Finding, integrity_findings, pdf_date, when
from reports.report_trail import (
    approvals_section,
    events_section,
    timeline_section,
    verification_section,
)
from reports.report_validation import validation_section
from reports.snapshot import Snapshot, check_model, parse_since, take_snapshot

DEFAULT_FRAMEWORK = "eu-ai-act"
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ReportResult:
    pdf_bytes: bytes
    pages: int
    log_size: int
    sha256: str
    model: str | None = None
    version: int | None = None
    framework: str | None = None
    since: str | None = None
    event_seq: int | None = None  # the `report.generated` event, when one was recorded
    findings: tuple[Finding, ...] = ()  # the executive summary's open findings (model reports)

    def finding_counts(self) -> str:
        """E.g. "12 ALERT, 6 WINDOW, 1 GATE", in the order the summary lists them."""
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def _reader_role(store: Store, name: str) -> str:
    """The reader's role; only the roles that read evidence for a living may make reports."""
    with store.session() as session:
        user = session.get(User, name)
        if user is None:
            raise NotFound(f"no user {name!r} in this store; see `signoff users list`")
        if not user.active:
            raise Refused(f"user {name!r} has been revoked and can no longer act")
        if not may(user.role, Permission.REPORT):
            raise Refused(
                f"{name} is {user.role}; reports are for the roles {', '.join(roles_with(Permission.REPORT))}"
            )
        return user.role


def printed_role(snapshot: Snapshot, name: str, current: str) -> str:
    """The reader's role as the log said at N, so a later role change keeps the bytes."""
    return snapshot.users.get(name, current)


def _layout_progress(progress: Progress | None, total: int) -> Callable[[int], None] | None:
    """Map the layout passes (two: one finds the pages, one draws them) onto 0.5..0.99."""
    if progress is None:
        return None
    state = {"pass": 1, "last": 0}

    def step(done: int) -> None:
        if done <= state["last"]:
            state["pass"] += 1
        state["last"] = done
        share = min(1.0, (state["pass"] - 1 + done / max(total, 1)) / 2)
        if done % 25 == 0 or done == total:
            progress(f"laying out (pass {state['pass']})", 0.5 + 0.49 * share)

    return step


def _header_right(snapshot: Snapshot) -> str:
    """The classification, when one is set, beside the log size on every page."""
    classification = classification_at(snapshot)
    size = f"audit log size {snapshot.size}"
    return f"{classification} · {size}" if classification else size


def _command(model: str, version: int, framework: str, since: str | None, size: int) -> str:
    period = f" --since {since}" if since else ""
    return (
        f"signoff report {model}:{version} --framework {framework}{period} --as-of {size} "
        "-o FILE.pdf"
    )


def build_report(
    store: Store,
    model: str,
    version: int | None,
    framework: str,
    *,
    since: str | None,
    as_of: int | None,
    generated_by: str,
    progress: Progress | None = None,
) -> ReportResult:
    """The compliance report of one version (default: the one serving the last stage)."""
    chosen = load_framework(framework)
    period = parse_since(since)
    # One connection for every read (opening a DuckDB file costs tens of ms each time).
    with store.reading():
        role = _reader_role(store, generated_by)
        # A failing log is the report's finding; forged rows are refused. Decisions are
        # re-verified by the report itself and printed INVALID when forged.
        snapshot = take_snapshot(
            store,
            as_of=as_of,
            since=period,
            progress=progress,
            prove=model,
            prove_skip=("approvals",),
        )
        role = printed_role(snapshot, generated_by, role)
        number = check_model(snapshot, model, version)
        scope = ModelScope(snapshot, model, number, chosen, generated_by, role, period)
        results = evaluate(chosen, find_evidence(snapshot, model, number))
        found = findings(scope, integrity_findings(snapshot))
        events = [e for e in snapshot.model_events(model) if snapshot.in_period(e.ts)]

        story = Story(make_styles())
        cover(story, scope, _command(model, number, framework, period, snapshot.size))
        summary(story, scope, found, results)
        card_section(story, scope)
        validation_section(story, scope)
        monitoring_section(story, scope, "4")
        story.heading("5. Approvals")
        story.subheading(f"Decisions on v{number}")
        approvals_section(story, snapshot, version_decisions(scope), f"on v{number}")
        others = version_decisions(scope, this_version=False)
        if others:  # listed apart, so that no count of this version's decisions includes them
            story.subheading(f"Decisions on other versions of {model}")
            approvals_section(story, snapshot, others, f"on other versions of {model}", note=False)
        story.heading("6. Timeline of requests and stage changes")
        timeline_section(story, snapshot, events)
        story.heading("7. Audit trail")
        verification_section(story, snapshot)
        story.subheading(f"Events of {model}")
        events_section(story, events, f"of {model}" + (f" since {period}" if period else ""))
        checklist_section(story, scope, results, "8")

    text = PageText(
        header_left=f"{model} v{number} · {chosen.short} compliance report",
        header_right=_header_right(snapshot),
        footer_left=f"signoff · as of log size {snapshot.size}, {when(snapshot.as_of_ts)}",
        pdf_date=pdf_date(snapshot.as_of_ts),
    )
    data, pages = render(
        story.flowables,
        text,
        title=f"{chosen.short} compliance report: {model} v{number}",
        subject=f"{model} version {number} against {chosen.title}, at audit log size "
        f"{snapshot.size}",
        keywords=f"signoff, {chosen.id}, {model}, log size {snapshot.size}, root {snapshot.root_hex}",
        on_flowable=_layout_progress(progress, len(story.flowables)),
    )
    if progress is not None:
        progress("done", 1.0)
    return ReportResult(
        data,
        pages,
        snapshot.size,
        hashlib.sha256(data).hexdigest(),
        model,
        number,
        chosen.id,
        period,
        findings=tuple(found),
    )


def build_registry_report(
    store: Store,
    *,
    since: str | None,
    as_of: int | None,
    generated_by: str,
    progress: Progress | None = None,
) -> ReportResult:
    """Every stage change, decision, rollback and break-glass use across all models."""
    period = parse_since(since)
    with store.reading():  # one connection for every read
        role = _reader_role(store, generated_by)
        snapshot = take_snapshot(store, as_of=as_of, since=period, progress=progress)
        role = printed_role(snapshot, generated_by, role)
        scope = RegistryScope(snapshot, generated_by, role, period)
        story = Story(make_styles())
        command = "signoff report --all" + (f" --since {period}" if period else "")
        registry_story(story, scope, f"{command} --as-of {snapshot.size} -o FILE.pdf")
    text = PageText(
        header_left="Registry report" + (f" since {period}" if period else ""),
        header_right=_header_right(snapshot),
        footer_left=f"signoff · as of log size {snapshot.size}, {when(snapshot.as_of_ts)}",
        pdf_date=pdf_date(snapshot.as_of_ts),
    )
    data, pages = render(
        story.flowables,
        text,
        title="Registry compliance report" + (f" since {period}" if period else ""),
        subject=f"All models at audit log size {snapshot.size}",
        keywords=f"signoff, registry, log size {snapshot.size}, root {snapshot.root_hex}",
        on_flowable=_layout_progress(progress, len(story.flowables)),
    )
    if progress is not None:
        progress("done", 1.0)
    return ReportResult(data, pages, snapshot.size, hashlib.sha256(data).hexdigest(), since=period)


def record_report(
    store: Store, signer: Signer, result: ReportResult, staged: StagedOutput | None = None
) -> int:
    """Sign a `report.generated` event with the report's sha256; returns its sequence number.

    With `staged`, the file is renamed into place as the transaction's last step (see
    `console.store.staged_output` for why that order leaves neither file nor event on failure).
    """
    with store.session() as session:
        require_actor(session, signer, Permission.REPORT)
        event = append_event(
            session,
            signer,
            actions.REPORT_GENERATED,
            f"report:{result.model or 'registry'}",
            {
                "model": result.model,
                "version": result.version,
                "framework": result.framework,
                "since": result.since,
                "log_size": result.log_size,
                "sha256": result.sha256,
                "pages": result.pages,
                "bytes": len(result.pdf_bytes),
            },
            ts=store.clock(),
            model=result.model,
        )
        if staged is not None:
            staged.publish()
        return event.seq


def _deliver(
    store: Store,
    signer: Signer,
    build: Callable[[], ReportResult],
    output: Path | None,
    fresh: bool,
) -> ReportResult:
    """Build, then write the file and record the event so that a failure leaves neither."""
    if output is None:
        result = build()
        return _with_event(result, record_report(store, signer, result)) if fresh else result
    with staged_output(output) as staged:  # opened before any work: a bad path costs nothing
        result = build()
        staged.write(result.pdf_bytes)
        if not fresh:
            staged.publish()
            return result
        return _with_event(result, record_report(store, signer, result, staged))


def generate_report(
    store: Store,
    signer: Signer,
    model: str,
    version: int | None,
    framework: str | None,
    *,
    since: str | None = None,
    as_of: int | None = None,
    progress: Progress | None = None,
    output: Path | None = None,
) -> ReportResult:
    """Build a model report as `signer`; a fresh one (no `as_of`) is recorded in the log.

    With `output`, the PDF is written there and the event recorded together or not at all.
    """
    with store.session() as session:
        require_actor(session, signer, Permission.REPORT)

    def build() -> ReportResult:
        return build_report(
            store,
            model,
            version,
            framework or DEFAULT_FRAMEWORK,
            since=since,
            as_of=as_of,
            generated_by=signer.name,
            progress=progress,
        )

    return _deliver(store, signer, build, output, as_of is None)


def generate_registry_report(
    store: Store,
    signer: Signer,
    *,
    since: str | None = None,
    as_of: int | None = None,
    progress: Progress | None = None,
    output: Path | None = None,
) -> ReportResult:
    with store.session() as session:
        require_actor(session, signer, Permission.REPORT)

    def build() -> ReportResult:
        return build_registry_report(
            store, since=since, as_of=as_of, generated_by=signer.name, progress=progress
        )

    return _deliver(store, signer, build, output, as_of is None)


def _with_event(result: ReportResult, seq: int) -> ReportResult:
    from dataclasses import replace

    return replace(result, event_seq=seq)


__all__ = [
    "DEFAULT_FRAMEWORK",
    "ReportResult",
    "build_registry_report",
    "build_report",
    "generate_registry_report",
    "generate_report",
    "record_report",
]
