"""apply_layer on well-formed layers: every entry type, metadata, overlay whiteouts, diff IDs."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import shutil
import stat
import struct
import subprocess
import tarfile
from pathlib import Path

import pytest
import zstandard
from archive_layers import D, E, F, H, S, make_tar

from engine.archive.extract import apply_layer
from engine.errors import UnsafeArchive

pytestmark = pytest.mark.usefixtures("resolver")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs real root")
MTIME = 1_600_000_000


def apply(tmp_path: Path, entries, **kw) -> Path:
    dest = tmp_path / "dest"
    dest.mkdir(exist_ok=True)
    apply_layer(io.BytesIO(make_tar(entries)), dest, **kw)
    return dest


def test_regular_files_dirs_and_implied_parents(tmp_path):
    dest = apply(tmp_path, [D("etc", 0o755), F("etc/hostname", b"box\n", mode=0o600),
                            F("usr/lib/deep/file", b"x" * 100_000, mode=0o755)])
    assert (dest / "etc/hostname").read_bytes() == b"box\n"
    assert stat.S_IMODE((dest / "etc/hostname").stat().st_mode) == 0o600
    assert (dest / "usr/lib/deep/file").read_bytes() == b"x" * 100_000
    assert stat.S_IMODE((dest / "usr/lib").stat().st_mode) == 0o755  # implied: 0755


def test_special_modes(tmp_path):
    dest = apply(tmp_path, [F("bin/su", b"\x7fELF", mode=0o4755), F("bin/wall", b"e", mode=0o2755),
                            D("tmp", 0o1777), D("ro", 0o555), F("ro/inside", b"i")])
    assert stat.S_IMODE((dest / "bin/su").stat().st_mode) == 0o4755
    assert stat.S_IMODE((dest / "bin/wall").stat().st_mode) == 0o2755
    assert stat.S_IMODE((dest / "tmp").stat().st_mode) == 0o1777
    assert stat.S_IMODE((dest / "ro").stat().st_mode) == 0o555
    assert (dest / "ro/inside").read_bytes() == b"i"


def test_symlinks_are_stored_verbatim(tmp_path):
    dest = apply(tmp_path, [S("abs", "/usr/bin/env"), S("rel", "../x"), S("dangling", "nowhere")])
    assert os.readlink(dest / "abs") == "/usr/bin/env"
    assert os.readlink(dest / "rel") == "../x"
    assert os.readlink(dest / "dangling") == "nowhere"


def test_implied_directories_through_symlink(tmp_path):
    # go-archive TestUnpackLayerCreatesImpliedDirectoriesThroughLowerLayerSymlink
    dest = apply(tmp_path, [S("lib", "usr/lib"), F("lib/libc.so", b"elf"), S("var/run", "/run"),
                            F("var/run/pid", b"1")])
    assert (dest / "usr/lib/libc.so").read_bytes() == b"elf"
    assert (dest / "run/pid").read_bytes() == b"1"  # absolute symlinks resolve in the root
    assert (dest / "lib").is_symlink()


def test_hardlinks_share_the_inode(tmp_path):
    dest = apply(tmp_path, [F("bin/gzip", b"gz", mode=0o755), H("bin/gunzip", "bin/gzip"),
                            H("bin/zcat", "./bin/gzip")])
    ino = (dest / "bin/gzip").stat().st_ino
    assert (dest / "bin/gunzip").stat().st_ino == ino == (dest / "bin/zcat").stat().st_ino
    assert (dest / "bin/gzip").stat().st_nlink == 3


def test_fifo(tmp_path):
    dest = apply(tmp_path, [E("run/fifo", tarfile.FIFOTYPE, mode=0o620)])
    st = (dest / "run/fifo").lstat()
    assert stat.S_ISFIFO(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o620


@as_root
def test_devices_as_root(tmp_path):
    dest = apply(tmp_path, [E("dev/null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3),
                            E("dev/loop9", tarfile.BLKTYPE, mode=0o660, devmajor=7, devminor=9)])
    st = (dest / "dev/null").lstat()
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 3
    assert stat.S_IMODE(st.st_mode) == 0o666
    assert stat.S_ISBLK((dest / "dev/loop9").lstat().st_mode)


@as_root
def test_ownership_as_root(tmp_path):
    dest = apply(tmp_path, [D("home/u", uid=1000, gid=1000), F("etc/shadow", b"s", uid=0, gid=42),
                            S("lnk", "x", uid=33, gid=33), F("bin/su", b"e", mode=0o4755, uid=0, gid=0)])
    assert (dest / "home/u").stat().st_uid == 1000
    assert (dest / "etc/shadow").stat().st_gid == 42
    assert os.lstat(dest / "lnk").st_uid == 33
    assert stat.S_IMODE((dest / "bin/su").stat().st_mode) == 0o4755  # chmod after chown


@as_root
def test_security_capability_xattr(tmp_path):
    cap = struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0)  # rev 2, cap_net_bind_service, effective
    dest = apply(tmp_path, [F("bin/ping", b"e", mode=0o755,
                              pax={"SCHILY.xattr.security.capability": cap.decode("latin-1")})])
    # tarfile writes PAX values as UTF-8; what arrives is those bytes
    got = os.getxattr(dest / "bin/ping", "security.capability")
    assert got == cap


def test_user_xattrs_set_and_overlay_xattrs_dropped(tmp_path):
    dest = apply(tmp_path, [F("f", b"x", pax={"SCHILY.xattr.user.note": "hi",
                                              "SCHILY.xattr.user.overlay.redirect": "/etc",
                                              "SCHILY.xattr.trusted.overlay.opaque": "y"})])
    names = os.listxattr(dest / "f")
    assert os.getxattr(dest / "f", "user.note") == b"hi"
    assert "user.overlay.redirect" not in names and "trusted.overlay.opaque" not in names


def test_whiteouts_become_overlay_whiteouts(tmp_path):
    dest = apply(tmp_path, [D("etc"), F("etc/.wh.motd"), D("var/cache"), F("var/cache/.wh..wh..opq"),
                            F("var/cache/kept", b"k"), F(".wh..wh.plnk"), F("etc/.wh..wh.aufs")])
    st = (dest / "etc/motd").lstat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(dest / "var/cache", "user.overlay.opaque") == b"y"
    assert (dest / "var/cache/kept").read_bytes() == b"k"
    assert sorted(os.listdir(dest)) == ["etc", "var"]
    assert os.listdir(dest / "etc") == ["motd"]


def test_whiteout_replaces_same_layer_entry_and_opaque_xattr_name(tmp_path):
    dest = apply(tmp_path, [F("a/x", b"1"), F("a/.wh.x"), D("a/d"), F("a/d/.wh..wh..opq")],
                 opaque_xattr="user.custom.opaque")
    assert stat.S_ISCHR((dest / "a/x").lstat().st_mode)
    assert os.getxattr(dest / "a/d", "user.custom.opaque") == b"y"


def test_mtimes_of_files_dirs_and_symlinks(tmp_path):
    dest = apply(tmp_path, [D("d", mtime=MTIME + 1), F("d/f", b"x", mtime=MTIME + 2),
                            S("d/l", "f", mtime=MTIME + 3), D("d/sub", mtime=MTIME + 4),
                            F("d/sub/g", b"y", mtime=MTIME + 5)])
    assert (dest / "d").stat().st_mtime == MTIME + 1  # set last, after its children
    assert (dest / "d/f").stat().st_mtime == MTIME + 2
    assert os.lstat(dest / "d/l").st_mtime == MTIME + 3
    assert (dest / "d/sub").stat().st_mtime == MTIME + 4


def test_pax_subsecond_mtime(tmp_path):
    dest = apply(tmp_path, [F("f", b"x", pax={"mtime": "1600000000.123456789"})])
    assert (dest / "f").stat().st_mtime_ns == 1_600_000_000_123_456_789


def test_long_and_non_utf8_names(tmp_path):
    long = "/".join(["d" * 60] * 5) + "/file"
    raw = "caf\udce9/na\udcefve"  # latin-1 bytes, not UTF-8: openat2 binding cannot take them
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        dest = tmp_path / f"dest{fmt}"
        dest.mkdir()
        apply_layer(io.BytesIO(make_tar([F(long, b"L"), F(raw, b"R")], fmt=fmt)), dest)
        assert (dest / long).read_bytes() == b"L"
        with open(os.path.join(os.fsencode(dest), b"caf\xe9", b"na\xefve"), "rb") as fh:
            assert fh.read() == b"R"


def test_replacing_entries(tmp_path):
    dest = apply(tmp_path, [
        F("a", b"file first"), D("a"), F("a/child", b"c"),       # file replaced by a dir
        D("b"), F("b/x", b"x"), F("b", b"now a file"),           # dir (with content) replaced by a file
        D("c", 0o700), F("c/keep", b"k"), D("c", 0o750),          # dir over dir keeps content
        S("s", "/etc/passwd"), F("s", b"no longer a link"),      # symlink replaced, not followed
        F("f", b"old"), F("f", b"new"),                          # file over file
    ])
    assert (dest / "a/child").read_bytes() == b"c"
    assert (dest / "b").read_bytes() == b"now a file"
    assert (dest / "c/keep").read_bytes() == b"k"
    assert stat.S_IMODE((dest / "c").stat().st_mode) == 0o750
    assert (dest / "s").read_bytes() == b"no longer a link"
    assert (dest / "f").read_bytes() == b"new"


def test_root_entry_sets_root_metadata(tmp_path):
    dest = apply(tmp_path, [D("./", 0o751, mtime=MTIME), F("./x", b"1")])
    assert stat.S_IMODE(dest.stat().st_mode) == 0o751
    assert dest.stat().st_mtime == MTIME


def test_empty_stream_is_an_empty_layer(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    result = apply_layer(io.BytesIO(b""), dest)
    assert result.diff_id == "sha256:" + hashlib.sha256(b"").hexdigest() and result.size == 0
    assert os.listdir(dest) == []


COMPRESSORS = {
    "plain": lambda b: b,
    "gzip": gzip.compress,
    "gzip-multimember": lambda b: gzip.compress(b[:700]) + gzip.compress(b[700:]),
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    "xz": lzma.compress,
    "bzip2": bz2.compress,
}


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_diff_id_covers_the_whole_uncompressed_stream(tmp_path, kind):
    tar = make_tar([F("a", os.urandom(3000)), D("b"), F("b/c", b"c")]) + bytes(10240)  # extra padding
    dest = tmp_path / "dest"
    dest.mkdir()
    result = apply_layer(io.BytesIO(COMPRESSORS[kind](tar)), dest)
    assert result.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert result.size == len(tar)
    assert (dest / "b/c").read_bytes() == b"c"


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar makes the sparse archives")
@pytest.mark.parametrize("fmt", [["--format=gnu"], ["--format=posix"],
                                 ["--format=posix", "--sparse-version=0.1"]])
def test_sparse_files_from_gnu_tar(tmp_path, fmt):
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "sparse", "wb") as fh:
        fh.truncate(64 << 20)
        fh.seek(5 << 20)
        fh.write(b"hello")
        fh.seek((64 << 20) - 3)
        fh.write(b"end")
    out = tmp_path / "sparse.tar"
    subprocess.run(["tar", "-C", str(src), "--sparse", *fmt, "-cf", str(out), "sparse"], check=True)
    assert out.stat().st_size < (1 << 20)
    dest = tmp_path / "dest"
    dest.mkdir()
    apply_layer(open(out, "rb"), dest)
    got = dest / "sparse"
    assert got.stat().st_size == 64 << 20
    with open(got, "rb") as fh:
        fh.seek(5 << 20)
        assert fh.read(5) == b"hello"
        fh.seek((64 << 20) - 3)
        assert fh.read() == b"end"
    assert got.stat().st_blocks * 512 < (8 << 20)  # holes stayed holes


def test_base256_uid_and_big_numbers(tmp_path):
    # GNU format writes ids >= 8**7 in base-256
    entries = [F("f", b"x", uid=3_000_000, gid=3_000_001)]
    buf = make_tar(entries, fmt=tarfile.GNU_FORMAT)
    from engine.archive.limits import DEFAULT_LIMITS
    from engine.archive.tarstream import TarReader
    reader = TarReader(io.BytesIO(buf), DEFAULT_LIMITS)
    entry = reader.next()
    assert (entry.uid, entry.gid) == (3_000_000, 3_000_001)


def test_no_fd_leaks_on_success_or_refusal(tmp_path):
    def open_fds() -> set[int]:
        # Compare sets, not counts: other tests' objects may be closed by the
        # garbage collector meanwhile; a leak is an fd that is new afterwards.
        import gc

        gc.collect()
        return {int(fd) for fd in os.listdir("/proc/self/fd")}

    good = make_tar([D("a"), F("a/f", b"x"), S("l", "a"), F("l/g", b"y"), H("h", "a/f")])
    bad = make_tar([D("a"), F("a/f", b"x"), F("../escape", b"z")])
    before = open_fds()
    for i in range(3):
        (tmp_path / f"good{i}").mkdir()
        apply_layer(io.BytesIO(gzip.compress(good)), tmp_path / f"good{i}")
        (tmp_path / f"bad{i}").mkdir()
        with pytest.raises(UnsafeArchive):
            apply_layer(io.BytesIO(gzip.compress(bad)), tmp_path / f"bad{i}")
    assert open_fds() - before == set()
