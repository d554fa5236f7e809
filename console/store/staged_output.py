"""A file handed out with the event that records it: opened first, renamed in just before commit.

Order, and why it leaves neither file nor event on every failure we can catch: the temporary
sibling is created before any work (an unwritable path fails first, nothing recorded); the
bytes are written and fsynced; inside the recording transaction the event is appended and then
the temporary is renamed onto the target, the last step before the commit. A failed rename
rolls the event back; a failed commit removes the renamed file. Only a `kill -9` between the
rename and the commit can leave a file without its event: the store is then unchanged, which
is the side a failed command may err on (an event naming a file nobody received would not be).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from console.errors import BadInput
from console.files import check_output, sync_directory


class StagedOutput:
    """The target path and its temporary sibling until `publish` renames one onto the other."""

    def __init__(self, path: Path) -> None:
        self.path = path
        check_output(path)
        if path.exists() and not path.is_file():
            raise BadInput(f"cannot write {path}: it is not a regular file")
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        except OSError as exc:
            raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from exc
        self._temp = Path(name)
        self._handle: BinaryIO | None = os.fdopen(fd, "wb")
        self._published = False

    def write(self, data: bytes) -> None:
        """The whole content, flushed to disk before anything records it."""
        handle = self._handle
        assert handle is not None, "write once, before publish"
        try:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.chmod(self._temp, 0o644)
        except OSError as exc:
            raise BadInput(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        finally:
            self._handle = None

    def publish(self) -> None:
        """Rename into place; call it last inside the transaction that records the file."""
        try:
            os.replace(self._temp, self.path)
        except OSError as exc:
            raise BadInput(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        self._published = True
        sync_directory(self.path.parent)

    def discard(self) -> None:
        """Remove whatever this left: the temporary, or the published file if the commit failed."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._temp.unlink(missing_ok=True)
        if self._published:
            self.path.unlink(missing_ok=True)


def check_writable(path: Path) -> None:
    """Refuse a path the file cannot go to before any work is done (creates no file)."""
    StagedOutput(path).discard()


@contextmanager
def staged_output(path: Path) -> Iterator[StagedOutput]:
    """Open `path` for a whole-file write; any exception in the block discards it."""
    staged = StagedOutput(path)
    try:
        yield staged
    except BaseException:
        staged.discard()
        raise
    if not staged._published:
        staged.discard()  # the block ended without handing the file out: leave nothing behind


__all__ = ["StagedOutput", "check_writable", "staged_output"]
