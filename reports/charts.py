"""Charts of validation runs and of production monitoring, drawn with reportlab.graphics (vector).

- `metrics_chart`: each performance metric as a bar coloured by its check's status, its 95%
  interval as a whisker, and its threshold as a red mark;
- `psi_chart`: the population stability index of each feature, with the policy's failure
  line and the conventional 0.1 "watch" line;
- `group_chart`: per-group rates (selection rate, true-positive rate) side by side;
- `window_chart`: a production statistic (PSI, KS) per feature over monitoring windows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.charts.areas import PlotArea
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Circle, Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.colors import Color

from reports.pdf_styles import FAIL, INFO, INK, MUTED, PASS, RULE, WARN
from reports.pdf_text import SANS, register_fonts

ROW = 17.0  # height of one bar's slot, in points
LABEL_WIDTH = 120.0
PLOT_HEIGHT = 150.0  # of the grouped-bar and line charts, in points
SERIES = (colors.HexColor("#486581"), colors.HexColor("#9fb3c8"), colors.HexColor("#d9a441"))


@dataclass(frozen=True)
class MetricBar:
    name: str
    value: float
    lower: float | None
    upper: float | None
    threshold: float | None
    rule: str | None  # ">=" or "<=": how the value must compare with the threshold
    status: str


def _tone(status: str) -> Color:
    return {"pass": PASS, "fail": FAIL, "warn": WARN}.get(status, INFO)


def _label(drawing: Drawing, x: float, y: float, text: str, **style: object) -> None:
    drawing.add(String(x, y, text, fontName=SANS, fontSize=7, fillColor=MUTED, **style))


def _style_axes(chart: PlotArea, category_font_size: float) -> None:
    """The house style of both axes: category labels in ink, value labels muted over a grid."""
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = category_font_size
    chart.categoryAxis.labels.fillColor = INK
    chart.categoryAxis.strokeColor = RULE
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labels.fillColor = MUTED
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = colors.HexColor("#e4e7eb")
    chart.valueAxis.gridStrokeWidth = 0.4


def _framed(chart: PlotArea, width: float, *, left: float, bottom: float) -> Drawing:
    """A drawing holding a plot of fixed height, `left` and `bottom` clear for labels, legend right."""
    register_fonts()
    drawing = Drawing(width, PLOT_HEIGHT + bottom + 10)
    chart.x = left
    chart.y = bottom
    chart.width = width - 170
    chart.height = PLOT_HEIGHT
    return drawing


def _legend(
    drawing: Drawing,
    chart: PlotArea,
    pairs: list[tuple[Color, str]],
    *,
    gap: float,
    font_size: float,
    spacing: float,
    deltay: float,
) -> Legend:
    """A legend right of the plot, its top level with the plot's, one swatch per series."""
    legend = Legend()
    legend.x = chart.x + chart.width + gap
    legend.y = chart.y + chart.height
    legend.fontName = SANS
    legend.fontSize = font_size
    legend.fillColor = INK
    legend.alignment = "right"
    legend.boxAnchor = "nw"
    legend.dx = legend.dy = spacing
    legend.deltay = deltay
    legend.strokeColor = None
    legend.colorNamePairs = pairs
    drawing.add(legend)
    return legend


def _horizontal(
    width: float, names: Sequence[str], top: float, bottom: float
) -> tuple[Drawing, HorizontalBarChart]:
    register_fonts()
    height = ROW * len(names)
    drawing = Drawing(width, height + top + bottom)
    chart = HorizontalBarChart()
    chart.x = LABEL_WIDTH
    chart.y = bottom
    chart.width = width - LABEL_WIDTH - 50
    chart.height = height
    chart.categoryAxis.categoryNames = list(names)
    chart.categoryAxis.reverseDirection = 1
    chart.categoryAxis.tickLeft = 0
    _style_axes(chart, 7.5)
    chart.barWidth = ROW * 0.55
    chart.groupSpacing = ROW * 0.45
    chart.bars.strokeColor = None
    return drawing, chart


