"""The document template of reports: cover and body pages, running header and footer, a
table of contents and PDF outline, "Page X of Y", and an invariant build.

`render` lays the story out with `multiBuild` (as many passes as the table of contents needs)
under reportlab's invariant mode, with the PDF creation date set from the store's time, so
the same story always gives the same bytes. The first pass only finds where each heading
falls, so it lays out on a canvas that draws nothing; the pages kept are those of a later pass.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFBase85Encode,
    PDFName,
    PDFStream,
    PDFZCompress,
)
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from reports.pdf_styles import (
    HEADER_FILL,
    INK,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    PAGE,
    RULE,
    WIDTH,
)
from reports.pdf_table import PagedTable
from reports.pdf_text import SANS, drawable


class NumberedCanvas(Canvas):  # type: ignore[misc]
    """Keeps every page until the end so each footer can say "Page X of Y".

    A long report holds thousands of pages: each is kept as its code compressed (quickly), and
    once its footer is drawn its stream is compressed as reportlab would at the end, so the
    document never holds every page's text at once.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        state = dict(self.__dict__)
        code: list[str] = self._code
        if code and not self._cropMarks:
            # As one string (reportlab joins a page's code with newlines anyway), compressed.
            state["_code"] = zlib.compress("\n".join(code).encode("utf-8"), 1)
        self._pages.append(state)
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        pages = self._pages[::-1]
        self._pages.clear()
        while pages:
            state = pages.pop()
            self.__dict__.update(state)
            kept = state["_code"]
            if isinstance(kept, bytes):
                self._code = [zlib.decompress(kept).decode("utf-8")]
            if self._pageNumber > 1:
                self.saveState()
                self.setFont(SANS, 7.5)
                self.setFillColor(MUTED)
                self.drawRightString(
                    PAGE[0] - MARGIN_X, MARGIN_BOTTOM / 2, f"Page {self._pageNumber} of {total}"
                )
                self.restoreState()
            super().showPage()
            _encode_now(self._doc.Pages.pages[-1])
        super().save()


def _encode_now(page: Any) -> None:
    """Encode a finished page's stream now, as `PDFPage.check_format` would when saving (the
    same filters, in the same order), so that only its compressed bytes stay in memory."""
    if not page.compression or page.Contents or not page.stream:
        return
    filters = [PDFBase85Encode, PDFZCompress] if rl_config.useA85 else [PDFZCompress]
    content = page.stream
    for encoding in reversed(filters):
        content = encoding.encode(content)
    stream = PDFStream(content=content, filters=filters)
    stream.dictionary["Filter"] = PDFArray([PDFName(f.pdfname) for f in filters])
    stream.__Comment__ = "page stream"
    page.Contents = stream
    page.stream = None


