"""A model card as PDF (reportlab platypus), byte-for-byte the same for the same card.

reportlab's invariant mode fixes the creation date and document id, and nothing here reads
the clock: the dates printed are the store's. Text is set in the reports' DejaVu faces
(`reports.pdf_layout`); a character they lack (CJK, emoji) is printed as its \\uXXXX escape
rather than as an invisible glyph or "?".
"""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

from reports.card_model import NOT_PROVIDED, CardData
from reports.card_markdown import (
    analysis_heading,
    analysis_line,
    completeness_line,
    dataset_rows,
    details_rows,
    evaluation_factors_text,
    group_value,
    interval,
    metrics_intro,
    number,
    plain_value,
    quantitative_none,
    threshold,
    validation_line,
    when,
)
from reports.pdf_layout import MONO, drawable, mono_text, register_fonts
from reports.pdf_layout import SANS as FONT

_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")


def _fonts() -> frozenset[int]:
    """The reports' DejaVu faces (registered once per process) and the code points drawn."""
    return register_fonts()


def _drawable(text: str) -> str:
    return drawable(text)


def _mono(match: re.Match[str]) -> str:
    return f'<font face="{MONO}">{mono_text(match.group(1))}</font>'


def markup(text: object) -> str:
    """Plain text as Paragraph markup: escaped, with `code` and **bold** kept, lines kept."""
    safe = escape(_drawable("-" if text is None or text == "" else str(text)))
    safe = _CODE.sub(_mono, safe)
    safe = _BOLD.sub(r"<b>\1</b>", safe)
    return safe.replace("\n", "<br/>")


class _Styles:
    def __init__(self) -> None:
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle

        _fonts()
        ink = colors.HexColor("#1f2933")
        muted = colors.HexColor("#52606d")
        self.kicker = ParagraphStyle(
            "kicker", fontName=FONT, fontSize=9, leading=12, textColor=muted
        )
        self.title = ParagraphStyle(
            "title", fontName=f"{FONT}-Bold", fontSize=20, leading=25, textColor=ink
        )
        self.lead = ParagraphStyle(
            "lead", fontName=FONT, fontSize=10.5, leading=14, textColor=ink, spaceAfter=8
        )
        self.h1 = ParagraphStyle(
            "h1",
            fontName=f"{FONT}-Bold",
            fontSize=13,
            leading=17,
            textColor=ink,
            spaceBefore=12,
            spaceAfter=4,
        )
        self.h2 = ParagraphStyle(
            "h2",
            fontName=f"{FONT}-Bold",
            fontSize=10,
            leading=13,
            textColor=ink,
            spaceBefore=6,
            spaceAfter=2,
        )
        self.body = ParagraphStyle(
            "body", fontName=FONT, fontSize=9, leading=12.5, textColor=ink, spaceAfter=4
        )
        self.missing = ParagraphStyle(
            "missing", parent=self.body, fontName=f"{FONT}-Italic", textColor=muted
        )
        self.bullet = ParagraphStyle("bullet", parent=self.body, leftIndent=12, bulletIndent=2)
        self.cell = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5, textColor=ink)
        self.head = ParagraphStyle(
            "head", parent=self.cell, fontName=f"{FONT}-Bold", textColor=colors.white
        )
        self.label = ParagraphStyle("label", parent=self.cell, fontName=f"{FONT}-Bold")
        self.ink = ink
        self.muted = muted
        self.header_fill = colors.HexColor("#334e68")
        self.label_fill = colors.HexColor("#f0f4f8")
        self.rule = colors.HexColor("#bcccdc")


