"""Users, their roles and keys, and the policy in force: read-only here, changed via the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from console.identity.permissions import Permission, may
from console.identity.release_keys import list_release_keys
from console.identity.users import UserView, list_users
from console.release.policy import Policy, load_policy
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.text import PlainTable, line, lines
from console.tui.widgets.titlebar import TitleBar

CLI_NOTE = (
    "You are an admin. Users and the policy change only through the CLI, each change signed "
    "and logged: `signoff users add|revoke|set-role`, `signoff keys rotate`, "
    "`signoff policy set FILE`."
)
READ_ONLY_NOTE = "Read-only: who may act, with which key, and the policy every promotion meets."


@dataclass
class AdminLoaded(Message):
    users: list[UserView]
    policy: Policy
    policy_text: Text  # highlighted in the worker: lexing TOML on the UI thread stalled it
    release_keys: dict[str, str] = field(default_factory=dict)  # user -> current release keyid


def fingerprint(keyid: str | None, width: int = 16) -> str:
    return f"{keyid[:width]}…" if keyid else "-"


class AdminScreen(SignoffScreen):
    """Left: users; right: the policy text and its digest."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#admin-users"
    BINDINGS = [
        Binding("r", "reload", "Reload", id="admin.reload", tooltip="Read the store again"),
        Binding("t", "focus_policy", "Policy text", id="admin.policy", tooltip="Scroll the policy"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.users: list[UserView] = []
        self.release_keys: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static("", id="admin-note")
        with Horizontal(id="admin-panes"):
            with Vertical(id="admin-users-pane"):
                yield Static("Users", classes="pane-title")
                yield PlainTable(id="admin-users", cursor_type="row", zebra_stripes=True)
                yield Static("", id="admin-key", markup=False)
            with Vertical(id="admin-policy-pane"):
                yield Static("Policy in force", classes="pane-title")
                yield Static("", id="admin-digest", markup=False)
                yield Static("", id="admin-stages")
                with VerticalScroll(id="admin-policy-scroll"):
                    yield Static("", id="admin-policy")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#admin-users", DataTable).add_columns(
            "Name", "Role", "Status", "Gen", "Key fingerprint"
        )
        super().on_mount()

    def action_reload(self) -> None:
        self.reload()

    def action_focus_policy(self) -> None:
        self.query_one("#admin-policy-scroll", VerticalScroll).focus()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="admin")
    @reads_store
    def load(self) -> None:
        users, policy = list_users(self.store), load_policy(self.store)
        highlighted = Syntax(policy.text, "toml", background_color="default").highlight(policy.text)
        release = {k.user: k.keyid for k in list_release_keys(self.store) if k.current}
        if not get_current_worker().is_cancelled:  # a newer load replaced this one
            self.post_message(AdminLoaded(users, policy, highlighted, release))

    @on(AdminLoaded)
    def show(self, data: AdminLoaded) -> None:
        self.users = data.users
        self.release_keys = data.release_keys
        me = next((u for u in data.users if u.name == self.signoff.user), None)
        admin = me is not None and may(me.role, Permission.MANAGE_USERS) and me.active
        note = self.query_one("#admin-note", Static)
        note.update(CLI_NOTE if admin else READ_ONLY_NOTE)
        note.set_class(admin, "-admin")
        table = self.query_one("#admin-users", DataTable)
        row = table.cursor_row
        table.clear()
        for user in data.users:
            status = (
                Text("active", "green")
                if user.active
                else Text(f"revoked at {user.revoked_seq}", "red")
            )
            table.add_row(
                user.name,
                user.role,
                status,
                str(user.generation),
                fingerprint(user.keyid),
                key=user.name,
            )
        if data.users:
            table.move_cursor(row=min(max(row, 0), len(data.users) - 1))
        policy = data.policy
        self.query_one("#admin-digest", Static).update(
            f"sha256 {policy.digest} (as recorded in the log)"
        )
        stages = [
            line(
                (f"{s.name} · tier {s.tier}" if s.tier else s.name, "bold"),
                (
                    f": {s.quorum_text}"
                    if s.role_quorum
                    else f": {s.approvals} of {', '.join(s.approver_roles)}"
                )
                + ("; independent validation" if s.independent_validation else "")
                + (f"; gates {', '.join(s.gates)}" if s.gates else "")
                + (
                    f"; canary {'→'.join(str(c) for c in s.canary_steps)}%"
                    if s.canary_steps
                    else ""
                ),
            )
            for s in (*policy.stages, *policy.tier_stages)
        ]
        stages.append(line(("break-glass", "bold"), f": {', '.join(policy.break_glass_roles)}"))
        self.query_one("#admin-stages", Static).update(lines(stages))
        self.query_one("#admin-policy", Static).update(data.policy_text)

    @on(DataTable.RowHighlighted, "#admin-users")
    def user_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.users):
            user = self.users[event.cursor_row]
            release = self.release_keys.get(user.name)
            self.query_one("#admin-key", Static).update(
                f"{user.name}: key {user.keyid or 'none'} · added at event {user.added_seq}"
                + (f" · identity {user.generation} of this name" if user.generation > 1 else "")
                + (f" · release key (OpenSSF Model Signing) {release}" if release else "")
            )
