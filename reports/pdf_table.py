"""A long table that measures only the rows a page needs, so a report's table of 100,000
rows lays out in linear time with the same row heights (and bytes) as reportlab's own.

reportlab 5.1's `LongTable` measures every remaining row at each page (its early stop only
applies to tables with spanned cells), and re-finds the next row with a linear search: laying
out N rows cost O(N^2). `PagedTable` measures rows in windows, stops once the page is full,
and keeps the heights it measured, which depend only on the fixed column widths. Each page
also makes a table of the rows left over, whose constructor checks every row's width in
Python, and carries each style command over by building the set of every row it spans; the
rows of a grid all have the same width, so the leftover table skips the check, and a command
is carried over by comparing its two ends with the header rows.
"""

from __future__ import annotations

from typing import Any

from reportlab.platypus import LongTable
from reportlab.platypus.tables import CellStyle

from reports.pdf_draw import draw_line, fast_drawing

WINDOW = 64  # rows measured at a time: a page holds about fifty
UNBOUNDED = float(0x7FFFFFFF)  # the height reportlab passes when it only wants a size
CELL_OPS = frozenset(  # the commands reportlab keeps in each cell's CellStyle
    [
        "FONT",
        "FONTNAME",
        "FACE",
        "SIZE",
        "FONTSIZE",
        "LEADING",
        "TEXTCOLOR",
        "ALIGN",
        "ALIGNMENT",
        "VALIGN",
        "LEFTPADDING",
        "RIGHTPADDING",
        "TOPPADDING",
        "BOTTOMPADDING",
        "HREF",
        "DESTINATION",
        "DIRECTION",
        "SHAPING",
    ]
)


