"""Text built from store data, never parsed as markup: a comment like "[/b]" shows as typed.

Textual reads a str given to a Static, and Rich a str given to a DataTable cell, as markup;
a stray tag in a request comment or a CSV column name would raise and end the console.
Control characters in store text (ESC, BEL) are shown as escapes, as the CLI shows them.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from console.freetext import shown

Part = str | tuple[str, str]  # plain text, or (text, style)


def plain(text: str) -> Text:
    """Store text as a Text: no markup, control characters escaped."""
    return Text(shown(text))


def line(*parts: Part) -> Text:
    """One line from plain and (text, style) parts."""
    return Text.assemble(
        *(shown(part) if isinstance(part, str) else (shown(part[0]), part[1]) for part in parts)
    )


def lines(items: Iterable[Text | str]) -> Text:
    """Lines joined with newlines; str items are plain text."""
    return Text("\n").join(plain(item) if isinstance(item, str) else item for item in items)


def plain_cells(*values: object) -> list[object]:
    """DataTable cells: str values as plain Text, anything else as given."""
    return [plain(value) if isinstance(value, str) else value for value in values]


class PlainTable(DataTable[object]):
    """A DataTable whose str cells are plain text (DataTable reads them as Rich markup), and
    whose columns, once widened to new rows, are drawn at their new widths."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Textual (8.2.8) measures new rows on the table's next idle, and keys its rendered
        # rows by `_update_count`, which that measuring leaves as it was: a frame drawn between
        # `add_row` and the idle kept the header's widths ("breas" for a model's name) until
        # something else changed the count. Moving the count on draws the rows again.
        super()._update_dimensions(new_rows)
        self._update_count += 1
        self.refresh()

    def measure_new_rows(self) -> None:
        """Measure the rows just added now, as the table would on its next idle: a handler
        that fills the table calls it last, so the next frame draws the rows once, at their
        widths, rather than once at the header's and again when the idle widens them."""
        if self._require_update_dimensions:
            self._require_update_dimensions = False
            new_rows = self._new_rows.copy()
            self._new_rows.clear()
            self._update_dimensions(new_rows)

    def add_row(
        self,
        *cells: object,
        height: int | None = 1,
        key: str | None = None,
        label: object = None,
    ) -> RowKey:
        return super().add_row(*plain_cells(*cells), height=height, key=key, label=label)  # type: ignore[arg-type]
