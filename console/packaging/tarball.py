"""Package archives: deterministic tar.gz bytes, and reading one back without trusting it."""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, cast

from console.errors import BadInput

# Bounds a hostile archive cannot talk us past: every member is read into memory.
MAX_MEMBER_BYTES = 2 << 30
MAX_TOTAL_BYTES = 4 << 30
MAX_MEMBERS = 64
MAX_TRAILING_BYTES = 1 << 20
CHUNK = 1 << 20
# A long-name or pax header is read whole by tarfile: refuse a bigger one before it is read.
MAX_HEADER_BYTES = 64 << 10
MAX_SHOWN_NAME = 120


def member_mtime(created_at: str) -> int:
    """Members carry the version's registration time: fixed for the version, never the clock."""
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return max(0, int(moment.timestamp()))
    except (OverflowError, OSError):
        return 0


def deterministic_tar_gz(top: str, files: Mapping[str, bytes], mtime: int) -> bytes:
    """A gzip'd tar whose bytes depend only on the files: sorted, fixed owners, times and modes."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="", compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        folder = _tar_info(f"{top}/", 0, 0o755, mtime)
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name in sorted(files):
            data = files[name]
            tar.addfile(_tar_info(f"{top}/{name}", len(data), 0o644, mtime), io.BytesIO(data))
    return buffer.getvalue()


def _tar_info(name: str, size: int, mode: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _HeaderTooLarge(Exception):
    """tarfile asked to read a header block bigger than MAX_HEADER_BYTES."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class _BoundedReads:
    """The decompressed stream as tarfile sees it: while `bounded`, no one read may be large.

    While headers are scanned tarfile reads 512-byte blocks and, for a long name or pax header,
    the whole declared size in one call; bounding reads stops a huge declared size up front.
    """

    def __init__(self, stream: gzip.GzipFile) -> None:
        self.stream = stream
        self.bounded = True

    def read(self, size: int | None = -1) -> bytes:
        if self.bounded and (size is None or size < 0 or size > MAX_HEADER_BYTES):
            raise _HeaderTooLarge(-1 if size is None else size)
        return self.stream.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()


def shown_name(name: str) -> str:
    """A member name short enough for one line of a report."""
    if len(name) <= MAX_SHOWN_NAME:
        return name
    return f"{name[:MAX_SHOWN_NAME]}... ({len(name)} characters)"


def _header_too_large(exc: _HeaderTooLarge) -> str:
    return f"a member header of {exc.size} bytes exceeds the limit of {MAX_HEADER_BYTES} bytes"


def _refusal(info: tarfile.TarInfo) -> str | None:
    """Why a member may not be in a package, judged from its header alone."""
    name = info.name
    if not name or "\x00" in name:
        return "it has no usable name"
    if (
        name.startswith(("/", "\\"))
        or PurePosixPath(name).is_absolute()
        or PureWindowsPath(name).is_absolute()
        or PureWindowsPath(name).drive
    ):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "path escapes the package"
    if info.issym() or info.islnk():
        return f"links are not allowed (-> {info.linkname})"
    if info.ischr() or info.isblk() or info.isfifo():
        return "devices and fifos are not allowed"
    if not (info.isreg() or info.isdir()):
        return "only regular files and folders are allowed"
    if info.size < 0 or info.size > MAX_MEMBER_BYTES:
        return f"size {info.size} exceeds the limit of {MAX_MEMBER_BYTES} bytes"
    return None


_READ_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error)


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _open_tar(stream: _BoundedReads, path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=cast("IO[bytes]", stream), mode="r:")
    except _READ_ERRORS as exc:
        raise BadInput(f"{path} is not a signoff package (a gzip'd tar): {_reason(exc)}") from exc


def read_members(path: Path, problems: list[str]) -> tuple[str, dict[str, bytes]] | None:
    """The top folder and every file under it, read into memory once every header passed.

    Unsafe members are named in `problems` and nothing is read (returns None). A file that is
    not a gzip'd tar, or is truncated or corrupt, is BadInput.
    """
    with path.open("rb") as handle, gzip.GzipFile(fileobj=handle, mode="rb") as stream:
        bounded = _BoundedReads(stream)
        try:
            tar = _open_tar(bounded, path)
        except _HeaderTooLarge as exc:
            problems.append(_header_too_large(exc))
            return None
        with tar:
            return _read_tar(tar, bounded, path, problems)


