"""The console's App: wires screens to a store; every rule lives in the services it calls."""

from __future__ import annotations

from textual.app import App

from console.store.db import Store
from console.tui.models_screen import ModelsScreen


class SignoffApp(App[None]):
    """signoff's terminal console."""

    CSS_PATH = "app.tcss"
    TITLE = "signoff"

    def __init__(self, store: Store, user: str | None = None) -> None:
        super().__init__()
        self.store = store
        self.user = user
        self.sub_title = f"{store.home.name}" + (f" · {user}" if user else "")

    def on_mount(self) -> None:
        self.push_screen(ModelsScreen(self.store))


def make_app(store: Store, *, user: str | None = None) -> SignoffApp:
    """The app factory the CLI and the tests share."""
    return SignoffApp(store, user=user)
