"""The console's screens in one list, for the help screen, the palette and the README key map."""

from __future__ import annotations

from textual.binding import BindingType

from console.tui.admin_screen import AdminScreen
from console.tui.audit_screen import AuditScreen
from console.tui.dashboard_screen import DashboardScreen
from console.tui.inbox_screen import InboxScreen
from console.tui.model_detail_screen import ModelDetailScreen
from console.tui.model_list import ModelList
from console.tui.models_screen import ModelsScreen
from console.tui.monitoring_screen import MonitoringScreen
from console.tui.release_screen import ReleaseScreen
from console.tui.reports_screen import ReportsScreen
from console.tui.review_screen import ReviewScreen


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
