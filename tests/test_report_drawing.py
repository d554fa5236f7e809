"""The report's fast table drawing writes the bytes reportlab itself would write."""

from __future__ import annotations

import io

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, SimpleDocTemplate, TableStyle

from reports.pdf_draw import draw_line, fast_drawing
from reports.pdf_table import PagedTable
from reports.pdf_text import MONO, SANS, register_fonts

TEXTS = [
    "#1234",
    "",
    "monitoring.observed",
    "(parens) and back\\slash",
    "no\u00a0break space",
    "Ελληνικά и кириллица",
    "tumour:1",
    "Ελληνικά again, then ASCII",
]


def _canvas_bytes(fast: bool) -> bytes:
    register_fonts()
    previous = rl_config.invariant
    rl_config.invariant = 1
    try:
        buffer = io.BytesIO()
        canvas = Canvas(buffer)
        for font in (SANS, MONO, SANS):
            canvas.setFont(font, 7.5, 9.5)
            for n, text in enumerate(TEXTS):
                if fast:
                    assert fast_drawing(canvas)
                    draw_line(canvas, 40 + n, 700 - 12 * n, text)
                else:
                    canvas.drawString(40 + n, 700 - 12 * n, text)
            canvas.showPage()
        canvas.save()
        return buffer.getvalue()
    finally:
        rl_config.invariant = previous


def test_draw_line_writes_what_draw_string_writes() -> None:
    assert _canvas_bytes(fast=True) == _canvas_bytes(fast=False)


def _table_bytes(table_class: type[LongTable], **options: object) -> bytes:
    register_fonts()
    rows = [["Seq", "Action"]] + [[f"#{n}", f"event {n}\nsecond line"] for n in range(300)]
    table = table_class(rows, colWidths=[60, 200], repeatRows=1, **options)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 1), (-1, -1), SANS, 7.5, 9.5),
                ("FONT", (1, 1), (1, -1), MONO, 7, 9),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TEXTCOLOR", (0, 7), (-1, 9), colors.red),  # some body rows only
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.lightgrey]),
            ]
        )
    )
    previous = rl_config.invariant
    rl_config.invariant = 1
    try:
        buffer = io.BytesIO()
        SimpleDocTemplate(buffer).build([table])
        return buffer.getvalue()
    finally:
        rl_config.invariant = previous


def test_a_grid_with_shared_row_styles_draws_as_reportlab_does() -> None:
    expected = _table_bytes(LongTable)
    assert _table_bytes(PagedTable, uniform=True) == expected
    assert _table_bytes(PagedTable) == expected
