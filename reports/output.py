"""Where a report or card file goes, shared by the CLI and the console: checked, written whole."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from console.errors import BadInput


def default_file_name(model: str | None, version: int | None, framework: str | None) -> str:
    """`credit-risk-v2-sr-11-7.pdf`, or `registry-report.pdf` for every model."""
    if model is None:
        return "registry-report.pdf"
    return f"{model}-v{version}-{framework}.pdf"


def check_output(path: Path) -> None:
    """Refuse a path the file cannot go to before any work is done (and any event recorded)."""
    if path.is_dir():
        raise BadInput(f"-o {path} is a directory; name a file")
    if not path.parent.is_dir():
        raise BadInput(f"cannot write {path}: the directory {path.parent} does not exist")


def write_whole(path: Path, data: bytes) -> None:
    """The whole file or nothing: a temporary sibling, then an atomic rename."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from exc


__all__ = ["check_output", "default_file_name", "write_whole"]
