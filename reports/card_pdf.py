"""A model card as PDF (reportlab platypus), byte-for-byte the same for the same card.

reportlab's invariant mode fixes the creation date and document id, and nothing here reads
the clock: the dates printed are the store's. Text is set in the reports' DejaVu faces
(`reports.pdf_text`); a character they lack (CJK, emoji) is printed as its \\uXXXX escape
rather than as an invisible glyph or "?".
"""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

from reports.card_model import NOT_PROVIDED, CardData
from reports.card_sections import (
    Block,
    Bullets,
    CardOutline,
    Facts,
    Paragraph,
    Prose,
    Subsection,
    Table,
    card_outline,
)
from reports.pdf_text import MONO, drawable, mono_text, register_fonts
from reports.pdf_text import SANS as FONT

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
        self.outline: CardOutline = card_outline(card)
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

    def bullets(self, items: list[str]) -> None:
        from reportlab.platypus import Paragraph as Para

        for item in items:
            self.story.append(Para(markup(item), self.s.bullet, bulletText="•"))

    # -- the card --

    def build(self) -> list[Any]:
        outline = self.outline
        self.para("MODEL CARD", self.s.kicker)
        self.para(outline.title, self.s.title)
        if outline.description:
            self.para(outline.description, self.s.lead)
        self.facts([[label, value] for label, value in outline.summary])
        for section in outline.sections:
            self.heading(section.title)
            for block in section.blocks:
                self.block(block)
        return self.story

    def block(self, block: Block | Subsection) -> None:
        if isinstance(block, Subsection):
            self.subheading(block.title)
            for inner in block.blocks:
                self.block(inner)
        elif isinstance(block, Paragraph):
            self.para(block.text)
        elif isinstance(block, Prose):
            self.prose(block.text)
        elif isinstance(block, Facts):
            self.facts(block.rows)
        elif isinstance(block, Table):
            self.grid(block.headers, block.rows, block.widths)
        elif isinstance(block, Bullets):
            self.bullets(block.items)

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
