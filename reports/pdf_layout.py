"""The page design of compliance reports: fonts, styles, tables, the document template.

Text is set in DejaVu Sans and digests, keys and signed notes in DejaVu Sans Mono (shipped in
`reports/fonts/` under their free licence, embedded as subsets), so Cyrillic, Greek and Latin
beyond Latin-1 print as written. `ReportDocument` lays out a cover, a table of contents and
numbered pages ("Page X of Y", counted by `NumberedCanvas` once the last page is known), and
builds with reportlab's invariant mode so that the same story always gives the same bytes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.fonts import addMapping
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    Paragraph,
    Preformatted,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from console.freetext import shown
from reports.pdf_draw import fits
from reports.pdf_table import PagedTable

SANS = "SignoffReport"
MONO = "SignoffMono"
FONTS = Path(__file__).parent / "fonts"
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

_FALLBACKS = {"\t": "    "}
_glyphs: dict[str, frozenset[int]] = {}


def register_fonts() -> frozenset[int]:
    """Register the DejaVu faces once per process; return the code points the sans draws."""
    if "sans" in _glyphs:
        return _glyphs["sans"]
    faces = {
        SANS: "DejaVuSans.ttf",
        f"{SANS}-Bold": "DejaVuSans-Bold.ttf",
        f"{SANS}-Italic": "DejaVuSans-Oblique.ttf",
        f"{SANS}-BoldItalic": "DejaVuSans-BoldOblique.ttf",
        MONO: "DejaVuSansMono.ttf",
    }
    for name, file in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(FONTS / file)))
    addMapping(SANS, 0, 0, SANS)
    addMapping(SANS, 1, 0, f"{SANS}-Bold")
    addMapping(SANS, 0, 1, f"{SANS}-Italic")
    addMapping(SANS, 1, 1, f"{SANS}-BoldItalic")
    addMapping(MONO, 0, 0, MONO)
    addMapping(MONO, 1, 0, MONO)
    addMapping(MONO, 0, 1, MONO)
    addMapping(MONO, 1, 1, MONO)
    _glyphs["sans"] = frozenset(pdfmetrics.getFont(SANS).face.charToGlyph)
    _glyphs["mono"] = frozenset(pdfmetrics.getFont(MONO).face.charToGlyph)
    return _glyphs["sans"]


def _escaped(char: str) -> str:
    """A character no shipped font draws (CJK) or beyond the BMP (emoji: reportlab's text map
    cannot carry those, so a reader could not find or copy them): its code point instead."""
    code = ord(char)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


_PRINTABLE_ASCII = frozenset(range(0x20, 0x7F))


@functools.lru_cache(maxsize=4)
def _draws_ascii(glyphs: frozenset[int]) -> bool:
    return glyphs >= _PRINTABLE_ASCII


def _draw_with(text: str, glyphs: frozenset[int]) -> str:
    if text.isascii() and text.isprintable() and _draws_ascii(glyphs):
        return text  # the common case: nothing to escape, nothing missing
    out = []
    for char in shown(text):  # control characters as the terminal shows them: \x1b, \u202e
        if char in _FALLBACKS:
            out.append(_FALLBACKS[char])
        elif char == "\n" or (ord(char) in glyphs and ord(char) <= 0xFFFF):
            out.append(char)
        else:
            out.append(_escaped(char))
    return "".join(out)


def drawable(text: str) -> str:
    """Text the sans font draws; a character it lacks becomes its \\uXXXX escape, never "?"."""
    return _draw_with(text, register_fonts())


def mono_text(text: str) -> str:
    """Text the mono font draws, with the same escapes for what it lacks."""
    register_fonts()
    return _draw_with(text, _glyphs["mono"])


_CODE = re.compile(r"`([^`\n]+)`")


def markup(text: object) -> str:
    """Plain text as Paragraph markup: escaped, `code` in the mono face, line breaks kept."""
    value = "-" if text is None or text == "" else str(text)
    safe = escape(drawable(value))
    safe = _CODE.sub(lambda m: f'<font face="{MONO}">{mono_text(m.group(1))}</font>', safe)
    return safe.replace("\n", "<br/>")


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


Cell = Any  # text, or a flowable placed as it is


class Story:
    """Appends the building blocks of a report to a list of flowables."""

    def __init__(self, styles: Styles) -> None:
        self.s = styles
        self.flowables: list[Flowable] = []
        self._sections = 0

    def add(self, flowable: Flowable) -> None:
        self.flowables.append(flowable)

    def para(self, text: object, style: ParagraphStyle | None = None) -> None:
        self.flowables.append(Paragraph(markup(text), style or self.s.body))

    def raw(self, markup_text: str, style: ParagraphStyle | None = None) -> None:
        """A paragraph of markup the caller built (and escaped) itself."""
        self.flowables.append(Paragraph(markup_text, style or self.s.body))

    def gap(self, height: float = 6) -> None:
        self.flowables.append(Spacer(1, height))

    def heading(self, text: str) -> None:
        """A section: it goes into the table of contents and the PDF outline."""
        self._sections += 1
        heading = Paragraph(markup(text), self.s.h1)
        heading.toc_key = f"section-{self._sections}"
        heading.toc_level = 0
        self.flowables.append(heading)
        rule = HRFlowable(width="100%", thickness=0.8, color=RULE, spaceAfter=6)
        rule.keepWithNext = 1
        self.flowables.append(rule)

    def subheading(self, text: str) -> None:
        self._sections += 1
        heading = Paragraph(markup(text), self.s.h2)
        heading.toc_key = f"section-{self._sections}"
        heading.toc_level = 1
        self.flowables.append(heading)

    def cell(self, value: Cell, *, mono: bool = False) -> Flowable:
        if isinstance(value, Flowable):
            return value
        if mono:
            return Paragraph(escape(mono_text(value or "-")), self.s.cell_mono)
        return Paragraph(markup(value), self.s.cell)

    def _grid_cell(self, value: Cell, mono: bool, width: float) -> Cell:
        """Plain text when it fits its column on its lines (laid out far faster than a
        Paragraph, which matters in tables of thousands of rows), else a wrapping Paragraph."""
        if isinstance(value, Flowable) or "`" in str(value):
            return self.cell(value, mono=mono)
        text = str(value) if value else "-"
        safe = mono_text(text) if mono else drawable(text)
        font, size = (MONO, 7.0) if mono else (SANS, 7.5)
        if all(fits(line, font, size, width - 6) for line in safe.split("\n")):
            return safe
        return self.cell(value, mono=mono)

    def facts(self, rows: Sequence[tuple[str, Cell]], *, mono: Sequence[str] = ()) -> None:
        """A two-column table of labelled facts; labels in `mono` get a monospaced value."""
        data = [[Paragraph(markup(k), self.s.label), self.cell(v, mono=k in mono)] for k, v in rows]
        table = Table(data, colWidths=[0.26 * WIDTH, 0.74 * WIDTH], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
                    ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ]
            )
        )
        self.flowables.append(table)
        self.gap()

    def grid(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[Cell]],
        shares: Sequence[float],
        *,
        mono: Sequence[int] = (),
        fills: dict[int, colors.Color] | None = None,
    ) -> None:
        """A table whose header row repeats on every page; `shares` of the text width.

        A PagedTable measures rows only until a page is full, so splitting a table of
        thousands of rows stays linear instead of re-measuring the rest at every page.
        """
        if not rows:
            return
        widths = [share * WIDTH for share in shares]
        head = [Paragraph(markup(h), self.s.head) for h in headers]
        body = [
            [self._grid_cell(value, i in mono, widths[i]) for i, value in enumerate(row)]
            for row in rows
        ]
        table = PagedTable(
            [head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT", uniform=True
        )
        style: list[tuple[Any, ...]] = [
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA]),
            ("FONT", (0, 1), (-1, -1), SANS, 7.5, 9.5),
            ("TEXTCOLOR", (0, 1), (-1, -1), INK),
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
            ("BOX", (0, 0), (-1, -1), 0.4, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        for column in mono:
            style.append(("FONT", (column, 1), (column, -1), MONO, 7, 9))
        for index, fill in sorted((fills or {}).items()):
            style.append(("BACKGROUND", (0, index + 1), (-1, index + 1), fill))
        table.setStyle(TableStyle(style))
        self.flowables.append(table)
        self.gap()

    def mono_block(self, text: str) -> None:
        """Verbatim text (a signed note) in a ruled box, never wrapped: a wrapped signature
        line would not verify, so the font shrinks until the longest line fits."""
        lines = mono_text(text.rstrip("\n")).split("\n")
        inner = WIDTH - 16
        longest = max(len(line) for line in lines) or 1
        size = min(7.5, inner / (0.61 * longest))  # DejaVu Sans Mono: every glyph is 0.602 em
        style = ParagraphStyle(
            "mono_fit", parent=self.s.mono_block, fontSize=size, leading=size * 1.3
        )
        block = Preformatted("\n".join(lines), style)
        box = Table([[block]], colWidths=[WIDTH], hAlign="LEFT")
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.6, HEADER_FILL),
                    ("BACKGROUND", (0, 0), (-1, -1), LABEL_FILL),
                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                    ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ]
            )
        )
        self.flowables.append(box)
        self.gap()

    def toc(self) -> None:
        contents = TableOfContents(dotsMinLevel=0)
        contents.levelStyles = list(self.s.toc)
        self.flowables.append(contents)


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