def _read_tar(
    tar: tarfile.TarFile, bounded: _BoundedReads, path: Path, problems: list[str]
) -> tuple[str, dict[str, bytes]] | None:
    corrupt = f"{path} is not a readable package (truncated or corrupt gzip'd tar)"
    try:
        headers = _scan_headers(tar, problems)
    except _HeaderTooLarge as exc:
        problems.append(_header_too_large(exc))
        return None
    except _READ_ERRORS as exc:
        if problems:  # what was refused before the damage is the finding
            return None
        raise BadInput(f"{corrupt}: {_reason(exc)}") from exc
    top = _layout(headers, problems) if headers else None
    if top is None or problems:
        if not headers and not problems:
            raise BadInput(f"{path} is an empty archive, not a signoff package")
        return None
    members: dict[str, bytes] = {}
    bounded.bounded = False  # every header passed: members are read within their bounds
    try:
        for info in headers:
            if info.isreg():
                data = _member_data(tar, info)
                if data is None:
                    raise BadInput(f"{corrupt}: member {shown_name(info.name)} is cut short")
                members[info.name.split("/", 1)[1]] = data
        trailing = _trailing_data(bounded.stream)
    except _READ_ERRORS as exc:
        raise BadInput(f"{corrupt}: {_reason(exc)}") from exc
    if trailing:
        problems.append("the archive has data after its end")
    return top, members


def _scan_headers(tar: tarfile.TarFile, problems: list[str]) -> list[tarfile.TarInfo]:
    """Every header, each judged before the reader moves past its data."""
    headers: list[tarfile.TarInfo] = []
    total = 0
    while (info := tar.next()) is not None:
        headers.append(info)
        why = _refusal(info)
        if why is None:
            total += info.size
            if total > MAX_TOTAL_BYTES:
                why = f"the package exceeds {MAX_TOTAL_BYTES} bytes in total"
            elif len(headers) > MAX_MEMBERS:
                why = f"a package holds at most {MAX_MEMBERS} members"
        if why is not None:
            problems.append(f"member {shown_name(info.name)} refused: {why}")
            if (
                info.size > MAX_MEMBER_BYTES
                or total > MAX_TOTAL_BYTES
                or len(headers) > MAX_MEMBERS
            ):
                break  # reading on would go past the bounds

    return headers


def _layout(headers: list[tarfile.TarInfo], problems: list[str]) -> str | None:
    """The one top folder; files sit directly in it, each name once."""
    tops = sorted({h.name.split("/", 1)[0] for h in headers})
    if len(tops) != 1:
        problems.append(
            "a package holds one top folder, this one has "
            + ", ".join(shown_name(t) for t in tops[:5])
            + (f" and {len(tops) - 5} more" if len(tops) > 5 else "")
        )
        return None
    seen: set[str] = set()
    for info in headers:
        rest = info.name.split("/", 1)[1] if "/" in info.name else ""
        if info.isdir():
            if rest.strip("/"):
                problems.append(f"member {shown_name(info.name)}: unexpected folder")
        elif not rest or "/" in rest:
            problems.append(f"member {shown_name(info.name)}: files belong directly in {tops[0]}/")
        elif rest in seen:
            problems.append(f"member {shown_name(info.name)} appears twice")
        seen.add(rest)
    return tops[0]


def _member_data(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes | None:
    extracted = tar.extractfile(info)
    if extracted is None:
        return None
    data = extracted.read()
    return data if len(data) == info.size else None


def _trailing_data(stream: gzip.GzipFile) -> bool:
    """Read the gzip stream to its end (checking its CRC); True if non-zero data trails the tar."""
    seen = 0
    while chunk := stream.read(CHUNK):
        seen += len(chunk)
        if chunk.strip(b"\x00") or seen > MAX_TRAILING_BYTES:
            return True
    return False
