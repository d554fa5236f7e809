"""The help screen (`?`): every screen's keys, read from the bindings themselves."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """Keys per screen; ctrl+p opens the command palette with every action."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("question_mark", "dismiss", "Close", id="help.close2", show=False),
    ]

    def compose(self) -> ComposeResult:
        from console.tui.keymap import key_map  # every screen's module: only when help opens

        # Plain Text, not markup: keys such as `[` would read as tags.
        text = Text()
        text.append("signoff console", "bold")
        text.append(" — keyboard first; the mouse works too.\n\n")
        text.append("ctrl+p  command palette: every screen and action, fuzzy-searched\n")
        for title, bindings in key_map():
            text.append(f"\n{title}\n", "bold")
            for binding in bindings:
                key = self.app.get_key_display(binding)
                text.append(f"  {key:<8} {binding.description}: {binding.tooltip}\n")
        text.rstrip()
        with VerticalScroll(classes="dialog help"):
            yield Static(text)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
