"""Files are written whole or not at all, and durably; output paths are refused before any work."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from console import files
from console.errors import BadInput


def test_an_atomic_write_syncs_the_file_and_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[bool] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    target = tmp_path / "out.bin"
    files.write_atomically(target, [b"ab", b"cd"], mode=0o444)
    assert target.read_bytes() == b"abcd"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert synced == [False, True]  # the file's bytes, then the rename in its directory
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(BadInput, match=r"cannot write .*out\.bin: No space left on device"):
        files.write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_file_sha256_reads_in_chunks(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(2 * files.CHUNK + 5))
    assert files.file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest()
    with pytest.raises(FileNotFoundError):
        files.file_sha256(tmp_path / "nope")
    with pytest.raises(BadInput, match="does not exist"):
        files.input_sha256(tmp_path / "nope")
    with pytest.raises(BadInput, match="is a directory"):
        files.input_sha256(tmp_path)


def test_output_paths_are_checked(tmp_path: Path) -> None:
    files.check_output(tmp_path / "report.pdf")
    with pytest.raises(BadInput, match=r"is a directory; name a file such as x\.tar\.gz$"):
        files.check_output(tmp_path, example="x.tar.gz")
    with pytest.raises(BadInput, match="does not exist"):
        files.check_output(tmp_path / "missing" / "report.pdf")
    (tmp_path / "plain").write_text("", encoding="utf-8")
    with pytest.raises(BadInput, match="is not a directory"):
        files.check_output(tmp_path / "plain" / "report.pdf")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_an_output_directory_that_is_not_writable_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(BadInput, match="not writable"):
        files.check_output(locked / "report.pdf")
