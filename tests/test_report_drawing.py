"""The report's fast table drawing writes the bytes reportlab itself would write."""

from __future__ import annotations

import io

import pytest
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, TableStyle

from reports import pdf_document
from reports.pdf_document import PageText, render
from reports.pdf_draw import draw_line, fast_drawing
from reports.pdf_layout import Story
from reports.pdf_styles import make_styles
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


def _mixed_table_bytes(table_class: type[LongTable], **options: object) -> bytes:
    """Rows of plain text of one to three lines, a few with a paragraph."""
    register_fonts()
    style = ParagraphStyle("cell", fontName=SANS, fontSize=7.5, leading=9.5)
    rows: list[list[object]] = [["Seq", "Action"]]
    for n in range(400):
        second: object = Paragraph(f"wrapped {n} " * 8, style) if n % 90 == 5 else f"event {n}"
        rows.append([f"#{n}\n" * (n % 3) + "end", second])
    table = table_class(rows, colWidths=[60, 120], repeatRows=1, **options)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 1), (-1, -1), SANS, 7.5, 9.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
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


def test_rows_of_plain_text_are_as_tall_as_reportlab_makes_them() -> None:
    expected = _mixed_table_bytes(LongTable)
    assert _mixed_table_bytes(PagedTable, uniform=True) == expected
    assert _mixed_table_bytes(PagedTable) == expected


def _report_bytes() -> bytes:
    register_fonts()
    story = Story(make_styles())
    story.toc()
    story.heading("1. Events")
    story.grid(
        ["Seq", "Action", "Subject"],
        ([f"#{n}", "monitoring.observed", f"tumour:{n % 7}"] for n in range(600)),
        [0.2, 0.4, 0.4],
        mono=(2,),
    )
    text = PageText("left", "right", "footer", "D:20260101000000+00'00'")
    data, pages = render(story.flowables, text, title="t", subject="s", keywords="k")
    assert pages > 5
    return data


def test_pages_encoded_as_they_end_give_the_bytes_of_encoding_them_when_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoded_at_once = _report_bytes()
    monkeypatch.setattr(pdf_document, "_encode_now", lambda _page: None)
    assert encoded_at_once == _report_bytes()
