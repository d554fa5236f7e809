"""The top line of every screen, as one widget (Textual's Header is four, with a clock timer)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget

ICON = "⭘"


class TitleBar(Widget):
    """The app's title and subtitle centred; the icon at the left opens the command palette."""

    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def render(self) -> Text:
        width = self.size.width
        title = self.app.format_title(self.app.title, self.app.sub_title).plain
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(f" {ICON} ".ljust(8))
        room = max(width - 2 * len(line), 0)
        line.append(title[:room].center(room))
        return line

    def on_click(self, event: events.Click) -> None:
        if event.x < 8 and self.app.ENABLE_COMMAND_PALETTE:
            event.stop()
            self.app.action_command_palette()
