"""The console's modes, keys and palette entries: where each key and command takes a person."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from console.tui.commands import SignoffCommands
from console.tui.screens.dashboard import DashboardScreen

if TYPE_CHECKING:
    from console.tui.release_data import ReleaseCommand

FIRST_MODE = "dashboard"  # the first frame's screen: it needs app.tcss only


def _screen(module: str, name: str) -> Callable[[], Screen[None]]:
    """A mode's screen, its module imported on the first visit."""

    def make() -> Screen[None]:
        screen: Screen[None] = getattr(importlib.import_module(module), name)()
        return screen

    return make


class Navigation(App[None]):
    """Modes, their keys and the palette's entries; `SignoffApp` builds on it."""

    COMMANDS = App.COMMANDS | {SignoffCommands}
    MODES = {
        FIRST_MODE: DashboardScreen,
        "models": _screen("console.tui.screens.models", "ModelsScreen"),
        "inbox": _screen("console.tui.screens.inbox", "InboxScreen"),
        "audit": _screen("console.tui.screens.audit", "AuditScreen"),
        "reports": _screen("console.tui.screens.reports", "ReportsScreen"),
        "release": _screen("console.tui.screens.release", "ReleaseScreen"),
        "admin": _screen("console.tui.screens.admin", "AdminScreen"),
        "monitoring": _screen("console.tui.screens.monitoring", "MonitoringScreen"),
    }
    BINDINGS = [
        Binding(
            "d", "switch_mode('dashboard')", "Dashboard", id="nav.dashboard", tooltip="Overview"
        ),
        Binding("m", "switch_mode('models')", "Models", id="nav.models", tooltip="Registry"),
        Binding("i", "switch_mode('inbox')", "Inbox", id="nav.inbox", tooltip="Approvals"),
        Binding("a", "switch_mode('audit')", "Audit", id="nav.audit", tooltip="The signed log"),
        Binding(
            "e",
            "switch_mode('reports')",
            "Reports",
            id="nav.reports",
            tooltip="PDF compliance reports",
        ),
        Binding("l", "switch_mode('release')", "Release", id="nav.release", tooltip="Stages"),
        Binding("u", "switch_mode('admin')", "Admin", id="nav.admin", tooltip="Users, policy"),
        Binding(
            "o",
            "switch_mode('monitoring')",
            "Monitor",
            id="nav.monitoring",
            tooltip="Drift, alerts",
        ),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Keys and screens"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave signoff"),
    ]

    if TYPE_CHECKING:  # the app's, which the palette and navigation use
        release_commands: list[ReleaseCommand]

        def add_screen_styles(self) -> None: ...

    # ---- command palette -----------------------------------------------------------------

    def extra_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """Palette entries beyond navigation: audit actions, ready requests, rollbacks."""
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Audit log", "Page, filter and verify the log", partial(self.switch_mode, "audit")),
            (
                "Compliance report",
                "PDF of a version or of every model",
                partial(self.switch_mode, "reports"),
            ),
            ("Release", "Stages, canaries, ready requests", partial(self.switch_mode, "release")),
            ("Users and policy", "Read-only admin view", partial(self.switch_mode, "admin")),
            ("Monitoring", "Drift, alerts, retraining", partial(self.switch_mode, "monitoring")),
            (
                "Verify audit log",
                "Every hash, link and signature",
                partial(self._in_mode, "audit", "action_verify"),
            ),
            (
                "Write checkpoint",
                "Sign the log's size and root",
                partial(self._in_mode, "audit", "action_checkpoint"),
            ),
        ]
        for command in self.release_commands:
            run = partial(self._in_mode, "release", "run_command", command)
            commands.append((command.name, command.help, run))
        return commands

    async def _in_mode(self, mode: str, method: str, *args: object) -> None:
        await self.switch_mode(mode)
        getattr(self.screen, method)(*args)

    # ---- navigation ----------------------------------------------------------------------

    def action_help(self) -> None:
        from console.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def open_review(self, request_id: int) -> None:
        from console.tui.screens.review import ReviewScreen

        self.add_screen_styles()
        self.push_screen(ReviewScreen(request_id))

    async def open_model(self, name: str) -> None:
        from console.tui.screens.models import ModelsScreen

        await self.switch_mode("models")  # composed before it is told what to show
        screen = self.screen
        if isinstance(screen, ModelsScreen):
            screen.focus_model(name)
