"""The page design of compliance reports: page geometry, colours, paragraph styles and the
coloured status words, shared by every section so that the reports look alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph

from reports.pdf_text import MONO, SANS, register_fonts

PAGE = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 18 * mm
WIDTH = PAGE[0] - 2 * MARGIN_X

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#bcccdc")
HEADER_FILL = colors.HexColor("#334e68")
LABEL_FILL = colors.HexColor("#f0f4f8")
ZEBRA = colors.HexColor("#f7f9fb")
PASS = colors.HexColor("#2f7d32")
FAIL = colors.HexColor("#b42318")
FAIL_HEX = "#b42318"  # the same, for paragraph markup
WARN = colors.HexColor("#b54708")
INFO = colors.HexColor("#486581")
ALERT_FILL = colors.HexColor("#fde8e8")
WARN_FILL = colors.HexColor("#fff4e5")


@dataclass(frozen=True)
class Styles:
    kicker: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    lead: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    cell_mono: ParagraphStyle
    head: ParagraphStyle
    label: ParagraphStyle
    mono_block: ParagraphStyle
    toc: tuple[ParagraphStyle, ParagraphStyle]


def make_styles() -> Styles:
    register_fonts()
    bold = f"{SANS}-Bold"
    body = ParagraphStyle(
        "body", fontName=SANS, fontSize=9, leading=12.5, textColor=INK, spaceAfter=4
    )
    cell = ParagraphStyle("cell", fontName=SANS, fontSize=7.5, leading=9.5, textColor=INK)
    return Styles(
        kicker=ParagraphStyle("kicker", fontName=bold, fontSize=9, leading=12, textColor=MUTED),
        title=ParagraphStyle(
            "title", fontName=bold, fontSize=24, leading=30, textColor=INK, spaceAfter=6
        ),
        subtitle=ParagraphStyle(
            "subtitle", fontName=SANS, fontSize=13, leading=17, textColor=INK, spaceAfter=14
        ),
        lead=ParagraphStyle(
            "lead", fontName=SANS, fontSize=10, leading=14, textColor=INK, spaceAfter=8
        ),
        h1=ParagraphStyle(
            "h1",
            fontName=bold,
            fontSize=14,
            leading=18,
            textColor=INK,
            spaceBefore=4,
            spaceAfter=2,
            keepWithNext=1,
        ),
        h2=ParagraphStyle(
            "h2",
            fontName=bold,
            fontSize=10.5,
            leading=14,
            textColor=INK,
            spaceBefore=8,
            spaceAfter=3,
            keepWithNext=1,
        ),
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10.5, textColor=MUTED),
        note=ParagraphStyle(
            "note", parent=body, fontName=f"{SANS}-Italic", fontSize=8.5, textColor=MUTED
        ),
        cell=cell,
        cell_mono=ParagraphStyle(
            "cell_mono", parent=cell, fontName=MONO, fontSize=7, leading=9, wordWrap="CJK"
        ),
        head=ParagraphStyle("head", parent=cell, fontName=bold, textColor=colors.white),
        label=ParagraphStyle("label", parent=cell, fontName=bold),
        mono_block=ParagraphStyle(
            "mono_block", fontName=MONO, fontSize=7.5, leading=9.5, textColor=INK
        ),
        toc=(
            ParagraphStyle(
                "toc0",
                fontName=bold,
                fontSize=10,
                leading=15,
                leftIndent=0,
                firstLineIndent=0,
                textColor=INK,
            ),
            ParagraphStyle(
                "toc1",
                fontName=SANS,
                fontSize=9,
                leading=12.5,
                leftIndent=14,
                firstLineIndent=0,
                textColor=MUTED,
            ),
        ),
    )


def status_markup(status: str, *, upper: bool = True) -> str:
    """A status word in its colour, bold (PASS, FAIL, WARN, GAP, ...)."""
    word = status.upper() if upper else status
    tone = {
        "PASS": PASS,
        "MET": PASS,
        "VALID": PASS,
        "YES": PASS,
        "OK": PASS,
        "FAIL": FAIL,
        "GAP": FAIL,
        "INVALID": FAIL,
        "NO": FAIL,
        "BREAK-GLASS": FAIL,
        "OVERRIDE": FAIL,
        "ALERT": FAIL,
        "INCIDENT": FAIL,
        "WINDOW": FAIL,
        "OPEN": FAIL,
        "WARN": WARN,
        "PARTIAL": WARN,
        "APPROVE": PASS,
        "REJECT": FAIL,
    }.get(word.upper(), INFO)
    return f'<font color="{tone.hexval().replace("0x", "#")}"><b>{escape(word)}</b></font>'


def status_cell(styles: Styles, status: str, *, upper: bool = True) -> Paragraph:
    return Paragraph(status_markup(status, upper=upper), styles.cell)
