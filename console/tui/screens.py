"""The console's screens in one list, for the help screen, the palette and the README key map."""

from __future__ import annotations

from textual.app import App

from console.tui.admin_screen import AdminScreen
from console.tui.audit_screen import AuditScreen
from console.tui.dashboard_screen import DashboardScreen
from console.tui.inbox_screen import InboxScreen
from console.tui.model_detail_screen import ModelDetailScreen
from console.tui.models_screen import ModelsScreen
from console.tui.release_screen import ReleaseScreen
from console.tui.review_screen import ReviewScreen


def _app_bindings() -> type[App[None]]:
    from console.tui.app import SignoffApp

    return SignoffApp


class _Everywhere:
    """Stands in for the app in the key map."""

    @property
    def BINDINGS(self) -> list[object]:
        return list(_app_bindings().BINDINGS)


ALL: list[tuple[str, object]] = [
    ("Everywhere", _Everywhere()),
    ("Dashboard", DashboardScreen),
    ("Models", ModelsScreen),
    ("Model detail", ModelDetailScreen),
    ("Approvals inbox", InboxScreen),
    ("Review", ReviewScreen),
    ("Release", ReleaseScreen),
    ("Audit log", AuditScreen),
    ("Users and policy", AdminScreen),
]
