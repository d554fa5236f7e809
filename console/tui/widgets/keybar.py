"""The footer as one widget: the keys that work here, redrawn (not re-mounted) as focus moves.

Textual's Footer mounts a widget per key and mounts them all again on every focus change;
with a dozen keys that was a third of a screen switch. This bar draws the same line itself.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    """One line at the bottom: each shown binding's key and description; click one to press it."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .keybar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .keybar--disabled {
        text-style: dim;
    }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--disabled"}

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh()

    def _shown(self) -> list[tuple[Binding, bool]]:
        """Shown bindings of the focused chain, one per action (as Textual's Footer picks)."""
        seen: set[str] = set()
        shown: list[tuple[Binding, bool]] = []
        palette = self.app.COMMAND_PALETTE_BINDING
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if not binding.show or binding.action in seen or key == palette:
                continue
            seen.add(binding.action)
            shown.append((binding, enabled))
        return shown

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        text_style = self.get_component_rich_style("keybar--description")
        dim = self.get_component_rich_style("keybar--disabled")
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        spans: list[tuple[int, int, str]] = []
        entries = [
            (b.key, self.app.get_key_display(b), b.description, ok) for b, ok in self._shown()
        ]
        palette = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        for key, display, description, enabled in entries:
            start = len(line)
            extra = Style() if enabled else dim
            line.append(f" {display} ", key_style + extra)
            line.append(f"{description} ", text_style + extra)
            spans.append((start, len(line), key))
        if palette is not None:
            # The palette key keeps its place at the right; the other keys give way to it.
            label = f" {self.app.get_key_display(Binding(palette, ''))} palette "
            room = max(self.size.width - len(label), 0)
            line.truncate(room, overflow="ellipsis", pad=True)
            spans = [(start, min(end, room), key) for start, end, key in spans if start < room]
            start = len(line)
            line.append(label, key_style)
            spans.append((start, len(line), palette))
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return
