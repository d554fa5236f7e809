"""Free text people type (comments, reasons, names): control characters refused, shown escaped.

A raw ESC or BEL in a comment reaches every terminal that shows it: it can hide the lines after
it (a failing gate) or retitle the window. Input is refused here, in the services; text stored
before this rule, or from file names, is escaped wherever it is shown.
"""

from __future__ import annotations

import unicodedata

# Bidirectional overrides reorder what a reader sees ("Trojan Source"); they are controls too.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\t")


def is_control(ch: str) -> bool:
    """C0, DEL, C1 (category Cc), line and paragraph separators, and bidirectional overrides."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS


def check_text(what: str, text: str, *, multiline: bool = False) -> str:
    """`text` unchanged, or BadInput naming the first control character (tab and newline are
    allowed in multi-line fields)."""
    from console.errors import BadInput

    for position, ch in enumerate(text, start=1):
        if is_control(ch) and not (multiline and ch in _LINE_BREAKS):
            raise BadInput(
                f"{what} contains the control character U+{ord(ch):04X} at position "
                f"{position}; use plain text"
                + ("" if multiline or ch not in _LINE_BREAKS else " on one line")
            )
    return text


def shown(text: str, *, keep_lines: bool = True) -> str:
    """Text from the store, safe for a terminal: every control character as a visible escape
    (`\\x1b`, `\\u202e`); newline and tab stay unless `keep_lines` is False."""
    if not any(is_control(ch) for ch in text):
        return text
    return "".join(
        ch if keep_lines and ch in _LINE_BREAKS else _escape(ch) if is_control(ch) else ch
        for ch in text
    )


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
