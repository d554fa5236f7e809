"""The report fonts and the text they can draw: a character no shipped font has is printed as
its escape, never as "?".

Text is set in DejaVu Sans and digests, keys and signed notes in DejaVu Sans Mono (shipped in
`reports/fonts/` under their free licence, embedded as subsets), so Cyrillic, Greek and Latin
beyond Latin-1 print as written.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from console.freetext import shown

SANS = "SignoffReport"
MONO = "SignoffMono"
FONTS = Path(__file__).parent / "fonts"

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


def draws_printable_ascii(*, mono: bool) -> bool:
    """Whether the face draws every printable ASCII character as it is (`drawable` and
    `mono_text` then return such a text unchanged)."""
    sans = register_fonts()
    return _draws_ascii(_glyphs["mono"] if mono else sans)


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
