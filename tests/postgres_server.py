"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl in a temp dir, a unix socket only."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SYSTEM_USER = "postgres"  # the server refuses to run as root; as root, we run it as this user


class ServerUnavailable(RuntimeError):
    """The PostgreSQL binaries are missing or the server did not start."""


def binaries() -> Path:
    """The directory holding initdb, pg_ctl and postgres (Debian's layout first, then PATH)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    raise ServerUnavailable(
        "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: "
        "run `make test`, which installs Debian's postgresql package where it is missing"
    )


@dataclass(frozen=True)
class Server:
    """A running server: its socket directory, superuser and a URL for a database on it."""

    socket_dir: Path
    user: str
    port: int

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def admin_command(self, *args: str) -> list[str]:
        """A psql-like client command line (createdb, dropdb, psql) aimed at this server."""
        return [*args, "-h", str(self.socket_dir), "-p", str(self.port), "-U", self.user]


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SYSTEM_USER, "--", *command]


@contextmanager
def running_server(port: int = 54329) -> Iterator[Server]:
    """Start a server in a new temp dir, listening on a unix socket only; stop and remove it after."""
    bin_dir = binaries()
    root = Path(tempfile.mkdtemp(prefix="signoff-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    owner = "signoff_test"
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SYSTEM_USER)
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    log = root / "server.log"
    try:
        subprocess.run(
            _as_owner(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    owner,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-c listen_addresses='' -k {sockets} -p {port} -c fsync=off -c max_connections=60"
        )
        started = subprocess.run(
            _as_owner(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "30",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode != 0:
            tail = log.read_text(errors="replace")[-400:] if log.exists() else started.stderr
            raise ServerUnavailable(f"PostgreSQL did not start: {tail.strip()}")
        yield Server(sockets, owner, port)
    except subprocess.CalledProcessError as exc:
        raise ServerUnavailable(f"initdb failed: {exc.stderr!r}") from exc
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_owner(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                ),
                capture_output=True,
                check=False,
            )
            deadline = time.monotonic() + 10
            while (data / "postmaster.pid").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)
