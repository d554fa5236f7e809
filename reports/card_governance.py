"""The card's governance record: validation, stage history, approvals, card fields, completeness."""

from __future__ import annotations

from reports.card_blocks import Block, Bullets, Facts, Paragraph, Row, Section, Subsection, Table
from reports.card_model import CardData
from reports.card_text import number, threshold, when


def governance(card: CardData) -> Section:
    return Section(
        "Governance Record",
        [
            Subsection("Validation", _validation_record(card)),
            Subsection("Stage history", _stage_history(card)),
            Subsection("Approvals", _approvals(card)),
            Subsection(
                "Card fields",
                [
                    Table(
                        ["Field", "Origin", "When", "Audit event"],
                        [
                            [
                                f.name,
                                f.origin or "not filled",
                                when(f.updated_at),
                                f.event_seq if f.event_seq is not None else "-",
                            ]
                            for f in card.human.values()
                        ],
                        [0.32, 0.33, 0.2, 0.15],
                    )
                ],
            ),
            *_changes(card),
            *_evidence(card),
            Subsection("Completeness", _completeness(card)),
        ],
    )


def _changes(card: CardData) -> list[Subsection]:
    """What the card says differently from the version it started from (none for a first)."""
    if card.changes_against is None:
        return []
    title = f"Changes from v{card.changes_against}"
    if not card.changes:
        return [Subsection(title, [Paragraph("Neither card has a field written.")])]
    return [
        Subsection(title, [Table(["Field", "Change"], [list(c) for c in card.changes], [0.5, 0.5])])
    ]


def _evidence(card: CardData) -> list[Subsection]:
    """The checks whose outcome differs from the evidence unconfirmed inherited text was written for."""
    change = card.evidence
    if change is None:
        return []
    title = f"Evidence since v{change.source}"
    if not change.changes:
        return [Subsection(title, [Paragraph(f"The inherited text was {change.summary()}.")])]
    rows: list[Row] = [[c.check, c.before, c.after] for c in change.changes]
    intro = (
        f"The inherited fields were written for v{change.source} (run {change.source_run}); "
        f"v{change.version}'s validation (run {change.own_run}) differs on these checks:"
    )
    table = Table(["Check", f"v{change.source}", f"v{change.version}"], rows, [0.5, 0.25, 0.25])
    return [Subsection(title, [Paragraph(intro), table])]


def _validation_record(card: CardData) -> list[Block]:
    run = card.validation
    if run is None:
        return [Paragraph("No validation run yet.")]
    blocks: list[Block] = [
        Facts(
            [
                ["Run", run.run_id],
                ["Result", "passed" if run.passed else "did not pass"],
                ["Status", run.status],
                ["Stage thresholds", run.stage or "none"],
                ["Started", when(run.started_at)],
                ["Finished", when(run.finished_at)],
                ["Run by", run.actor],
                ["Report SHA-256", run.report_sha256],
                ["Audit event", run.event_seq],
                ["Checks", ", ".join(f"{n} {s}" for s, n in run.counts.items()) or "none"],
            ]
        )
    ]
    if run.checks:
        rows: list[Row] = [
            [c.name, c.category, c.status, number(c.value), threshold(c.threshold, c.rule)]
            for c in run.checks
        ]
        headers = ["Check", "Category", "Status", "Value", "Threshold"]
        blocks.append(Table(headers, rows, [0.36, 0.18, 0.14, 0.16, 0.16]))
    return blocks


def _stage_history(card: CardData) -> list[Block]:
    if not card.stage_history:
        return [Paragraph("This version has not been deployed to any stage.")]
    rows: list[Row] = [
        [
            when(s.occurred_at),
            s.stage,
            s.kind + (" (break-glass)" if s.break_glass else ""),
            s.version,
            s.replaced_version if s.replaced_version is not None else "-",
            s.actor,
            s.reason,
        ]
        for s in card.stage_history
    ]
    headers = ["When", "Stage", "Change", "Version", "Replaced", "By", "Reason"]
    return [Table(headers, rows, [0.2, 0.11, 0.15, 0.08, 0.09, 0.1, 0.27])]


def _approvals(card: CardData) -> list[Block]:
    if not card.approvals:
        return [Paragraph("No approval decisions are recorded for this version.")]
    rows: list[Row] = [
        [
            a.request_id,
            a.approver,
            a.role,
            a.decision + (f" (void: {a.void_reason})" if a.void else ""),
            when(a.decided_at),
            a.comment,
        ]
        for a in card.approvals
    ]
    headers = ["Request", "Reviewer", "Role", "Decision", "When", "Comment"]
    return [Table(headers, rows, [0.09, 0.12, 0.13, 0.14, 0.2, 0.32])]


def _completeness(card: CardData) -> list[Block]:
    if not card.missing:
        return [Paragraph("Every field is filled and the validation evidence is present.")]
    return [
        Paragraph("Still to be provided before the card is complete:"),
        Bullets([f"`{name}`" for name in card.missing]),
    ]
