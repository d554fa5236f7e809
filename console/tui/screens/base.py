"""What every console screen shares: the app's store and identity, and reloads on change."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar, cast

from textual.dom import DOMNode
from textual.events import ScreenResume
from textual.screen import Screen
from textual.worker import Worker

from console.tui.messages import ActionDone, StoreChanged
from console.tui.settling import Debounce, settled

if TYPE_CHECKING:
    from console.store.db import Store
    from console.tui.app import SignoffApp

Node = TypeVar("Node", bound=DOMNode)
P = ParamSpec("P")
R = TypeVar("R")


def reads_store(method: Callable[Concatenate[Node, P], R]) -> Callable[Concatenate[Node, P], R]:
    """A loader whose reads share one store connection (under `@work(thread=True)`)."""

    @functools.wraps(method)
    def load(node: Node, /, *args: P.args, **kwargs: P.kwargs) -> R:
        app = cast("SignoffApp", node.app)
        with app.store.reading():
            result = method(node, *args, **kwargs)
        app.freeze_after_first(method.__qualname__)
        return result

    return load


class SignoffScreen(Screen[None]):
    """A screen that (re)loads its data from the services in a worker."""

    def __init__(self) -> None:
        super().__init__()
        # Its widgets are styled as they mount, against the stylesheet of this epoch.
        self._styled_in: tuple[int, bool] | None = None
        with contextlib.suppress(RuntimeError):  # made outside an app: restyled on resume
            self._styled_in = self.signoff.style_epoch
        self._load_asked = asyncio.Event()  # set by the first `reload`, after the first frame
        self._load_planned = False  # `on_mount` asked for the first load
        self._debounced: list[Debounce] = []

    @property
    def signoff(self) -> SignoffApp:
        return cast("SignoffApp", self.app)

    @property
    def store(self) -> Store:
        return self.signoff.store

    def reader(self, query: Callable[Concatenate[Store, P], R]) -> Callable[P, R]:
        """`query` on the app's store, its reads sharing one connection: the loader a widget
        of this screen calls from its worker (the store opens on first use, not here)."""

        def read(*args: P.args, **kwargs: P.kwargs) -> R:
            store = self.store
            with store.reading():
                result = query(store, *args, **kwargs)
            self.signoff.freeze_after_first(query.__qualname__)
            return result

        return read

    def on_mount(self) -> None:
        # Paint first, then read: the store is read in a worker after the first frame. Textual
        # calls every class's `on_mount` along the MRO, and the screens' own call this one as
        # well: the first load is asked for once (twice, work the screen did in between let
        # the first worker start, a whole read for nothing).
        if not self._load_planned:
            self._load_planned = True
            self.call_after_refresh(self.reload)

    def on_screen_resume(self, event: ScreenResume) -> None:
        # Textual restyles the whole screen on every resume (twice on a mode's first visit),
        # and a restyle drops every DataTable's rendered cells: 40-60 ms of the UI thread on
        # a switch. Only a stylesheet changed since the screen was styled needs it.
        epoch = self.signoff.style_epoch
        if epoch == self._styled_in:
            event.refresh_styles = False
        self._styled_in = epoch
        # The first load is on_mount's; after that, read again only if the log grew meanwhile.
        loaded_at = getattr(self, "_loaded_at", None)
        if loaded_at is not None and self.signoff.log_size != loaded_at:
            self.reload()

    def on_store_changed(self, message: StoreChanged) -> None:
        self.reload()

    def on_action_done(self, done: ActionDone) -> None:
        """Every signed action reports back here: a notification, the screen's own display of
        the result, and a reload; the app learns the log's new size without waiting to poll."""
        self.notify(done.summary)
        self.show_done(done)
        if done.event_seq is not None:
            self.signoff.log_grew(done.event_seq + 1)
        self.reload()

    def show_done(self, done: ActionDone) -> None:
        """Show an action's result beyond the notification; screens with more to show override."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """StateChanged does not bubble: hand this screen's worker failures to the app."""
        event.prevent_default()
        self.signoff.on_worker_state_changed(event)

    def reload(self) -> None:
        """Start loading this screen's data (a thread worker); subclasses override."""
        self._loaded_at = self.signoff.log_size
        self._load_asked.set()

    def debounce(self, delay: float, callback: Callable[[], object]) -> Debounce:
        """`callback` after `delay` seconds of quiet (a filter's typing), known to `settled`."""
        debounce = Debounce(self, delay, callback)
        self._debounced.append(debounce)
        return debounce

    def pending_work(self) -> list[asyncio.Event]:
        """Work the screen has still to start (`settled`): its first load, a debounced one."""
        pending = [] if self._load_asked.is_set() else [self._load_asked]
        for debounce in self._debounced:
            pending.extend(debounce.pending_work())
        return pending

    async def settled(self) -> None:
        """Return once this screen shows its data: its loads asked for and finished, what they
        posted handled and drawn (`console.tui.settling`). For tests and benchmarks, which wait
        on the app rather than on the clock."""
        await settled(self.app)
