"""write_tar: deterministic streams, hardlinks, xattrs, whiteout conversion, hostile trees."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from archive_layers import D, F, H, S, make_tar

from engine.archive.extract import apply_layer
from engine.archive.tarwriter import write_tar


def build_tree(root: Path) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_bytes(b"box\n")
    (root / "bin").mkdir()
    (root / "bin/gzip").write_bytes(b"gz" * 1000)
    os.chmod(root / "bin/gzip", 0o4755)
    os.link(root / "bin/gzip", root / "bin/gunzip")
    os.symlink("/etc/hostname", root / "hostlink")
    os.mkfifo(root / "fifo")
    (root / ("a" * 150)).write_bytes(b"long name")
    os.setxattr(root / "etc/hostname", "user.note", b"\xff\x00binary")
    for p in root.rglob("*"):
        os.utime(p, (1_600_000_000, 1_600_000_000), follow_symlinks=False)


def tar_of(root: Path, **kw) -> bytes:
    buf = io.BytesIO()
    n = write_tar(root, buf, **kw)
    assert n == len(buf.getvalue())
    return buf.getvalue()


def test_stream_is_deterministic_and_readable(tmp_path):
    build_tree(tmp_path / "t")
    first, second = tar_of(tmp_path / "t"), tar_of(tmp_path / "t")
    assert first == second
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        names = [m.name for m in tar.getmembers()]
    assert names == sorted(names, key=lambda n: n.encode())  # bytewise, depth first
    # the first name in sorted order carries the data, later ones link to it
    assert members["bin/gzip"].islnk() and members["bin/gzip"].linkname == "bin/gunzip"
    assert members["bin/gunzip"].mode == 0o4755 and members["bin/gunzip"].uname == ""
    assert members["hostlink"].issym() and members["hostlink"].linkname == "/etc/hostname"
    assert members["fifo"].isfifo()
    assert members["a" * 150].size == 9
    assert members["etc"].isdir() and members["etc"].mtime == 1_600_000_000


def test_round_trip_through_apply_layer(tmp_path):
    build_tree(tmp_path / "t")
    data = tar_of(tmp_path / "t")
    dest = tmp_path / "dest"
    dest.mkdir()
    apply_layer(io.BytesIO(data), dest)
    assert (dest / "etc/hostname").read_bytes() == b"box\n"
    assert os.getxattr(dest / "etc/hostname", "user.note") == b"\xff\x00binary"
    assert (dest / "bin/gunzip").stat().st_ino == (dest / "bin/gzip").stat().st_ino
    assert stat.S_IMODE((dest / "bin/gzip").stat().st_mode) == 0o4755
    assert os.readlink(dest / "hostlink") == "/etc/hostname"
    # and writing the unpacked tree again gives the same bytes
    assert tar_of(dest) == data


def test_overlay_whiteouts_round_trip(tmp_path):
    layer = make_tar([D("etc"), F("etc/.wh.motd"), D("var"), F("var/.wh..wh..opq"), F("var/new", b"n")])
    dest = tmp_path / "dest"
    dest.mkdir()
    apply_layer(io.BytesIO(layer), dest)
    with tarfile.open(fileobj=io.BytesIO(tar_of(dest, overlay_whiteouts=True))) as tar:
        names = tar.getnames()
    assert "etc/.wh.motd" in names and "etc/motd" not in names
    assert "var/.wh..wh..opq" in names and "var/new" in names
    with tarfile.open(fileobj=io.BytesIO(tar_of(dest))) as tar:  # not converted unless asked
        assert tar.getmember("etc/motd").ischr()
        assert "user.overlay.opaque" not in str(tar.getmember("var/").pax_headers)


def test_symlinks_in_tree_are_never_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_bytes(b"TOP SECRET")
    root = tmp_path / "t"
    root.mkdir()
    os.symlink(str(secret), root / "dirlink")
    os.symlink(str(secret / "key"), root / "filelink")
    data = tar_of(root)
    assert b"TOP SECRET" not in data
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == ["dirlink", "filelink"]


def test_missing_root_is_a_storage_error(tmp_path):
    from engine.errors import StorageError

    with pytest.raises(StorageError):
        write_tar(tmp_path / "nope", io.BytesIO())


def test_layer_built_by_tests_survives_write_and_apply(tmp_path):
    layer = make_tar([D("d", 0o750), F("d/f", b"x" * 5000, mode=0o640), S("d/s", "f"), H("d/h", "d/f")])
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    apply_layer(io.BytesIO(layer), one)
    apply_layer(io.BytesIO(tar_of(one)), two)
    assert tar_of(one) == tar_of(two)
    assert stat.S_IMODE((two / "d").stat().st_mode) == 0o750
