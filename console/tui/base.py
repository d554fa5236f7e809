"""What every console screen shares: the app's store and identity, and reloads on change."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen
from textual.worker import Worker

from console.tui.messages import StoreChanged

if TYPE_CHECKING:
    from console.store.db import Store
    from console.tui.app import SignoffApp


class SignoffScreen(Screen[None]):
    """A screen that (re)loads its data from the services in a worker."""

    @property
    def signoff(self) -> SignoffApp:
        return cast("SignoffApp", self.app)

    @property
    def store(self) -> Store:
        return self.signoff.store

    def on_mount(self) -> None:
        # Paint first, then read: the store is read in a worker after the first frame.
        self.call_after_refresh(self.reload)

    def on_screen_resume(self) -> None:
        if self.signoff.log_size != getattr(self, "_loaded_at", None):
            self.reload()

    def on_store_changed(self, message: StoreChanged) -> None:
        self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """StateChanged does not bubble: hand this screen's worker failures to the app."""
        event.prevent_default()
        self.signoff.on_worker_state_changed(event)

    def reload(self) -> None:
        """Start loading this screen's data (a thread worker); subclasses override."""
        self._loaded_at = self.signoff.log_size