class _CardPdf:
    """Builds the flowables of one card."""

    def __init__(self, card: CardData) -> None:
        self.card = card
        self.s = _Styles()
        self.story: list[Any] = []
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm

        self.page_size = A4
        self.margin = 18 * mm
        self.width = A4[0] - 2 * self.margin

    # -- building blocks --

    def para(self, text: object, style: Any = None) -> None:
        from reportlab.platypus import Paragraph

        self.story.append(Paragraph(markup(text), style or self.s.body))

    def heading(self, text: str) -> None:
        from reportlab.platypus import HRFlowable, Paragraph

        self.story.append(Paragraph(markup(text), self.s.h1))
        self.story.append(HRFlowable(width="100%", thickness=0.6, color=self.s.rule, spaceAfter=4))

    def subheading(self, text: str) -> None:
        from reportlab.platypus import Paragraph

        self.story.append(Paragraph(markup(text), self.s.h2))

    def prose(self, value: str | None) -> None:
        """A field a person wrote: paragraphs split on blank lines, `- ` lines as bullets."""
        from reportlab.platypus import Paragraph

        if not value:
            self.story.append(Paragraph(markup(NOT_PROVIDED), self.s.missing))
            return
        for block in re.split(r"\n\s*\n", value):
            lines = [line for line in block.split("\n") if line.strip()]
            if lines and all(line.lstrip().startswith(("- ", "* ")) for line in lines):
                for line in lines:
                    item = line.lstrip()[2:]
                    self.story.append(Paragraph(markup(item), self.s.bullet, bulletText="•"))
            elif lines:
                self.story.append(Paragraph(markup("\n".join(lines)), self.s.body))

    def facts(self, rows: list[list[object]]) -> None:
        """A two-column table of labelled facts."""
        from reportlab.platypus import Paragraph, Table, TableStyle

        data = [
            [Paragraph(markup(k), self.s.label), Paragraph(markup(v), self.s.cell)] for k, v in rows
        ]
        table = Table(data, colWidths=[0.27 * self.width, 0.73 * self.width], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (0, -1), self.s.label_fill),
                    ("GRID", (0, 0), (-1, -1), 0.4, self.s.rule),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ]
            )
        )
        self.story.append(table)
        self._gap()

    def grid(self, headers: list[str], rows: list[list[object]], widths: list[float]) -> None:
        """A table with a header row; `widths` are shares of the text width."""
        from reportlab.platypus import Paragraph, Table, TableStyle

        data = [[Paragraph(markup(h), self.s.head) for h in headers]]
        data += [[Paragraph(markup(c), self.s.cell) for c in row] for row in rows]
        table = Table(data, colWidths=[w * self.width for w in widths], repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), self.s.header_fill),
                    ("GRID", (0, 0), (-1, -1), 0.4, self.s.rule),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        self.story.append(table)
        self._gap()

    def _gap(self) -> None:
        from reportlab.platypus import Spacer

        self.story.append(Spacer(1, 6))

    # -- the card --

    def build(self) -> list[Any]:
        card = self.card
        self.para("MODEL CARD", self.s.kicker)
        self.para(card.title, self.s.title)
        if card.model_description:
            self.para(card.model_description, self.s.lead)
        self.facts(
            [
                ["Risk tier", card.risk_tier],
                ["Owner", card.owner],
                ["Stages", ", ".join(card.current_stages) or "none"],
                ["Validation", validation_line(card)],
                ["Card", completeness_line(card)],
            ]
        )
        self.model_details()
        self.intended_use()
        self.factors()
        self.metrics()
        self.evaluation_data()
        self.training_data()
        self.quantitative_analyses()
        self.heading("Ethical Considerations")
        self.subheading("Risks")
        self.prose(card.field_value("ethical_considerations.risks"))
        self.subheading("Mitigations")
        self.prose(card.field_value("ethical_considerations.mitigations"))
        self.heading("Caveats and Recommendations")
        self.prose(card.field_value("caveats_and_recommendations"))
        self.governance()
        return self.story

    def model_details(self) -> None:
        card = self.card
        self.heading("Model Details")
        self.facts(details_rows(card))
        if card.hyperparameters:
            self.subheading("Hyperparameters of the final estimator")
            self.grid(
                ["Parameter", "Value"],
                [[k, plain_value(v)] for k, v in card.hyperparameters.items()],
                [0.35, 0.65],
            )

    def intended_use(self) -> None:
        card = self.card
        self.heading("Intended Use")
        if card.registered_intended_use:
            self.para(f"Recorded at registration: {card.registered_intended_use}")
        for name in (
            "intended_use.primary_uses",
            "intended_use.primary_users",
            "intended_use.out_of_scope",
        ):
            self.subheading(card.human[name].title)
            self.prose(card.field_value(name))

    def factors(self) -> None:
        self.heading("Factors")
        self.subheading("Relevant factors")
        self.prose(self.card.field_value("factors"))
        self.subheading("Evaluation factors")
        self.para(evaluation_factors_text(self.card))

    def metrics(self) -> None:
        card = self.card
        self.heading("Metrics")
        self.para(metrics_intro(card))
        if card.metrics_source == "training":
            self.grid(
                ["Metric", "Value (in-sample)"],
                [[m.name, number(m.value)] for m in card.metrics],
                [0.5, 0.5],
            )
        elif card.metrics:
            self.grid(
                ["Metric", "Value", "Interval", "Threshold", "Status"],
                [
                    [
                        m.name,
                        number(m.value),
                        interval(m),
                        threshold(m.threshold, m.rule),
                        m.status or "-",
                    ]
                    for m in card.metrics
                ],
                [0.28, 0.14, 0.28, 0.15, 0.15],
            )
        else:
            self.para("The validation run recorded no performance metric.")

    def evaluation_data(self) -> None:
        card = self.card
        self.heading("Evaluation Data")
        if card.evaluation_data is None or card.validation is None:
            self.para("None yet: the version has not been validated.")
            return
        self.facts(
            [
                *dataset_rows(card.evaluation_data),
                ["Target", card.validation.target],
                ["Sensitive attribute", card.validation.sensitive or "none named"],
            ]
        )

    def training_data(self) -> None:
        card = self.card
        self.heading("Training Data")
        self.facts([*dataset_rows(card.training_data), ["Target", card.target]])
        if card.training_data.columns:
            self.subheading("Profile of the training data")
            self.grid(
                ["Column", "Kind", "Type", "Nulls", "Summary"],
                [
                    [
                        c.name,
                        c.kind,
                        c.dtype,
                        "-" if c.null_rate is None else f"{c.null_rate:.1%}",
                        c.summary,
                    ]
                    for c in card.training_data.columns
                ],
                [0.22, 0.12, 0.11, 0.08, 0.47],
            )
        if card.metrics_source == "validation" and card.training_metrics:
            self.para(
                "In-sample metrics at registration (on the training data): "
                + ", ".join(f"{k} {v:.4f}" for k, v in card.training_metrics.items())
                + "."
            )

    def quantitative_analyses(self) -> None:
        card = self.card
        self.heading("Quantitative Analyses")
        if not card.fairness:
            self.para(quantitative_none(card))
        for analysis in card.fairness:
            self.subheading(analysis_heading(analysis))
            self.para(analysis_line(analysis))
            if analysis.groups:
                share = 0.75 / max(1, len(analysis.metrics))
                self.grid(
                    ["Group", *analysis.metrics],
                    [
                        [g.group, *(group_value(g.values.get(m)) for m in analysis.metrics)]
                        for g in analysis.groups
                    ],
                    [0.25, *([share] * len(analysis.metrics))],
                )

    def governance(self) -> None:
        card = self.card
        self.heading("Governance Record")
        self.subheading("Validation")
        run = card.validation
        if run is None:
            self.para("No validation run yet.")
        else:
            self.facts(
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
            if run.checks:
                self.grid(
                    ["Check", "Category", "Status", "Value", "Threshold"],
                    [
                        [
                            c.name,
                            c.category,
                            c.status,
                            number(c.value),
                            threshold(c.threshold, c.rule),
                        ]
                        for c in run.checks
                    ],
                    [0.36, 0.18, 0.14, 0.16, 0.16],
                )
        self.subheading("Stage history")
        if card.stage_history:
            self.grid(
                ["When", "Stage", "Change", "Version", "Replaced", "By", "Reason"],
                [
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
                ],
                [0.2, 0.11, 0.15, 0.08, 0.09, 0.1, 0.27],
            )
        else:
            self.para("This version has not been deployed to any stage.")
        self.subheading("Approvals")
        if card.approvals:
            self.grid(
                ["Request", "Reviewer", "Role", "Decision", "When", "Comment"],
                [
                    [
                        a.request_id,
                        a.approver,
                        a.role,
                        a.decision + (f" (void: {a.void_reason})" if a.void else ""),
                        when(a.decided_at),
                        a.comment,
                    ]
                    for a in card.approvals
                ],
                [0.09, 0.12, 0.13, 0.14, 0.2, 0.32],
            )
        else:
            self.para("No approval decisions are recorded for this version.")
        self.subheading("Card fields")
        self.grid(
            ["Field", "Last edited by", "When", "Audit event"],
            [
                [
                    f.name,
                    f.updated_by or "not filled",
                    when(f.updated_at),
                    f.event_seq if f.event_seq is not None else "-",
                ]
                for f in card.human.values()
            ],
            [0.4, 0.18, 0.27, 0.15],
        )
        self.subheading("Completeness")
        if card.missing:
            self.para("Still to be provided before the card is complete:")
            for name in card.missing:
                from reportlab.platypus import Paragraph

                self.story.append(Paragraph(markup(f"`{name}`"), self.s.bullet, bulletText="•"))
        else:
            self.para("Every field is filled and the validation evidence is present.")

    def decorate(self, canvas: Any, doc: Any) -> None:
        """The footer of every page: what this is, the artifact it describes, the page."""
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.setFillColor(self.s.muted)
        left = _drawable(
            f"signoff model card · {self.card.title} · artifact sha256 "
            f"{self.card.artifact_sha256[:16]}…"
        )
        canvas.drawString(self.margin, self.margin / 2, left)
        canvas.drawRightString(self.page_size[0] - self.margin, self.margin / 2, f"page {doc.page}")
        canvas.restoreState()


def render_pdf(card: CardData) -> bytes:
    """The card as PDF bytes; the same card always gives the same bytes."""
    from reportlab import rl_config
    from reportlab.platypus import SimpleDocTemplate

    builder = _CardPdf(card)
    story = builder.build()
    buffer = io.BytesIO()
    previous = rl_config.invariant
    rl_config.invariant = 1  # fixed creation date and document id: same input, same bytes
    try:
        doc = SimpleDocTemplate(
            buffer,
            pagesize=builder.page_size,
            leftMargin=builder.margin,
            rightMargin=builder.margin,
            topMargin=builder.margin,
            bottomMargin=builder.margin,
            title=f"Model card: {card.title}",
            author=card.owner,
            subject=f"Model card of {card.model} version {card.version}",
            creator="signoff",
            keywords=f"model card, {card.model}, sha256:{card.artifact_sha256}",
        )
        doc.build(story, onFirstPage=builder.decorate, onLaterPages=builder.decorate)
    finally:
        rl_config.invariant = previous
    return buffer.getvalue()
