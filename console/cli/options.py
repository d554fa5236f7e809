"""Options every command shares, the acting identity, and how errors reach the user."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, cast

import click

from console.errors import BadInput, SignoffError
from console.freetext import shown

if TYPE_CHECKING:
    from audit.keys import Signer
    from console.store.db import Store
    from console.store.rows import Rows, WriteRows

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_HOME = ".signoff"
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`


class SignoffGroup(click.Group):
    """Turns our errors into one line on stderr and the contract's exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a reader that went away shows here, while we can still be quiet
            return result
        except BrokenPipeError:
            # `signoff … | head -1`: stop quietly, as a Unix tool killed by SIGPIPE would.
            _silence_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except SignoffError as exc:
            click.echo(f"error: {shown(exc.message, keep_lines=False)}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was changed", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("SIGNOFF_DEBUG"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(
                f"error: unexpected {type(exc).__name__}: {first} (set SIGNOFF_DEBUG=1 for details)",
                err=True,
            )
            ctx.exit(70)


class EscapingStream:
    """stdout as a command sees it: every control character it prints becomes a visible escape.

    The CLI itself prints no control sequences, so whatever reaches this stream with one came
    from stored text (a comment with ESC, a file name with BEL) and must not drive the terminal.
    """

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        if isinstance(text, str):
            self.inner.write(shown(text))
        else:  # not text: let the stream underneath refuse it as it would
            self.inner.write(text)
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:
        return getattr(self.inner, "errors", None)


def escape_stdout(ctx: click.Context) -> None:
    """For the rest of this command, stdout goes through `EscapingStream`."""
    if isinstance(sys.stdout, EscapingStream):
        return
    # click would strip some ESC sequences (only off a terminal): escape them all, everywhere.
    ctx.color = True
    inner = sys.stdout
    sys.stdout = cast(TextIO, EscapingStream(inner))

    def restore() -> None:
        sys.stdout = inner

    ctx.call_on_close(restore)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # not a real file (a test runner's buffer): nothing will flush it to a pipe


@dataclass
class Invocation:
    """What the shared options say: which store, who acts, how to unlock, how to print."""

    home: Path
    user: str | None
    keys_dir: Path | None
    passphrase_file: Path | None
    as_json: bool = False
    db: str | None = None  # a postgresql:// URL; None: the DuckDB file in `home`

    def store(self, *, must_exist: bool = True) -> Store:
        from console.store.db import open_store

        return open_store(self.home, url=self.db, must_exist=must_exist)

    @contextmanager
    def rows(self) -> Iterator[Rows]:
        """Plain reads for a read command, inside one consistent read.

        A DuckDB store is opened read-only by the driver alone (no ORM imported, the file free
        for writers again when the block ends: print after it); a team store, or one whose
        schema must be upgraded or refused first, is read through `Store` as every command does.
        """
        if not self.db:
            from console.store.rows import lock_timeout_from_env, read_only_rows

            with read_only_rows(self.home, lock_timeout_from_env()) as fast:
                if fast is not None:
                    yield fast
                    return
        from console.store.rows import SessionRows

        store = self.store()
        with store.snapshot(), store.session() as session:
            yield SessionRows(session.connection())

    @contextmanager
    def signed_write(
        self, check: Callable[[Rows], object] | None = None
    ) -> Iterator[tuple[WriteRows, Signer] | None]:
        """The acting key and one driver-level write transaction on a DuckDB store, or None.

        For `approve`, `reject`, `withdraw` and `card edit`: the file is opened for writing once
        (`console.store.write_rows`, no SQLAlchemy or SQLModel), where `check` may refuse the
        command before any key is unlocked and the user's key is found; a passphrase from a file
        or the environment unlocks it there, then one transaction runs. A passphrase prompt holds
        no store: the file is let go while the user types and opened again for the transaction.
        None: a team store, or a schema to upgrade or refuse; the caller takes the `Store` path.
        """
        if self.db:
            yield None
            return
        from console.errors import StoreBusy
        from console.identity.actor import key_dirs_in, unlock_key, wanted_key
        from console.store.rows import lock_timeout_from_env
        from console.store.write_rows import writable_store, write_rows

        timeout = lock_timeout_from_env()
        with writable_store(self.home, timeout) as store:
            if store is None:
                yield None
                return
            if check is not None:
                check(store.rows)
            wanted = wanted_key(store.rows, self.user)
            dirs = key_dirs_in(store.rows, self.home, self.keys())
            assert self.user is not None  # wanted_key refused an anonymous command
            if not prompts_for_passphrase(self.passphrase_file):
                signer = unlock_key(self.user, wanted, dirs, self.passphrase)
                with store.transaction() as rows:
                    yield rows, signer
                return
        signer = unlock_key(self.user, wanted, dirs, self.passphrase)
        with write_rows(self.home, timeout) as writing:
            if writing is None:  # upgraded or replaced since it was read: nothing done yet
                raise StoreBusy("the store changed while the key was unlocked; run it again")
            yield writing, signer

    def keys(self) -> Path:
        from console.identity.keydir import default_keys_dir

        return self.keys_dir or default_keys_dir()

    def passphrase(self, key_name: str) -> bytes:
        return read_passphrase(key_name, self.passphrase_file)

    def signer(self, store: Store) -> Signer:
        from console.identity.actor import key_dirs, unlock

        return unlock(store, self.user, key_dirs(store, self.keys()), self.passphrase)


def prompts_for_passphrase(passphrase_file: Path | None) -> bool:
    """Would `read_passphrase` ask the person at the terminal (no file, no environment)?"""
    return (
        passphrase_file is None
        and os.environ.get("SIGNOFF_PASSPHRASE") is None
        and sys.stdin.isatty()
    )


def read_passphrase(key_name: str, passphrase_file: Path | None, *, confirm: bool = False) -> bytes:
    if passphrase_file is not None:
        try:
            return passphrase_file.read_text(encoding="utf-8").rstrip("\n").encode()
        except OSError as exc:
            raise BadInput(
                f"cannot read --passphrase-file {passphrase_file}: {exc.strerror}"
            ) from exc
    env = os.environ.get("SIGNOFF_PASSPHRASE")
    if env is not None:
        return env.encode()
    if not sys.stdin.isatty():
        raise BadInput(
            f"key {key_name!r} needs its passphrase: set SIGNOFF_PASSPHRASE or pass --passphrase-file"
        )
    value = click.prompt(
        f"Passphrase for key {key_name}", hide_input=True, confirmation_prompt=confirm
    )
    return str(value).encode()


def common(*, json_output: bool = False) -> Callable[[F], F]:
    """--home, --db, --as, --keys, --passphrase-file (and --json on read commands)."""

    def decorate(func: F) -> F:
        options = [
            click.option(
                "--home",
                type=click.Path(file_okay=False, path_type=Path),
                envvar="SIGNOFF_HOME",
                default=DEFAULT_HOME,
                show_default=True,
                help="The store directory (env SIGNOFF_HOME).",
            ),
            db_option(),
            click.option(
                "--as", "user", envvar="SIGNOFF_USER", help="Act as USER (env SIGNOFF_USER)."
            ),
            click.option(
                "--keys",
                "keys_dir",
                type=click.Path(file_okay=False, path_type=Path),
                envvar="SIGNOFF_KEYS",
                help="Directory of your key files (env SIGNOFF_KEYS).",
            ),
            click.option(
                "--passphrase-file",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Read the key passphrase from this file (or env SIGNOFF_PASSPHRASE).",
            ),
        ]
        if json_output:
            options.append(click.option("--json", "as_json", is_flag=True, help="Print JSON."))
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def db_option() -> Callable[[F], F]:
    return click.option(
        "--db",
        envvar="SIGNOFF_DB",
        metavar="URL",
        help="A team store: postgresql://USER@HOST/DB (libpq; password from ~/.pgpass, "
        "PGPASSFILE or PGPASSWORD; env SIGNOFF_DB). Without it, the DuckDB file in --home.",
    )


def invocation(kwargs: dict[str, Any]) -> Invocation:
    return Invocation(
        db=kwargs.pop("db", None) or None,
        home=kwargs.pop("home"),
        user=kwargs.pop("user"),
        keys_dir=kwargs.pop("keys_dir"),
        passphrase_file=kwargs.pop("passphrase_file"),
        as_json=kwargs.pop("as_json", False),
    )


@contextmanager
def stage_progress(
    show: bool, first_label: str, label_width: int
) -> Iterator[Callable[[str, float], None] | None]:
    """A bar on stderr fed by a service's `progress(label, fraction)` callback, or None."""
    if not show:
        yield None
        return
    with click.progressbar(length=1000, label=first_label, file=sys.stderr) as bar:
        done = 0

        def advance(label: str, fraction: float) -> None:
            nonlocal done
            bar.label = f"{label:<{label_width}}"
            target = int(fraction * 1000)
            if target > done:
                bar.update(target - done)
                done = target

        yield advance


def print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
