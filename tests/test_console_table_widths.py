"""A table drawn between adding rows and measuring them still shows the rows at full width.

The team test caught the models screen showing "breas" for breast-cancer-classifier on one run
in several: Textual drew the table while its columns still had the header's widths, and kept
that drawing after widening them.
"""

from __future__ import annotations

import re

from textual.app import App, ComposeResult

from console.tui.settling import settled
from console.tui.widgets.text import PlainTable


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield PlainTable(id="table")

    def on_mount(self) -> None:
        self.query_one(PlainTable).add_columns("Model", "Risk")


def shown(app: App[None]) -> str:
    svg = app.export_screenshot()
    words = re.findall(r">([^<>]+)</text>", svg)
    return re.sub(r"\s+", " ", " ".join(w.replace("&#160;", " ") for w in words))


async def test_rows_drawn_before_their_columns_were_measured_are_drawn_again() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 10)):
        await settled(app)
        table = app.query_one(PlainTable)
        table.add_row("breast-cancer-classifier", "high")
        for y in range(3):
            table.render_line(y)  # a frame drawn before the table's next idle measures the row
        await settled(app)
        assert "breast-cancer-classifier high" in shown(app)
        assert "breas " not in shown(app)


async def test_a_table_filled_again_keeps_its_rows_whole() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 10)):
        table = app.query_one(PlainTable)
        for name in ("credit-risk", "breast-cancer-classifier"):
            table.clear()
            table.add_row(name, "high")
            table.render_line(1)
            await settled(app)
            assert f"{name} high" in shown(app)
