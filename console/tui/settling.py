"""When the console has settled: waiting on its own work (workers, messages, a refresh), not time.

Tests and benchmarks ask "does the screen show its data yet?". Sleeping and polling answers it
by the clock, and a loaded machine breaks the answer. Here the app is asked instead: a round
waits for every worker of the session (the store watcher aside: it runs as long as the app),
then for every message queued to the app and the current screen's widgets to be handled, then
for the screen to be refreshed. The console has settled when a round starts and ends with
nothing to wait on: no worker running, no message queued, the same screen, and no node of the
screen with work of its own still to start (its first load, a filter's pending query).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from textual.app import App
from textual.dom import DOMNode
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerError

LONG_RUNNING = frozenset({"watch"})  # worker groups that end with the app, never before
MAX_ROUNDS = 200  # a console still busy after this many rounds is a bug, reported as one
# A widget removed before it handled our marker never answers: after this long, the round
# ends anyway (and the next one checks everything again). Not a timing assumption of a test.
MARKER_PATIENCE = 5.0


@runtime_checkable
class HasPendingWork(Protocol):
    """A node that knows of work of its own not started yet (a debounce, a first load)."""

    def pending_work(self) -> list[asyncio.Event]:
        """Events set once that work has started; empty when there is none."""
        ...


class Debounce:
    """`callback` once `delay` seconds pass without another `restart` (a filter's typing);
    while it waits, settling waits for it."""

    def __init__(self, node: MessagePump, delay: float, callback: Callable[[], object]) -> None:
        self._node, self._delay, self._callback = node, delay, callback
        self._timer: Timer | None = None
        self._ran = asyncio.Event()

    def restart(self) -> None:
        self.cancel()
        self._ran.clear()
        self._timer = self._node.set_timer(self._delay, self._fire)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._ran.set()

    def _fire(self) -> None:
        self._timer = None
        self._ran.set()
        self._callback()

    def pending_work(self) -> list[asyncio.Event]:
        return [self._ran] if self._timer is not None else []


class NeverSettled(AssertionError):
    """The console kept starting work: a loop of loads, not a slow machine."""


def _running(app: App[Any]) -> list[Worker[Any]]:
    return [w for w in app.workers if w.group not in LONG_RUNNING and not w.is_finished]


def _nodes(app: App[Any], screen: Screen[Any]) -> list[DOMNode]:
    return [app, *screen.walk_children(with_self=True)]


# Textual's own refresh still to happen, which no public API reports: a widget's pending
# layout or repaint, a DataTable's column widths measured on its next idle, a screen's dirty
# widgets and after-refresh callbacks. Without them a screen could settle a frame early, its
# columns not yet widened to the data just added (what the team test once caught).
REFRESH_FLAGS = (
    "_layout_required",
    "_repaint_required",
    "_scroll_required",
    "_recompose_required",
    "_require_update_dimensions",
    "_updated_cells",
    "_dirty_widgets",
    "_callbacks",
)


def _refreshing(node: DOMNode) -> bool:
    return any(getattr(node, flag, False) for flag in REFRESH_FLAGS)


def _quiet(app: App[Any], screen: Screen[Any]) -> bool:
    if app.screen is not screen or _running(app):
        return False
    for node in _nodes(app, screen):
        if node.message_queue_size or (node is not app and _refreshing(node)):
            return False
        if isinstance(node, HasPendingWork) and node.pending_work():
            return False
    return True


async def _workers_done(app: App[Any]) -> None:
    for worker in _running(app):
        # One replaced by a newer exclusive one is cancelled; one a service refused has failed
        # (the app shows that as a notification): neither stops the wait.
        with contextlib.suppress(WorkerError):
            await worker.wait()


async def _handled(app: App[Any], screen: Screen[Any]) -> None:
    """The screen's pending work started, every message queued now to the app and the screen's
    nodes handled, then a refresh."""
    awaited: list[Awaitable[object]] = []
    for node in _nodes(app, screen):
        if isinstance(node, HasPendingWork):
            awaited.extend(event.wait() for event in node.pending_work())
        marker = asyncio.Event()
        if node.call_later(marker.set):
            awaited.append(marker.wait())
    refreshed = asyncio.Event()
    if screen.call_after_refresh(refreshed.set):
        awaited.append(refreshed.wait())
    waits = [asyncio.ensure_future(wait) for wait in awaited]
    if waits:
        _done, late = await asyncio.wait(waits, timeout=MARKER_PATIENCE)
        for wait in late:
            wait.cancel()


async def settled(app: App[Any]) -> None:
    """Return once the app has settled: see the module's docstring."""
    for _ in range(MAX_ROUNDS):
        if not app.is_running:
            return  # it ended (a store it could not open): nothing more will happen
        screen = app.screen
        was_quiet = _quiet(app, screen)
        await _workers_done(app)
        await _handled(app, screen)
        if was_quiet and app.is_running and _quiet(app, screen):
            return
    raise NeverSettled(f"{type(app.screen).__name__} kept starting work")
