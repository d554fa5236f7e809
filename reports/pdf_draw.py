"""Plain table cells drawn with the PDF operators reportlab writes, without its per-string
machinery: a report's event table draws tens of thousands of short strings.

reportlab's `Canvas.drawString` makes a text object, measures the string (only to throw the
width away), formats it through generic code, and splits it into font subsets one character
at a time. `draw_line` writes the same `BT … Tm … Tj T* ET` text for a TrueType font (every
report font is one): the subsets come from a table of the characters the document has already
assigned, and anything new (a character drawn for the first time) goes through reportlab's own
`splitString`, which assigns it, so the bytes are those reportlab would write.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen import textobject
from reportlab.pdfgen.canvas import Canvas

NBSP = 0xA0  # reportlab draws a no-break space as a space


class _Assigned:
    """The characters a font's document state has put in its first subset, as a translation."""

    def __init__(self) -> None:
        self.count = -1
        self.table: dict[int, int] = {}
        self.others: re.Pattern[str] = re.compile("(?s).")

    def refresh(self, assignments: dict[int, int]) -> None:
        self.count = len(assignments)
        table = {code: n for code, n in assignments.items() if n < 256}
        if 32 in assignments and assignments[32] < 256:
            table[NBSP] = assignments[32]
        self.table = table
        known = "".join(re.escape(chr(code)) for code in sorted(table))
        self.others = re.compile(f"[^{known}]" if known else "(?s).")


_assigned: dict[int, tuple[Any, _Assigned, Any]] = {}  # per font: one document, its state


def _runs(font: Any, text: str, doc: Any) -> list[tuple[int, bytes]]:
    """`font.splitString(text, doc)`: (subset, bytes) runs, the same as reportlab's."""
    held = _assigned.get(id(font))
    if held is None or held[0] is not doc:  # a new document: start afresh, keep no old one
        state = font.state.get(doc)
        if state is None or not text:
            return list(font.splitString(text, doc))
        held = (doc, _Assigned(), state)  # the font's state in a document is made once
        _assigned[id(font)] = held
    if not text:
        return list(font.splitString(text, doc))
    assigned, state = held[1], held[2]
    if assigned.count != len(state.assignments):
        assigned.refresh(state.assignments)
    if assigned.others.search(text) is not None:  # a character not yet in the first subset
        return list(font.splitString(text, doc))
    return [(0, text.translate(assigned.table).encode("latin-1"))]


_fast_fonts: dict[str, bool] = {}


def fast_drawing(canvas: Any) -> bool:
    """Whether `draw_line` writes what `canvas.drawString` would (a TrueType font, bottom-up)."""
    if type(canvas).drawString is not Canvas.drawString or textobject.rtlSupport:
        return False
    if not canvas.bottomup:
        return False
    name = canvas._fontname
    fast = _fast_fonts.get(name)
    if fast is None:
        font = getFont(name)
        fast = _fast_fonts[name] = bool(font._dynamicFont) and not font.shapable
    return fast


_numbers: dict[float, str] = {}  # a table's column and row positions recur cell after cell


def _number(value: float) -> str:
    """`fp_str(value)`, remembered (`fp_str(x, y)` is `fp_str(x)`, a space, `fp_str(y)`)."""
    text = _numbers.get(value)
    if text is None:
        if len(_numbers) >= 4096:
            _numbers.clear()
        text = _numbers[value] = fp_str(value)
    return text


def _font_head(canvas: Any, font: Any, subset: int) -> str:
    """The `/F1+0 7.5 Tf 9.5 TL` that selects a subset at the canvas's size and leading,
    remembered per document (it names the subset as that document does)."""
    doc = canvas._doc
    heads: dict[tuple[str, int, float, float], str] | None = getattr(doc, "_signoff_heads", None)
    if heads is None:
        heads = {}
        doc._signoff_heads = heads
    key = (font.fontName, subset, canvas._fontsize, canvas._leading)
    head = heads.get(key)
    if head is None:
        size, leading = fp_str(key[2]), fp_str(key[3])
        head = heads[key] = f"{font.getSubsetInternalName(subset, doc)} {size} Tf {leading} TL"
    return head


def draw_line(canvas: Any, x: float, y: float, text: str) -> None:
    """`canvas.drawString(x, y, text)` for a canvas where `fast_drawing` holds."""
    font = getFont(canvas._fontname)
    parts = []
    current = -1
    for subset, chunk in _runs(font, text, canvas._doc):
        if subset != current:
            parts.append(_font_head(canvas, font, subset))
            current = subset
        parts.append(f"({canvas._escape(chunk)}) Tj")
    canvas._code.append(f"BT 1 0 0 1 {_number(x)} {_number(y)} Tm {' '.join(parts)} T* ET")


@functools.lru_cache(maxsize=8)
def _widest_ascii(font: str, size: float) -> float:
    return float(max(stringWidth(chr(code), font, size) for code in range(0x20, 0x7F)))


def ascii_fit(font: str, size: float, room: float) -> int:
    """The length up to which `fits` accepts any ASCII line without measuring it."""
    widest = _widest_ascii(font, size)
    length = 0
    while (length + 1) * widest < room - 1e-6:
        length += 1
    return length


def fits(line: str, font: str, size: float, room: float) -> bool:
    """`stringWidth(line, font, size) <= room`, without measuring a short ASCII line whose
    length times the widest ASCII glyph already fits (most cells of an event table)."""
    if line.isascii() and len(line) * _widest_ascii(font, size) < room - 1e-6:
        return True
    return bool(stringWidth(line, font, size) <= room)
