"""InRoot: resolution inside a root, with openat2 and with the hand-made walk."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from engine.archive.inroot import InRoot
from engine.errors import SyscallError

pytestmark = pytest.mark.usefixtures("resolver")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "etc").mkdir(parents=True)
    (r / "etc/passwd").write_bytes(b"inside")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_bytes(b"OUTSIDE")
    os.symlink("/etc", r / "abs")               # absolute: from the root
    os.symlink("../../../..", r / "up")         # climbs: clamped at the root
    os.symlink("loop2", r / "loop1")
    os.symlink("loop1", r / "loop2")
    os.symlink("usr/lib", r / "lib")            # dangling until created
    return r


def read(ir: InRoot, path: bytes) -> bytes:
    fd = ir.open(path)
    try:
        return os.read(fd, 100)
    finally:
        os.close(fd)


def test_absolute_and_climbing_symlinks_stay_inside(root):
    with InRoot(root) as ir:
        assert read(ir, b"/etc/passwd") == b"inside"
        assert read(ir, b"abs/passwd") == b"inside"
        assert read(ir, b"up/etc/passwd") == b"inside"
        assert read(ir, b"../../etc/passwd") == b"inside"
        assert read(ir, b"etc/../../../etc/passwd") == b"inside"


def test_symlink_loop(root):
    with InRoot(root) as ir, pytest.raises(SyscallError) as info:
        ir.open(b"loop1/x")
    assert info.value.errno == errno.ELOOP


def test_not_a_directory(root):
    with InRoot(root) as ir, pytest.raises(SyscallError) as info:
        ir.open_dir(b"etc/passwd", create=True)
    assert info.value.errno == errno.ENOTDIR


def test_open_dir_creates_missing_dirs_through_symlinks(root):
    with InRoot(root) as ir:
        fd = ir.open_dir(b"lib/x86_64/sub", create=True)
        os.close(fd)
        fd = ir.open_dir(b"up/new", create=True)
        os.close(fd)
    assert (root / "usr/lib/x86_64/sub").is_dir()
    assert (root / "new").is_dir()
    assert not (root.parent / "new").exists()


def test_open_dir_without_create_fails_on_missing(root):
    with InRoot(root) as ir, pytest.raises(SyscallError) as info:
        ir.open_dir(b"missing/dir")
    assert info.value.errno == errno.ENOENT


def test_open_parent_never_follows_the_last_component(root):
    with InRoot(root) as ir:
        pfd, name = ir.open_parent(b"abs")
        try:
            assert name == b"abs"
            assert os.readlink(name, dir_fd=pfd) == b"/etc"
        finally:
            os.close(pfd)
        pfd, name = ir.open_parent(b"/")
        os.close(pfd)
        assert name is None


def test_non_utf8_names(root):
    os.mkdir(os.path.join(os.fsencode(root), b"d\xff"))
    with InRoot(root) as ir:
        fd = ir.open_dir(b"d\xff/made", create=True)
        os.close(fd)
    assert os.path.isdir(os.path.join(os.fsencode(root), b"d\xff", b"made"))
