"""Small formatting rules every report section shares: times, numbers, findings."""

from __future__ import annotations

from dataclasses import dataclass

from reports.snapshot import Event, Snapshot


def when(ts: str | None) -> str:
    """A store timestamp (2026-11-03T09:00:41.000000Z) as 2026-11-03 09:00:41 UTC."""
    if not ts:
        return "-"
    day, _, rest = ts.partition("T")
    return f"{day} {rest[:8]} UTC" if rest else day


def pdf_date(ts: str) -> str:
    """The PDF date (D:YYYYMMDDHHmmSS+00'00') of a store timestamp."""
    digits = "".join(ch for ch in ts[:19] if ch.isdigit()).ljust(14, "0")
    return f"D:{digits}+00'00'"


def number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}" if value != int(value) else str(int(value))


def as_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class Finding:
    """Something an auditor must look at: a failed check, a failing gate, a break-glass use,
    an overridden canary step, an open monitoring alert, a failing monitoring window."""

    kind: str  # FAIL, GATE, BREAK-GLASS, OVERRIDE, INTEGRITY, SIGNATURE, ALERT, WINDOW
    what: str
    ref: str


def integrity_findings(snapshot: Snapshot) -> list[Finding]:
    """What the log's own verification and its checkpoint say is wrong."""
    found: list[Finding] = []
    if not snapshot.verified:
        found.append(
            Finding(
                "INTEGRITY",
                f"the audit log does not verify: {snapshot.failure}",
                f"event #{snapshot.first_bad_seq}",
            )
        )
    checkpoint = snapshot.checkpoint
    if checkpoint is not None and not (checkpoint.signature_ok and checkpoint.matches_log):
        found.append(
            Finding(
                "INTEGRITY",
                f"checkpoint {checkpoint.id} does not hold: {checkpoint.problem}",
                f"audit.checkpoint #{checkpoint.event_seq}",
            )
        )
    return found


TIMELINE_ACTIONS = (
    "promotion.requested",
    "promotion.approved",
    "promotion.rejected",
    "promotion.withdrawn",
    "promotion.executed",
    "canary.started",
    "canary.step",
    "canary.completed",
    "canary.aborted",
    "rollback.executed",
)


def describe(event: Event, snapshot: Snapshot) -> tuple[str, bool]:
    """(what happened, break-glass?) for a workflow or stage event."""
    p = event.payload
    model = event.model or str(p.get("model", ""))
    request = (
        snapshot.requests.get(int(str(p.get("request")))) if _is_int(p.get("request")) else None
    )
    target = f"{model} v{request.version} to {request.stage}" if request else model
    action = event.action
    if action == "promotion.requested":
        return (
            f"request {p.get('request')}: {model} v{p.get('version')} to {p.get('stage')}, "
            f'"{p.get("comment", "")}"',
            False,
        )
    if action in ("promotion.approved", "promotion.rejected"):
        verb = "approved" if action.endswith("approved") else "REJECTED"
        return (
            f"{verb} request {p.get('request')} ({target}) as {p.get('role')}: "
            f'"{p.get("comment", "")}"',
            False,
        )
    if action == "promotion.withdrawn":
        return f"withdrew request {p.get('request')} ({target})", False
    version, stage = p.get("version"), p.get("stage")
    replaced = p.get("replaced_version")
    instead = f" (replacing v{replaced})" if replaced else ""
    if action == "promotion.executed":
        return f"promoted v{version} to {stage}{instead}", False
    if action == "canary.started":
        return f"canary of v{version} started in {stage} at {p.get('canary_share')}%", False
    override = bool(p.get("break_glass"))  # a step past an inconclusive comparison
    why = f" (OVERRIDE: {p.get('reason', '')})" if override else ""
    if action == "canary.step":
        return f"canary of v{version} in {stage} stepped to {p.get('canary_share')}%{why}", override
    if action == "canary.completed":
        done = f"canary of v{version} completed: v{version} now serves {stage}{instead}"
        return done + why, override
    if action == "canary.aborted":
        return f"canary of v{version} in {stage} aborted: {p.get('reason', '')}", False
    if action == "rollback.executed":
        return (
            f"BREAK-GLASS ROLLBACK of {stage} to v{version}{instead}: {p.get('reason', '')}",
            bool(p.get("break_glass", True)),
        )
    return f"{action} {event.subject}", False


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
