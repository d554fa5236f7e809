"""The console's App: wires screens to a store and the acting identity; no rule lives here.

It starts light: this module, the dashboard and the widgets they use import Textual only, and
the store (SQLAlchemy, DuckDB) opens in the first worker that reads it, after the first frame.
Other screens import when first shown.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.notifications import SeverityLevel
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerState

from console.errors import SignoffError
from console.tui.messages import StoreChanged
from console.tui.navigation import FIRST_MODE, Navigation
from console.tui.screens.base import reads_store
from console.tui.widgets.modals import PassphraseModal

if TYPE_CHECKING:
    from audit.keys import Signer
    from console.identity.users import UserView
    from console.store.db import Store
    from console.tui.release_data import ReleaseCommand

POLL_SECONDS = 2.0
# A store file's poll counts the log only when the file or its WAL changed; every this many
# polls it counts anyway (a write within the clock tick of the last look, the same size).
COUNT_EVERY = 15
PassphraseSource = Callable[[str], bytes]
SCREEN_STYLES = ("screens/common.tcss", "screens/monitoring.tcss", "screens/reports.tcss")
# Imported in a worker once the dashboard shows its data, not by a first visit on the UI thread.
PRELOADED = ("models", "inbox", "audit", "reports", "release", "admin", "monitoring")


class SignoffApp(Navigation):
    """signoff's terminal console."""

    # The first frame needs app.tcss only; the other screens' styles are added right after it
    # (`add_screen_styles`), parsed once. Not as screens' own CSS_PATH: Textual re-parses the
    # whole stylesheet on the first visit of a screen that brings one (150 ms at 120x40).
    CSS_PATH = "app.tcss"
    TITLE = "signoff"

    def __init__(
        self,
        store: Store | Path,
        user: str | None = None,
        *,
        url: str | None = None,
        passphrase: PassphraseSource | None = None,
        keys_dir: Path | None = None,
    ) -> None:
        super().__init__()
        # What is alive now lives as long as the console; out of the collector's sight, a full
        # collection no longer walks it (that stalled frames by 100 ms or more). Again once
        # the store's modules are in (`store`).
        gc.freeze()
        self._url = url  # a team store's: reached after the first frame, as the file is opened
        self.open_error: SignoffError | None = None  # why the store could not be opened
        if isinstance(store, Path):
            self.home, self._store = store, None
        else:
            self.home, self._store = store.home, store
            store.hold_no_idle_connection()  # the console never holds one while idle
        self._opening = threading.Lock()
        self._watch_stop = threading.Event()  # set when the app ends: the store watcher stops
        self._screen_styles = False
        self._frozen_after: set[str] = set()  # the loaders whose first read froze the heap
        self._preloading = False
        self._entering: str | None = None  # the mode `switch_mode` is switching to
        self._css_generation = 0  # how many times the theme (or palette) restyled the app
        self._styled_at: dict[str, int] = {}  # the generation each mode's screens are styled in
        self.user = user
        self._user_read = threading.Lock()
        self._acting_user: UserView | None = None
        self._acting_user_read = False
        self.signer: Signer | None = None
        self.log_size = -1
        self.last_verification: str | None = None
        self._passphrase = passphrase
        self._keys_dir = keys_dir
        self.release_commands: list[ReleaseCommand] = []
        self._file_seen: tuple[tuple[int, int] | None, ...] | None = None  # at the last count
        self._polls_uncounted = 0
        self.sub_title = f"{self.home.name}" + (f" · {user}" if user else " · read-only")

    @property
    def store(self) -> Store:
        """The store, opened (schema checked) by the first worker that reads it."""
        if self._store is None:
            with self._opening:
                if self._store is None:
                    from console.store.db import open_store

                    self._store = open_store(self.home, url=self._url, idles=True)
                    gc.freeze()
        return self._store

    def freeze_after_first(self, loader: str) -> None:
        """After a loader's first read, freeze what it imported and cached (it lives as long as
        the console): unfrozen, a full collection walked it (45-72 ms by the sixth screen)."""
        if loader not in self._frozen_after:
            self._frozen_after.add(loader)
            gc.freeze()

    def preload_screens(self) -> None:
        """Import the other screens in a worker (once): it hands the UI thread the GIL every
        few milliseconds, where a first visit's import blocked it for 20-50 ms."""
        if not self._preloading:
            self._preloading = True
            self._preload()

    @work(thread=True, exit_on_error=False, group="preload")
    def _preload(self) -> None:
        for module in (*PRELOADED, "model_detail"):
            importlib.import_module(f"console.tui.screens.{module}")
        gc.freeze()  # they live as long as the console

    @property
    def style_epoch(self) -> tuple[int, bool]:
        """What a widget styled now was styled against: the theme's generation, and whether
        the other screens' styles were in the stylesheet yet."""
        return self._css_generation, self._screen_styles

    def add_screen_styles(self) -> None:
        """Add the other screens' styles (once); only the new sources are parsed."""
        if self._screen_styles:
            return
        self._screen_styles = True
        for name in SCREEN_STYLES:
            self.stylesheet.read(Path(__file__).parent / name)

    def switch_mode(self, mode: str) -> AwaitMount:
        """Switch as Textual does, without its restyle of a screen already styled."""
        if mode != FIRST_MODE:
            self.add_screen_styles()
        self._entering = mode
        try:
            return super().switch_mode(mode)
        finally:
            self._entering = None

    def refresh_css(self, animate: bool = True) -> None:
        """Re-parse the stylesheet and restyle, unless only a switch asks and the mode's
        screens are styled in the current generation.

        Textual asks on every switch to a mode whose screen it counts as stale, and it counts
        each new screen stale: the first visit of every screen re-parsed the whole stylesheet
        (30-50 ms here). A new screen's widgets are styled as they mount, against the
        stylesheet in force; only a theme change since makes a mode's screens stale.
        """
        mode = self._entering
        if mode is None:  # the theme or the terminal's palette changed
            self._css_generation += 1
            super().refresh_css(animate)
            self._styled_at[self.current_mode] = self._css_generation
        elif self._styled_at.setdefault(mode, self._css_generation) != self._css_generation:
            super().refresh_css(animate)
            self._styled_at[mode] = self._css_generation

    def on_mount(self) -> None:
        self.call_after_refresh(self.add_screen_styles)
        self.switch_mode(FIRST_MODE)
        self.call_after_refresh(self.poll_store)
        # After the first frame too: its thread would open the store (imports, a server's
        # connection) while the frame is drawn, competing with it for the interpreter.
        self.call_after_refresh(self.watch_store)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification is plain text: messages carry paths, names and comments a user
        typed, which Textual would otherwise read as markup (and fail on a stray tag)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # ---- identity -----------------------------------------------------------------------

    def acting_user(self) -> UserView | None:
        """The acting user's record (None when read-only or unknown to the store): read once
        per session, like the key, by the first worker that asks."""
        with self._user_read:
            if not self._acting_user_read:
                from console.identity.users import find_user

                self._acting_user = find_user(self.store, self.user) if self.user else None
                self._acting_user_read = True
        return self._acting_user

    def with_signer(self, action: Callable[[Signer], object]) -> None:
        """Run `action` with the unlocked key, asking for the passphrase once per session."""
        if self.signer is not None:
            action(self.signer)
            return
        if not self.user:
            self.notify("Start the console with --as USER to act.", severity="error")
            return
        if self._passphrase is not None:
            self._unlock(self._passphrase, action)
            return
        user = self.user

        def entered(passphrase: str | None) -> None:
            if passphrase:
                secret = passphrase.encode()
                self._unlock(lambda _name: secret, action)

        self.push_screen(PassphraseModal(user), entered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock")
    def _unlock(self, source: PassphraseSource, action: Callable[[Signer], object]) -> None:
        from console.identity.actor import key_dirs, unlock
        from console.identity.keydir import default_keys_dir

        directory = self._keys_dir or default_keys_dir()
        signer = unlock(self.store, self.user, key_dirs(self.store, directory), source)
        self.call_from_thread(self._unlocked, signer, action)

    def _unlocked(self, signer: Signer, action: Callable[[Signer], object]) -> None:
        self.signer = signer
        self.notify(f"Key of {signer.name} unlocked for this session.")
        action(signer)

    # ---- change detection and worker errors --------------------------------------------

    @work(thread=True, exit_on_error=False, group="watch")
    def watch_store(self) -> None:
        """Learn of other clients' actions: told by a PostgreSQL store, else by polling."""
        if not self.store.backend.watch(self._watch_stop, self._told_of_change):
            self.call_from_thread(self.set_interval, POLL_SECONDS, self.poll_file)

    def _file_state(self) -> tuple[tuple[int, int] | None, ...] | None:
        """The store file's and its WAL's (size, mtime), or None if the store is no file."""
        path = getattr(self.store.backend, "path", None)
        if not isinstance(path, Path):
            return None
        state: list[tuple[int, int] | None] = []
        for file in (path, path.with_name(path.name + ".wal")):
            try:
                seen = file.stat()
            except OSError:
                state.append(None)
            else:
                state.append((seen.st_size, seen.st_mtime_ns))
        return tuple(state)

    def poll_file(self) -> None:
        """The polling of a store file: count the log only if a client wrote since the last
        count. Opening the file to count cost 20-30 ms of CPU every poll (DuckDB starts a
        database each time), and a poll landing in a screen's load delayed it; a read leaves
        the file and its WAL as they were, a commit does not."""
        state = self._file_state()
        self._polls_uncounted += 1
        if state is not None and state == self._file_seen and self._polls_uncounted < COUNT_EVERY:
            return
        self._file_seen, self._polls_uncounted = state, 0
        self.poll_store()

    def _told_of_change(self) -> None:
        if not self._watch_stop.is_set():
            with contextlib.suppress(RuntimeError):  # the app closed meanwhile
                self.call_from_thread(self.poll_store)

    def on_unmount(self) -> None:
        self._watch_stop.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def poll_store(self) -> None:
        from console.auditing.trail import audit_size

        # Cheap: the audit log grows with every state change, from any process.
        size = audit_size(self.store)
        if size != self.log_size:
            self.call_from_thread(self._store_changed, size)

    def log_grew(self, size: int) -> None:
        """An action of this console made the log `size` events long: the palette follows now,
        and the next poll does not reload the screen that already reloaded for it."""
        if size > self.log_size:
            self.log_size = size
            self.refresh_commands()

    def _store_changed(self, size: int) -> None:
        first = self.log_size < 0
        self.log_size = size
        self.refresh_commands()
        if not first:
            self.screen.post_message(StoreChanged(size))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker failure lands here and becomes a notification, never a traceback."""
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        if isinstance(error, SignoffError) and self._store is None:
            # The store could not be opened (newer schema, busy, unreadable, a team store's
            # server refusing or a bad --db URL): nothing to show. The CLI prints the error
            # once the screen is given back, as every command prints it.
            self.open_error = error
            self.exit(return_code=error.exit_code)
            return
        if isinstance(error, SignoffError):
            self.notify(
                error.message,
                title="Refused" if error.exit_code == 3 else "Error",
                severity="error",
                timeout=8,
            )
        else:
            first = str(error).splitlines()[0] if str(error) else ""
            self.notify(f"unexpected {type(error).__name__}: {first}", severity="error", timeout=8)

    # ---- command palette -----------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="palette")
    @reads_store
    def refresh_commands(self) -> None:
        from console.tui.release_data import release_commands

        commands = release_commands(self.store)
        self.call_from_thread(setattr, self, "release_commands", commands)


def make_app(
    store: Store | Path,
    *,
    user: str | None = None,
    url: str | None = None,
    passphrase: PassphraseSource | None = None,
    keys_dir: Path | None = None,
) -> SignoffApp:
    """The app factory the CLI and the tests share: on a Store, or on the home (and for a team
    store the `--db` URL) of one to open after the first frame (the CLI's way: the console
    appears before SQL loads or a server is reached)."""
    return SignoffApp(store, user=user, url=url, passphrase=passphrase, keys_dir=keys_dir)