class PagedTable(LongTable):  # type: ignore[misc]
    """A `LongTable` (header rows repeat on every page) for tables without spanned cells."""

    def __init__(
        self, data: list[list[Any]], *args: Any, uniform: bool = False, **kwargs: Any
    ) -> None:
        """With `uniform`, every row after the first is styled alike (a grid): they share one
        row of cell styles, as long as no style command picks out some of them."""
        if uniform and len(data) > 1 and "cellStyles" not in kwargs:
            columns = max(len(row) for row in data)
            shared = [CellStyle(repr((1, j))) for j in range(columns)]
            head = [CellStyle(repr((0, j))) for j in range(columns)]
            kwargs["cellStyles"] = [head] + [shared] * (len(data) - 1)
        self._uniform = uniform and "cellStyles" in kwargs
        heights, styles = kwargs.get("rowHeights"), kwargs.get("cellStyles")
        leftover = (
            kwargs.get("normalizedData")
            and len(data) > 1
            and isinstance(heights, list)
            and isinstance(styles, list)
            and len(heights) == len(styles) == len(data)
            and "style" not in kwargs
            and not args
        )
        if not leftover:  # a table made by a report: reportlab checks every row
            super().__init__(data, *args, **kwargs)
            return
        # A part made by reportlab's own split, from rows it has already checked: build it on
        # the first row, then hand it every row, as its constructor would have stored them.
        assert heights is not None and styles is not None
        super().__init__(
            data[:1], **{**kwargs, "rowHeights": heights[:1], "cellStyles": styles[:1]}
        )
        self._nrows = len(data)
        self._cellvalues = data
        self._rowHeights = self._argH = heights
        self._cellStyles = styles
        minimum = kwargs.get("minRowHeights")
        if minimum:
            self._minRowHeights = minimum

    def _addCommand(self, cmd: Any) -> None:
        """reportlab's, but a command styling every row after the first styles their shared
        row once; one styling only some of them first gives each row styles of its own."""
        rows = cmd[1][1], cmd[2][1]
        if not (self._uniform and cmd[0] in CELL_OPS and not isinstance(rows[0], str)):
            super()._addCommand(cmd)
            return
        first_col, last_col, first, last = self.normCellRange(cmd[1][0], cmd[2][0], *rows)
        if first <= 1 and last >= self._nrows - 1:
            super()._addCommand((cmd[0], (first_col, first), (last_col, min(last, 1)), *cmd[3:]))
            return
        if last >= 1:  # some body rows only: they part from the shared row
            self._uniform = False
            self._cellStyles = self._cellStyles[:1] + [
                [style.copy() for style in row] for row in self._cellStyles[1:]
            ]
        super()._addCommand(cmd)

    def _measure(self, start: int, stop: int, available_width: float, widths: Any) -> list[float]:
        """Heights of rows start..stop-1, measured by reportlab itself on that slice alone, or
        by `_plain_heights` when every cell of them is plain text."""
        if all(type(value) is str for row in self._cellvalues[start:stop] for value in row):
            return self._plain_heights(start, stop)
        saved: dict[str, Any] = {
            name: getattr(self, name, None)
            for name in (
                "_argH",
                "_rowHeights",
                "_cellvalues",
                "_cellStyles",
                "_minRowHeights",
                "_rowpositions",
                "_height",
                "_hmax",
                "_longTableOptimize",
            )
        }
        try:
            unknown: list[float | None] = [None] * (stop - start)
            self._argH = unknown
            self._cellvalues = saved["_cellvalues"][start:stop]
            self._cellStyles = saved["_cellStyles"][start:stop]
            minimum = saved["_minRowHeights"]
            self._minRowHeights = minimum[start:stop] if minimum else minimum
            self._longTableOptimize = 0  # measure the whole window
            super()._calc_height(UNBOUNDED, available_width, W=widths)
            measured: list[float] = [height or 0.0 for height in self._rowHeights]
            return measured
        finally:
            for name, value in saved.items():
                setattr(self, name, value)

    def _plain_heights(self, start: int, stop: int) -> list[float]:
        """reportlab's `_calc_height` for rows of plain text: a cell is as tall as its lines
        at its leading, plus its padding; a row as its tallest cell, or its minimum height."""
        minimum = self._minRowHeights
        heights: list[float] = []
        for i in range(start, stop):
            tallest: float = 0
            for value, style in zip(self._cellvalues[i], self._cellStyles[i], strict=False):
                lines = len(value.split("\n"))
                cell = (style.leading or 1.2 * style.fontsize) * lines
                cell += style.bottomPadding + style.topPadding
                if cell > tallest:
                    tallest = cell
            heights.append(max(minimum[i], tallest) if minimum else tallest)
        return heights

    def _calc_height(
        self, availHeight: float, availWidth: float, H: Any = None, W: Any = None
    ) -> None:
        heights = self._argH
        if self._spanCmds or None not in heights:
            super()._calc_height(availHeight, availWidth, H, W)
            return
        known: list[float | None] = list(heights)
        rows, total, filled = len(known), 0.0, 0
        while filled < rows and total <= availHeight:
            if known[filled] is None:
                stop = min(rows, filled + WINDOW)
                for offset, height in enumerate(self._measure(filled, stop, availWidth, W)):
                    if known[filled + offset] is None:
                        known[filled + offset] = height
            total += known[filled] or 0.0
            filled += 1
        # reportlab lays out the measured rows; the rest stay unknown until a later page.
        self._argH = known[:filled]
        try:
            super()._calc_height(availHeight, availWidth, H, W)
        finally:
            self._argH = known
        self._rowHeights = known

    def _cr_1_1(
        self,
        n: int,
        nRows: int,
        repeatRows: list[int],
        cmds: list[tuple[Any, ...]],
        doInRowSplit: int,
        _srflMode: bool = False,
    ) -> None:
        """Carry `cmds` of the table split at row `n` over to this leftover part (its header
        rows `repeatRows`, then rows n..), as reportlab does, in time independent of the rows."""
        special = any(isinstance(c[1][1], str) or isinstance(c[2][1], str) for c in cmds)
        if special or self._rowSplitRange:  # split-first/last markers: reportlab's own way
            super()._cr_1_1(n, nRows, repeatRows, cmds, doInRowSplit, _srflMode)
            return
        header = len(repeatRows)
        for command in cmds:
            (first_col, first), (last_col, last) = command[1:3]
            first, last = first + nRows if first < 0 else first, last + nRows if last < 0 else last
            repeated = [row for row in repeatRows if first <= row <= last]
            if repeated:  # the command also styles header rows: it follows them to the top
                top, bottom = repeatRows.index(min(repeated)), repeatRows.index(max(repeated))
                self._addCommand((command[0], (first_col, top), (last_col, bottom), *command[3:]))
            if last < n:
                continue
            top, bottom = max(first - n, 0) + header, max(last - n, 0) + header
            self._addCommand((command[0], (first_col, top), (last_col, bottom), *command[3:]))

    def draw(self) -> None:
        """Nothing on a sketching canvas (a pass that only finds where pages break)."""
        if not getattr(self.canv, "sketching", False):
            self._drawn_style: Any = None
            self._draw_text: Any = None
            super().draw()

    def _drawCell(self, cellval: Any, cellstyle: Any, pos: Any, size: Any) -> None:
        """reportlab's own for a plain string at the top left of its cell, with each line
        drawn by `draw_line` (the same bytes)."""
        canvas = self.canv
        if not (
            type(cellval) is str
            and cellstyle.alignment == "LEFT"
            and cellstyle.valign == "TOP"
            and not (cellstyle.direction or cellstyle.shaping)
            and not (cellstyle.href or cellstyle.destination)
        ):
            super()._drawCell(cellval, cellstyle, pos, size)
            return
        current: Any = self._curcellstyle  # type: ignore[has-type]
        if current is not cellstyle:
            if current is None or (
                cellstyle.color is not current.color and cellstyle.color != current.color
            ):
                canvas.setFillColor(cellstyle.color)
            if (
                current is None
                or cellstyle.leading != current.leading
                or cellstyle.fontname != current.fontname
                or cellstyle.fontsize != current.fontsize
            ):
                canvas.setFont(cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
            self._curcellstyle = cellstyle
        if self._drawn_style is not cellstyle:  # the canvas font is the style's until it changes
            self._draw_text = draw_line if fast_drawing(canvas) else type(canvas).drawString
            self._drawn_style = cellstyle
        draw = self._draw_text
        x = pos[0] + cellstyle.leftPadding
        y = pos[1] + size[1] - cellstyle.topPadding - cellstyle.fontsize
        if "\n" not in cellval:
            draw(canvas, x, y, cellval)
            return
        for line in cellval.split("\n"):
            draw(canvas, x, y, line)
            y -= cellstyle.leading