def _values(drawing: Drawing, chart: HorizontalBarChart, values: Sequence[float]) -> None:
    """Each bar's value in a column right of the plot, clear of whiskers and marks."""
    for i, value in enumerate(values):
        drawing.add(
            String(
                chart.x + chart.width + 8,
                _y(chart, i) - 2.5,
                f"{value:.3f}",
                fontName=SANS,
                fontSize=7,
                fillColor=INK,
            )
        )


def _x(chart: HorizontalBarChart, value: float) -> float:
    low, high = chart.valueAxis.valueMin, chart.valueAxis.valueMax
    return float(chart.x + (min(max(value, low), high) - low) / (high - low) * chart.width)


def _y(chart: HorizontalBarChart, index: int) -> float:
    """The centre of the slot of the index-th category (the first is at the top)."""
    slot = chart.height / len(chart.categoryAxis.categoryNames)
    return float(chart.y + chart.height - (index + 0.5) * slot)


def metrics_chart(bars: Sequence[MetricBar], width: float) -> Drawing:
    """Metrics on a 0..1 scale; bars coloured by status, intervals and thresholds marked."""
    drawing, chart = _horizontal(width, [b.name for b in bars], top=8, bottom=30)
    chart.data = [[b.value for b in bars]]
    chart.valueAxis.valueMin = 0.0
    chart.valueAxis.valueMax = 1.0
    chart.valueAxis.valueStep = 0.1
    chart.valueAxis.labelTextFormat = "%.1f"
    for i, bar in enumerate(bars):
        chart.bars[(0, i)].fillColor = _tone(bar.status)
    drawing.add(chart)
    half = chart.barWidth / 2
    for i, bar in enumerate(bars):
        y = _y(chart, i)
        if bar.lower is not None and bar.upper is not None:
            left, right = _x(chart, bar.lower), _x(chart, bar.upper)
            drawing.add(Line(left, y, right, y, strokeColor=INK, strokeWidth=0.8))
            for end in (left, right):
                drawing.add(Line(end, y - 2.5, end, y + 2.5, strokeColor=INK, strokeWidth=0.8))
        if bar.threshold is not None and 0.0 <= bar.threshold <= 1.0:
            x = _x(chart, bar.threshold)
            drawing.add(Line(x, y - half - 2, x, y + half + 2, strokeColor=FAIL, strokeWidth=1.6))
    _values(drawing, chart, [b.value for b in bars])
    _label(drawing, chart.x, 2, "bar: value (colour: check status)    whisker: 95% interval")
    _label(drawing, chart.x + chart.width, 2, "red mark: threshold", textAnchor="end")
    return drawing


def psi_chart(
    features: Sequence[tuple[str, float, str]], threshold: float | None, width: float
) -> Drawing:
    """PSI per feature (name, value, status) against the failure threshold and 0.1."""
    drawing, chart = _horizontal(width, [f[0] for f in features], top=8, bottom=30)
    chart.data = [[f[1] for f in features]]
    highest = max([f[1] for f in features] + [threshold or 0.0, 0.1])
    top = max(0.3, highest * 1.15)
    step = 0.05 if top <= 0.5 else 0.1 if top <= 1.0 else max(0.1, round(top / 8, 1))
    chart.valueAxis.valueMin = 0.0
    chart.valueAxis.valueMax = math.ceil(top / step - 1e-9) * step + 1e-9
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = "%.2f"
    for i, feature in enumerate(features):
        chart.bars[(0, i)].fillColor = _tone(feature[2])
    drawing.add(chart)
    bottom, ceiling = chart.y, chart.y + chart.height
    watch = _x(chart, 0.1)
    drawing.add(
        Line(
            watch, bottom, watch, ceiling, strokeColor=WARN, strokeWidth=0.8, strokeDashArray=[2, 2]
        )
    )
    if threshold is not None:
        x = _x(chart, threshold)
        drawing.add(
            Line(x, bottom, x, ceiling, strokeColor=FAIL, strokeWidth=1.2, strokeDashArray=[4, 2])
        )
        _label(
            drawing, chart.x + chart.width, 2, f"red: fails above {threshold:g}", textAnchor="end"
        )
    _values(drawing, chart, [f[1] for f in features])
    _label(drawing, chart.x, 2, "amber: 0.1, a shift worth watching")
    return drawing


