"""The help screen (`?`): every screen's keys, read from the bindings themselves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def key_map() -> list[tuple[str, list[Binding]]]:
    """(screen title, its bindings) for the app and every screen, for help and the README."""
    from console.tui.screens import key_groups

    return [
        (title, [b for b in bindings if isinstance(b, Binding) and b.show])
        for title, bindings in key_groups()
    ]


class HelpScreen(ModalScreen[None]):
    """Keys per screen; ctrl+p opens the command palette with every action."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("question_mark", "dismiss", "Close", id="help.close2", show=False),
    ]

    def compose(self) -> ComposeResult:
        lines = ["[b]signoff console[/b] — keyboard first; the mouse works too.", ""]
        lines.append("ctrl+p  command palette: every screen and action, fuzzy-searched")
        for title, bindings in key_map():
            lines.append("")
            lines.append(f"[b]{title}[/b]")
            for binding in bindings:
                key = binding.key.replace("question_mark", "?").replace("slash", "/")
                lines.append(f"  {key:<8} {binding.description}: {binding.tooltip}")
        with VerticalScroll(classes="dialog help"):
            yield Static("\n".join(lines))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
