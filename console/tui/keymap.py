"""Every screen's keys in one list, for the help screen, the palette and the README key map."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from console.tui.screens.admin import AdminScreen
from console.tui.screens.audit import AuditScreen
from console.tui.screens.dashboard import DashboardScreen
from console.tui.screens.inbox import InboxScreen
from console.tui.screens.model_detail import ModelDetailScreen
from console.tui.screens.models import ModelsScreen
from console.tui.screens.monitoring import MonitoringScreen
from console.tui.screens.release import ReleaseScreen
from console.tui.screens.reports import ReportsScreen
from console.tui.screens.review import ReviewScreen
from console.tui.widgets.model_list import ModelList


def _app_bindings() -> list[BindingType]:
    from console.tui.app import SignoffApp

    return list(SignoffApp.BINDINGS)


def key_groups() -> list[tuple[str, list[BindingType]]]:
    """(title, bindings) for the app and each screen, in the order a user meets them."""
    return [
        ("Everywhere", _app_bindings()),
        ("Dashboard", list(DashboardScreen.BINDINGS)),
        ("Models", list(ModelsScreen.BINDINGS)),
        ("Model list", list(ModelList.BINDINGS)),
        ("Model detail", list(ModelDetailScreen.BINDINGS)),
        ("Approvals inbox", list(InboxScreen.BINDINGS)),
        ("Review", list(ReviewScreen.BINDINGS)),
        ("Release", list(ReleaseScreen.BINDINGS)),
        ("Audit log", list(AuditScreen.BINDINGS)),
        ("Reports", list(ReportsScreen.BINDINGS)),
        ("Users and policy", list(AdminScreen.BINDINGS)),
        ("Monitoring", list(MonitoringScreen.BINDINGS)),
    ]


def key_map() -> list[tuple[str, list[Binding]]]:
    """(screen title, its shown bindings) for the app and every screen, for help and the README."""
    return [
        (title, [b for b in bindings if isinstance(b, Binding) and b.show])
        for title, bindings in key_groups()
    ]