def group_chart(
    groups: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], width: float
) -> Drawing:
    """Grouped bars: one cluster per group, one bar per rate, on a 0..1 scale."""
    chart = VerticalBarChart()
    drawing = _framed(chart, width, left=45, bottom=30)
    chart.data = [[v if v is not None else 0.0 for v in values] for _, values in series]
    chart.categoryAxis.categoryNames = list(groups)
    _style_axes(chart, 8)
    chart.valueAxis.valueMin = 0.0
    chart.valueAxis.valueMax = 1.0
    chart.valueAxis.valueStep = 0.2
    chart.valueAxis.labelTextFormat = "%.1f"
    chart.bars.strokeColor = None
    chart.barSpacing = 2
    chart.groupSpacing = 18
    chart.barLabelFormat = "%.3f"
    chart.barLabels.fontName = SANS
    chart.barLabels.fontSize = 6.5
    chart.barLabels.fillColor = INK
    chart.barLabels.nudge = 6
    for i in range(len(series)):
        chart.bars[i].fillColor = SERIES[i % len(SERIES)]
    drawing.add(chart)
    pairs = [(SERIES[i % len(SERIES)], name) for i, (name, _) in enumerate(series)]
    _legend(drawing, chart, pairs, gap=18, font_size=7.5, spacing=7, deltay=12)
    return drawing


PALETTE = (
    "#486581",
    "#d9a441",
    "#2f7d32",
    "#8e44ad",
    "#0b7285",
    "#c2410c",
    "#9fb3c8",
    "#5c940d",
    "#a61e4d",
    "#1f2933",
)


def window_chart(
    windows: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], Sequence[bool]]],
    threshold: float | None,
    what: str,
    width: float,
) -> Drawing:
    """One statistic (PSI or KS) per feature over the monitoring windows, one line per feature.

    `series` holds (feature, value per window, alerted per window); an alerted point is ringed
    in red, and the policy's threshold is a dashed red line.
    """
    chart = HorizontalLineChart()
    drawing = _framed(chart, width, left=40, bottom=52)
    chart.data = [[v if v is not None else None for v in values] for _, values, _ in series]
    chart.categoryAxis.categoryNames = list(windows)
    _style_axes(chart, 6.5)
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    measured = [v for _, vs, _ in series for v in vs if v is not None]
    top = max([*measured, threshold or 0.0, 0.05]) * 1.1
    chart.valueAxis.valueMin = 0.0
    chart.valueAxis.valueMax = top
    tones = [colors.HexColor(PALETTE[i % len(PALETTE)]) for i in range(len(series))]
    for i, tone in enumerate(tones):
        chart.lines[i].strokeColor = tone
        chart.lines[i].strokeWidth = 1.2
    drawing.add(chart)
    span = chart.width / max(len(windows), 1)
    for values, alerted in ((vs, al) for _, vs, al in series):
        for j, (value, alert) in enumerate(zip(values, alerted, strict=True)):
            if alert and value is not None:
                x = chart.x + (j + 0.5) * span
                y = chart.y + min(value, top) / top * chart.height
                drawing.add(Circle(x, y, 2.6, strokeColor=FAIL, fillColor=None, strokeWidth=1))
    if threshold is not None and threshold <= top:
        y = chart.y + threshold / top * chart.height
        drawing.add(
            Line(
                chart.x,
                y,
                chart.x + chart.width,
                y,
                strokeColor=FAIL,
                strokeWidth=1,
                strokeDashArray=[4, 2],
            )
        )
    pairs = [(tones[i], name) for i, (name, _, _) in enumerate(series)]
    legend = _legend(drawing, chart, pairs, gap=14, font_size=7, spacing=6, deltay=10)
    legend.columnMaximum = len(series)  # one column, beside the plot
    limit = f"dashed red: fails above {threshold:g}; " if threshold is not None else ""
    _label(drawing, chart.x, 2, f"{what} per window; {limit}red ring: an alert was opened")
    return drawing
