"""mark_topdir: the ext4 Orlov hint on the pull staging parent."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
from pathlib import Path

import pytest

from engine.store.topdir import FS_IOC_GETFLAGS, FS_TOPDIR_FL, mark_topdir


def _flags(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 4))[0]
    finally:
        os.close(fd)


def _is_ext4(path: Path) -> bool:
    out = subprocess.run(["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True)
    return out.stdout.strip() in ("ext2/ext3", "ext4")


def test_sets_flag_and_keeps_the_others(tmp_path):
    if not _is_ext4(tmp_path):
        pytest.skip("FS_TOPDIR_FL is an ext2/3/4 flag; tmp_path is on another filesystem")
    d = tmp_path / "staging"
    d.mkdir()
    before = _flags(d)
    assert not before & FS_TOPDIR_FL
    assert mark_topdir(d) is True
    assert _flags(d) == before | FS_TOPDIR_FL
    assert mark_topdir(d) is True  # idempotent
    assert _flags(d) == before | FS_TOPDIR_FL


def test_refuses_files_and_symlinks_quietly(tmp_path):
    f = tmp_path / "file"
    f.write_bytes(b"x")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    assert mark_topdir(f) is False
    assert mark_topdir(tmp_path / "link") is False  # never follows the last name
    assert mark_topdir(tmp_path / "missing") is False
    if _is_ext4(tmp_path):
        assert not _flags(tmp_path / "real") & FS_TOPDIR_FL