class SketchCanvas(Canvas):  # type: ignore[misc]
    """A canvas for a layout-only pass: pages break where they will, nothing is drawn."""

    sketching = True  # long tables skip drawing altogether (`PagedTable.draw`)

    def _nothing(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    drawString = drawRightString = drawCentredString = drawText = _nothing
    line = lines = rect = roundRect = circle = ellipse = grid = drawPath = _nothing
    drawImage = drawInlineImage = _nothing


@dataclass(frozen=True)
class PageText:
    """What the running header and footer say."""

    header_left: str
    header_right: str
    footer_left: str
    pdf_date: str  # D:YYYYMMDDHHmmSS+00'00', the store's time of event N-1


class ReportDocument(BaseDocTemplate):  # type: ignore[misc]
    """A cover page, then body pages with header, footer and a table of contents."""

    def __init__(
        self,
        buffer: io.BytesIO,
        text: PageText,
        *,
        title: str,
        subject: str,
        keywords: str,
        on_flowable: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(
            buffer,
            pagesize=PAGE,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=title,
            author="signoff",
            subject=subject,
            creator="signoff",
            producer="signoff (reportlab)",
            keywords=keywords,
            invariant=1,
        )
        self.text = text
        self.on_flowable = on_flowable
        self._done = 0
        self._passes = 0
        self._sketching = False
        frame = Frame(
            MARGIN_X,
            MARGIN_BOTTOM,
            WIDTH,
            PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates(
            [
                PageTemplate(id="cover", frames=[frame], onPage=self._cover),
                PageTemplate(id="body", frames=[frame], onPage=self._page),
            ]
        )

    def _dated(self, canvas: Canvas) -> None:
        date = self.text.pdf_date
        canvas.setDateFormatter(lambda *_args: date)

    def _cover(self, canvas: Canvas, _doc: Any) -> None:
        self._dated(canvas)
        canvas.saveState()
        canvas.setFillColor(HEADER_FILL)
        canvas.rect(0, PAGE[1] - 9 * mm, PAGE[0], 9 * mm, stroke=0, fill=1)
        canvas.setFont(SANS, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN_X, MARGIN_BOTTOM / 2, drawable(self.text.footer_left))
        canvas.restoreState()

    def _page(self, canvas: Canvas, _doc: Any) -> None:
        self._dated(canvas)
        canvas.saveState()
        top = PAGE[1] - MARGIN_TOP + 8 * mm
        canvas.setFont(f"{SANS}-Bold", 7.5)
        canvas.setFillColor(INK)
        canvas.drawString(MARGIN_X, top, drawable(self.text.header_left))
        canvas.setFont(SANS, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(PAGE[0] - MARGIN_X, top, drawable(self.text.header_right))
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN_X, top - 2.5 * mm, PAGE[0] - MARGIN_X, top - 2.5 * mm)
        canvas.line(MARGIN_X, MARGIN_BOTTOM - 3 * mm, PAGE[0] - MARGIN_X, MARGIN_BOTTOM - 3 * mm)
        canvas.drawString(MARGIN_X, MARGIN_BOTTOM / 2, drawable(self.text.footer_left))
        canvas.restoreState()

    def build(
        self, flowables: list[Flowable], filename: Any = None, canvasmaker: Any = Canvas
    ) -> None:
        """One pass of `multiBuild`: the first only sketches, the later ones draw.

        reportlab notes how to undo the marks it leaves on a flowable put off to the next page,
        and keeps those notes until the pass ends. A long table's leftover part is put off at
        every page end and made afresh by each pass: its notes are not kept, or each page
        would hold its rows until the end (memory quadratic in the rows).
        """
        self._sketching = self._passes == 0
        self._passes += 1
        note: Callable[[tuple[Any, ...]], None] | None = getattr(self, "_multiBuildEdits", None)
        story = {id(flowable) for flowable in flowables}
        if note is not None:

            def kept(edit: tuple[Any, ...]) -> None:
                if not (isinstance(edit[1], PagedTable) and id(edit[1]) not in story):
                    note(edit)

            self._multiBuildEdits: Callable[[tuple[Any, ...]], None] = kept
        try:
            super().build(flowables, filename, SketchCanvas if self._sketching else canvasmaker)
        finally:
            if note is not None:
                self._multiBuildEdits = note

    def _allSatisfied(self) -> bool:
        """A sketched pass is never the last: its pages are not kept."""
        return not self._sketching and bool(super()._allSatisfied())

    def beforeDocument(self) -> None:
        self._done = 0

    def afterFlowable(self, flowable: Flowable) -> None:
        self._done += 1
        if self.on_flowable is not None:
            self.on_flowable(self._done)
        key = getattr(flowable, "toc_key", None)
        if key is None:
            return
        level = int(getattr(flowable, "toc_level", 0))
        text = flowable.getPlainText()
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
        self.notify("TOCEntry", (level, text, self.page, key))


def render(
    story: list[Flowable],
    text: PageText,
    *,
    title: str,
    subject: str,
    keywords: str,
    on_flowable: Callable[[int], None] | None = None,
) -> tuple[bytes, int]:
    """Lay out the story (as many passes as the table of contents needs); (bytes, pages)."""
    buffer = io.BytesIO()
    previous = rl_config.invariant
    rl_config.invariant = 1  # a fixed document id and no clock: the same story, the same bytes
    try:
        doc = ReportDocument(
            buffer, text, title=title, subject=subject, keywords=keywords, on_flowable=on_flowable
        )
        doc.multiBuild(story, canvasmaker=NumberedCanvas)
    finally:
        rl_config.invariant = previous
    return buffer.getvalue(), int(doc.page)  # the last page of the final pass
