"""The plain blocks a model card is built of, so that each renderer lays out the same things."""

from __future__ import annotations

from dataclasses import dataclass

Row = list[object]


@dataclass(frozen=True)
class Paragraph:
    """Text signoff writes (`code` and **bold** marks allowed)."""

    text: str


@dataclass(frozen=True)
class Prose:
    """Text a person wrote in a card field; None while nobody has."""

    text: str | None


@dataclass(frozen=True)
class Facts:
    """Labelled values: a Field/Value table."""

    rows: list[Row]


@dataclass(frozen=True)
class Table:
    """A table with a header row; `widths` are each column's share of the page (PDF)."""

    headers: list[str]
    rows: list[Row]
    widths: list[float]


@dataclass(frozen=True)
class Bullets:
    items: list[str]


Block = Paragraph | Prose | Facts | Table | Bullets


@dataclass(frozen=True)
class Subsection:
    title: str
    blocks: list[Block]


@dataclass(frozen=True)
class Section:
    title: str
    blocks: list[Block | Subsection]


@dataclass(frozen=True)
class CardOutline:
    """The whole card: its title, description, summary facts and sections."""

    title: str
    description: str
    summary: list[tuple[str, str]]
    sections: list[Section]
