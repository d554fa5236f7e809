"""The building blocks of a report's story: paragraphs, headings for the table of contents,
fact tables, grids of thousands of rows that page linearly, and verbatim signed notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
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

from reports.pdf_draw import ascii_fit, fits
from reports.pdf_styles import HEADER_FILL, INK, LABEL_FILL, RULE, WIDTH, ZEBRA, Styles
from reports.pdf_table import PagedTable
from reports.pdf_text import MONO, SANS, drawable, draws_printable_ascii, markup, mono_text

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

    def _column(self, mono: bool, width: float) -> Callable[[Cell], Cell]:
        """`_grid_cell` for one column, answering at once for a printable ASCII text that fits,
        which it would keep as it is (most cells of a long table)."""
        font, size = (MONO, 7.0) if mono else (SANS, 7.5)
        longest = ascii_fit(font, size, width - 6) if draws_printable_ascii(mono=mono) else 0

        def cell(value: Cell) -> Cell:
            if (
                type(value) is str
                and value
                and value.isascii()
                and value.isprintable()
                and "`" not in value
                and (len(value) <= longest or stringWidth(value, font, size) <= width - 6)
            ):
                return value
            return self._grid_cell(value, mono, width)

        return cell

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
        rows: Iterable[Sequence[Cell]],
        shares: Sequence[float],
        *,
        mono: Sequence[int] = (),
        fills: dict[int, colors.Color] | None = None,
    ) -> None:
        """A table whose header row repeats on every page; `shares` of the text width.

        A PagedTable measures rows only until a page is full, so splitting a table of
        thousands of rows stays linear instead of re-measuring the rest at every page.
        `rows` may be a generator: a long table's rows are then never held twice.
        """
        widths = [share * WIDTH for share in shares]
        columns = [self._column(i in mono, width) for i, width in enumerate(widths)]
        body = [[cell(value) for cell, value in zip(columns, row, strict=False)] for row in rows]
        if not body:
            return
        head = [Paragraph(markup(h), self.s.head) for h in headers]
        body.insert(0, head)
        table = PagedTable(  # every cell is text or a flowable already: nothing to normalize
            body, colWidths=widths, repeatRows=1, hAlign="LEFT", uniform=True, normalizedData=1
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
