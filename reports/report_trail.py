"""Report sections about decisions and the log: approvals, timeline, audit trail.

Shared by the model report and the registry-wide report; each takes the snapshot and the
events it should show, and appends to a `Story`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reports.pdf_layout import Story
from reports.pdf_styles import ALERT_FILL, status_cell, status_markup
from reports.pdf_text import markup
from reports.report_text import TIMELINE_ACTIONS, describe, when
from reports.snapshot import DecisionEntry, Event, Snapshot

DECISION_NOTE = (
    "Each decision is a canonical JSON statement (request, evidence digest, decision, comment, "
    "approver, role, time) signed with Ed25519 over `signoff/decision/v1\\n` followed by the "
    "statement. For this report every signature was verified again with the public key the "
    "audit log registered under the decision's key id; the statement was also compared with "
    "the digest and signature in the decision's signed log event."
)


def approvals_section(
    story: Story,
    snapshot: Snapshot,
    decisions: Sequence[DecisionEntry],
    what: str = "",
    *,
    note: bool = True,
) -> None:
    """The decisions given, each with its signature checked again; `what` says whose they are."""
    if note:
        story.para(DECISION_NOTE)
    if not decisions:
        story.para(
            f"No decision {what} was recorded in the period.".replace("  ", " "), story.s.note
        )
        return
    story.para(f"{len(decisions)} signed decision(s) {what}, oldest first.".replace(" ,", ","))
    rows = []
    fills = {}
    for i, d in enumerate(decisions):
        a = d.approval
        rows.append(
            [
                f"request {a.request_id}\nv{d.version} to {d.stage}",
                f"{a.approver}\n{a.role}",
                status_cell(story.s, a.decision, upper=False),
                when(a.decided_at),
                a.comment,
                a.keyid,
                status_cell(story.s, "VALID" if d.sound else "INVALID"),
                f"#{a.event_seq}",
            ]
        )
        if not d.sound:
            fills[i] = ALERT_FILL
    story.grid(
        [
            "Request",
            "Reviewer",
            "Decision",
            "Time",
            "Comment",
            "Key fingerprint",
            "Signature",
            "Event",
        ],
        rows,
        [0.11, 0.12, 0.09, 0.11, 0.18, 0.19, 0.13, 0.07],
        mono=(5,),
        fills=fills,
    )
    problems = [d for d in decisions if not d.sound]
    for d in problems:
        story.para(
            f"Decision #{d.approval.event_seq} by {d.approval.approver} does not hold: {d.problem}.",
            story.s.body,
        )
    story.subheading("Signed statements" + (f" {what}" if what else ""))
    story.para(
        f"The sha256 of each of the {len(decisions)} signed statement(s), to compare with the "
        "`statement_sha256` of its event in an export of the log:",
        story.s.small,
    )
    story.grid(
        ["Event", "Reviewer", "Statement sha256", "Signature (Ed25519, hex)"],
        [
            [
                f"#{d.approval.event_seq}",
                d.approval.approver,
                hashlib.sha256(d.approval.statement).hexdigest(),
                d.approval.signature.hex(),
            ]
            for d in decisions
        ],
        [0.08, 0.1, 0.34, 0.48],
        mono=(2, 3),
    )


def timeline_section(story: Story, snapshot: Snapshot, events: Sequence[Event]) -> None:
    """Requests, decisions, promotions, canary steps and rollbacks, in log order."""
    shown = [e for e in events if e.action in TIMELINE_ACTIONS]
    story.para(
        "Every request, decision and stage change, in the order of the audit log. Break-glass "
        "actions (rollbacks that need no approval) are marked in red."
    )
    if not shown:
        story.para("No request or stage change was recorded in the period.", story.s.note)
        return
    rows = []
    fills = {}
    for i, event in enumerate(shown):
        what, glass = describe(event, snapshot)
        label = status_cell(story.s, "BREAK-GLASS") if glass else event.action
        rows.append([f"#{event.seq}", when(event.ts), event.actor, label, what])
        if glass:
            fills[i] = ALERT_FILL
    story.grid(
        ["Event", "Time", "Actor", "Action", "What happened"],
        rows,
        [0.07, 0.15, 0.09, 0.2, 0.49],
        fills=fills,
    )


def verification_section(story: Story, snapshot: Snapshot) -> None:
    s = story.s
    result = (
        status_markup("PASS") + escape(f" every one of the {snapshot.size} events verifies")
        if snapshot.verified
        else status_markup("FAIL")
        + escape(f" at event {snapshot.first_bad_seq}: {snapshot.failure}")
    )
    story.para(
        f"signoff verified the first {snapshot.size} events of the log (sequence numbers 0 to "
        f"{snapshot.size - 1}) for this report: sequence numbers without gaps, each stored field "
        "against the signed entry, payload digests, the hash chain, that each key was "
        "registered to its actor and valid at that point, and every Ed25519 signature."
    )
    story.facts(
        [
            ("Result", _raw(story, result)),
            ("Events checked", f"{snapshot.signatures_checked} of {snapshot.size}"),
            ("Log origin", snapshot.origin),
            ("Merkle root at size N", snapshot.root_hex),
        ],
        mono=("Merkle root at size N", "Log origin"),
    )
    story.para(
        f"The log head at size {snapshot.size} (a C2SP tlog-checkpoint body, unsigned: it is "
        "what a checkpoint issued now would sign):",
        s.small,
    )
    story.mono_block(snapshot.checkpoint_body)

    story.subheading("Keys the log registered")
    story.para(
        "Who may sign, as the log itself establishes it (`store.created`, `user.added`, "
        "`key.rotated`, `user.revoked`); the store's user tables are never trusted for this.",
        s.small,
    )
    story.grid(
        ["User", "Role", "Key fingerprint (keyid)", "Valid from", "Revoked at"],
        [
            [
                k.user,
                k.role,
                k.keyid,
                f"#{k.valid_from}",
                f"#{k.revoked_at}" if k.revoked_at is not None else "-",
            ]
            for k in sorted(snapshot.keys, key=lambda k: (k.valid_from, k.keyid))
        ],
        [0.1, 0.15, 0.56, 0.09, 0.1],
        mono=(2,),
    )
    story.subheading("Signed checkpoint")
    c = snapshot.checkpoint
    if c is None:
        story.para(
            "No checkpoint had been issued before this report's log size. Issue one with "
            "`signoff audit checkpoint -o kept.txt` and keep it outside the store.",
            s.note,
        )
    else:
        holds = c.signature_ok and c.matches_log
        story.para(
            "The newest checkpoint the store issued within the first "
            f"{snapshot.size} events. Keep the signed note below outside the store: with it, "
            "`signoff audit verify --checkpoint kept.txt` (or `python -m audit.verify DIR "
            "--checkpoint kept.txt` on an export) proves later that the log only grew."
        )
        story.facts(
            [
                (
                    "Checkpoint",
                    f"{c.id}, issued by {c.issued_by} at {when(c.issued_at)} "
                    f"(audit.checkpoint #{c.event_seq})",
                ),
                ("Tree size", str(c.size)),
                ("Root (hex)", c.root_hex),
                (
                    "Signature",
                    _raw(
                        story,
                        status_markup("VALID" if c.signature_ok else "INVALID")
                        + escape(" with a key the log registered to the signer"),
                    ),
                ),
                (
                    "Consistent with this log",
                    _raw(
                        story,
                        status_markup("YES" if holds else "NO")
                        + escape(
                            f" the first {c.size} events have this root"
                            if holds
                            else f" {c.problem}"
                        ),
                    ),
                ),
            ],
            mono=("Root (hex)",),
        )
        story.para("The signed note, verbatim:", s.small)
        story.mono_block(c.note)


def events_section(story: Story, events: Sequence[Event], what: str) -> None:
    story.para(f"{len(events)} event(s) {what}, oldest first.")
    if not events:
        return
    story.grid(
        ["Seq", "Time", "Actor", "Action", "Subject"],
        ([f"#{e.seq}", when(e.ts), e.actor, e.action, e.subject] for e in events),
        [0.08, 0.215, 0.1, 0.2, 0.405],
        mono=(4,),
    )


def _raw(story: Story, text: str) -> object:
    from reportlab.platypus import Paragraph

    return Paragraph(text, story.s.cell)


__all__ = [
    "approvals_section",
    "events_section",
    "markup",
    "timeline_section",
    "verification_section",
]
