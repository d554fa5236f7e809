"""A long table that measures only the rows a page needs, so a report's table of 100,000
rows lays out in linear time with the same row heights (and bytes) as reportlab's own.

reportlab 5.1's `LongTable` measures every remaining row at each page (its early stop only
applies to tables with spanned cells), and re-finds the next row with a linear search: laying
out N rows cost O(N^2). `PagedTable` measures rows in windows, stops once the page is full,
and keeps the heights it measured, which depend only on the fixed column widths.
"""

from __future__ import annotations

from typing import Any

from reportlab.platypus import LongTable

WINDOW = 64  # rows measured at a time: a page holds about fifty
UNBOUNDED = float(0x7FFFFFFF)  # the height reportlab passes when it only wants a size


class PagedTable(LongTable):  # type: ignore[misc]
    """A `LongTable` (header rows repeat on every page) for tables without spanned cells."""

    def _measure(self, start: int, stop: int, available_width: float, widths: Any) -> list[float]:
        """Heights of rows start..stop-1, measured by reportlab itself on that slice alone."""
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
