"""Files written whole or not at all, hashed in chunks, and output paths checked before any work."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from console.errors import BadInput

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The sha256 of the file's bytes as lowercase hex, read in 1 MiB chunks (OSError as raised)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def unreadable(path: Path, exc: OSError) -> BadInput:
    """Why a file the user named cannot be read, as one line that says what to check."""
    if isinstance(exc, FileNotFoundError):
        return BadInput(f"dataset file {path} does not exist; check the path")
    if isinstance(exc, IsADirectoryError):
        return BadInput(f"{path} is a directory; give the path of a CSV or Parquet file")
    if isinstance(exc, PermissionError):
        return BadInput(f"cannot read {path}: permission denied; check its permissions")
    return BadInput(f"cannot read {path}: {exc.strerror or exc}")


def input_sha256(path: Path) -> str:
    """`file_sha256` of a file the user named: a path that cannot be read is BadInput."""
    try:
        return file_sha256(path)
    except OSError as exc:
        raise unreadable(path, exc) from exc


def check_output(path: Path, *, example: str = "") -> None:
    """Refuse a path a file cannot be written to, before any work is done (or event recorded)."""
    if path.is_dir():
        such_as = f" such as {example}" if example else ""
        raise BadInput(f"-o {path} is a directory; name a file{such_as}")
    parent = path.parent
    if not parent.exists():
        raise BadInput(f"cannot write {path}: the directory {parent} does not exist")
    if not parent.is_dir():
        raise BadInput(f"cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadInput(f"cannot write {path}: the directory {parent} is not writable")


def write_temp(target: Path, data: bytes | Iterable[bytes], *, mode: int | None = None) -> Path:
    """`data` in a new file beside `target`, on disk: `publish` it, or unlink it.

    `mode` None keeps the private 0600 a temporary file is created with.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror or exc}") from exc
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in [data] if isinstance(data, bytes) else data:
                handle.write(part)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BadInput(f"cannot write {target}: {exc.strerror or exc}") from exc
        raise
    return temp


def publish(temp: Path, target: Path) -> None:
    """Rename a file already on disk over `target`, then make the rename itself durable."""
    try:
        os.replace(temp, target)
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror or exc}") from exc
    sync_directory(target.parent)


def sync_directory(directory: Path) -> None:
    """fsync a directory, so that a rename in it survives a crash (where the system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a directory; the rename stands
        pass
    finally:
        os.close(fd)


def sync_file(path: Path) -> None:
    """fsync a file another writer (e.g. DuckDB's COPY) produced, before it is renamed."""
    with Path(path).open("rb") as handle:
        os.fsync(handle.fileno())


def write_atomically(
    target: Path, data: bytes | Iterable[bytes], *, mode: int | None = None
) -> None:
    """The whole file or nothing: a temporary sibling, fsync, rename, fsync of the directory."""
    temp = write_temp(target, data, mode=mode)
    try:
        publish(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
