"""Text bars, sparklines and status marks for DataTable cells: plain Rich Text, no widgets."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

EIGHTHS = " ▏▎▍▌▋▊▉"
SPARKS = "▁▂▃▄▅▆▇█"
STATUS_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "info": "dim"}
STATUS_MARK = {"pass": "✓", "fail": "✗", "warn": "!", "info": "·"}


def status_text(status: str) -> Text:
    """`✓ pass`, `✗ fail`, `! warn`, `· info`, coloured."""
    return Text(f"{STATUS_MARK.get(status, ' ')} {status}", style=STATUS_STYLE.get(status, ""))


def bar(
    value: float,
    scale: float,
    width: int = 20,
    *,
    mark: float | None = None,
    style: str = "cyan",
) -> Text:
    """`value` out of `scale` as a bar `width` cells wide; `mark` (a threshold) is drawn as │."""
    share = 0.0 if scale <= 0 else min(max(value / scale, 0.0), 1.0)
    eighths = round(share * width * 8)
    cells = ["█"] * (eighths // 8)
    if eighths % 8 and len(cells) < width:
        cells.append(EIGHTHS[eighths % 8])
    cells += [" "] * (width - len(cells))
    text = Text("".join(cells), style=style)
    if mark is not None and scale > 0:
        at = min(max(round(mark / scale * width), 0), width - 1)
        text = text[:at] + Text("│", style="bold bright_white") + text[at + 1 :]
    return text


def sparkline(values: Sequence[float], top: float | None = None) -> str:
    """One character per value, scaled to `top` (default: the largest value)."""
    if not values:
        return ""
    high = top if top is not None else max(values)
    if high <= 0:
        return SPARKS[0] * len(values)
    steps = len(SPARKS) - 1
    return "".join(SPARKS[min(max(round(v / high * steps), 0), steps)] for v in values)


def share_bar(share: int, width: int = 20) -> Text:
    """A canary's traffic share: `██████              10%`."""
    text = bar(float(share), 100.0, width, style="magenta")
    return text + Text(f" {share:>3}%")
