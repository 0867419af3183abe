"""Hostile layers: each is refused or lands inside dest; nothing outside dest changes.

Cases from containers/storage (TestUntarInvalidFilenames/Hardlink/Symlink,
TestChrootApplyDotDotFile), moby/go-archive (TestUntarSymlinkBreakout,
TestUnpackRejectsRelativeEscapeBeforeAbsoluteSymlink, TestOverlayUntarInvalidWhiteoutNames)
and the whiteout-under-symlink case of ../shared/reference/security_anchors.md.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import zlib

import pytest

from engine.archive.extract import apply_layer
from engine.archive.limits import Limits
from engine.errors import StorageError, UnsafeArchive

from archive_layers import HELLO, D, E, F, H, S, make_tar, snapshot

pytestmark = pytest.mark.usefixtures("resolver")


def run(breakout, entries, *, refused: bool):
    before = snapshot(breakout.tmp, breakout.dest)
    layer = make_tar(entries)
    if refused:
        with pytest.raises(UnsafeArchive) as info:
            apply_layer(io.BytesIO(layer), breakout.dest)
        assert "\n" not in str(info.value)
    else:
        apply_layer(io.BytesIO(layer), breakout.dest)
    breakout.assert_contained(before)
    return breakout.dest


# -- names ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../victim/dotdot", "/../victim/slash-dotdot", "a/../../victim/x",
                                  "./../victim/x", "a/b/../../../victim/x", ".."])
def test_dotdot_names_are_refused(breakout, name):
    run(breakout, [F(name, b"pwned")], refused=True)


def test_error_names_the_entry(breakout):
    with pytest.raises(UnsafeArchive, match=r"\.\./victim/dotdot"):
        apply_layer(io.BytesIO(make_tar([F("../victim/dotdot", b"x")])), breakout.dest)


def test_dotdot_prefix_is_a_plain_name(breakout):
    dest = run(breakout, [F("..gitme", b"ok"), F("a/..b", b"ok2")], refused=False)
    assert (dest / "..gitme").read_bytes() == b"ok"
    assert (dest / "a" / "..b").read_bytes() == b"ok2"


def test_absolute_names_are_relative_to_dest(breakout):
    dest = run(breakout, [F(str(breakout.victim / "hello"), b"pwned"), F("/etc/x", b"y")],
               refused=False)
    inside = dest / str(breakout.victim / "hello").lstrip("/")
    assert inside.read_bytes() == b"pwned"
    assert (dest / "etc" / "x").read_bytes() == b"y"


# -- symlink chains ------------------------------------------------------------------
def test_symlink_chain_climbing_out_stays_inside(breakout):
    dest = run(breakout, [S("a", ".."), S("a/b", "../victim"), F("a/b/file", b"pwned")],
               refused=False)
    # a -> .. is the root itself in-root, so a/b is dest/b -> ../victim = dest/victim
    assert (dest / "victim" / "file").read_bytes() == b"pwned"


def test_go_archive_symlink_breakout(breakout):
    dest = run(breakout, [D("inner"), S("inner/go_up", ".."), S("inner/go_up/escape", "../victim"),
                          F("inner/go_up/escape/newfile", b"pwned")], refused=False)
    assert (dest / "victim" / "newfile").read_bytes() == b"pwned"


def test_relative_escape_then_absolute_symlink(breakout):
    dest = run(breakout, [S("escape", ".."), S("absolute", str(breakout.victim)),
                          F("escape/absolute/file", b"pwned")], refused=False)
    assert (dest / str(breakout.victim).lstrip("/") / "file").read_bytes() == b"pwned"


def test_symlink_to_host_file_is_replaced_not_followed(breakout):
    dest = run(breakout, [S("link", str(breakout.victim / "hello")), F("link", b"pwned")],
               refused=False)
    assert (dest / "link").read_bytes() == b"pwned"
    assert not (dest / "link").is_symlink()


def test_relative_symlink_loophole(breakout):
    dest = run(breakout, [S("loophole", "../victim"), F("loophole/hello", b"pwned")], refused=False)
    assert (dest / "victim" / "hello").read_bytes() == b"pwned"


def test_deep_relative_symlink(breakout):
    run(breakout, [D("dir"), S("dir/loophole", "../../victim"), F("dir/loophole/x", b"pwned")],
        refused=False)


def test_planted_symlink_already_in_dest(breakout):
    # A symlink left in dest (say by a lower layer) pointing at the host.
    os.symlink(str(breakout.victim), breakout.dest / "x")
    dest = run(breakout, [F("x/authorized_keys", b"pwned"), F("x/hello", b"pwned")], refused=False)
    assert (dest / str(breakout.victim).lstrip("/") / "authorized_keys").read_bytes() == b"pwned"


def test_symlink_loop_is_refused(breakout):
    run(breakout, [S("a", "b"), S("b", "a"), F("a/file", b"x")], refused=True)


# -- hardlinks -----------------------------------------------------------------------
@pytest.mark.parametrize("target", ["../victim/hello", "/../victim/hello", "./../victim/hello"])
def test_hardlink_with_dotdot_is_refused(breakout, target):
    run(breakout, [H("link", target)], refused=True)


def test_hardlink_to_the_root_is_refused(breakout):
    run(breakout, [D("./"), H("link", "./")], refused=True)


def test_hardlink_to_host_absolute_path_is_refused(breakout):
    run(breakout, [H("link", str(breakout.victim / "hello"))], refused=True)


def test_hardlink_through_symlink_loophole_is_refused(breakout):
    run(breakout, [S("loophole", "../victim"), H("loophole-hl", "loophole/hello")], refused=True)


def test_hardlink_to_earlier_entry_via_absolute_name(breakout):
    dest = run(breakout, [F("etc/passwd", b"root:x:0:0"), H("hl", "/etc/passwd")], refused=False)
    assert os.stat(dest / "hl").st_ino == os.stat(dest / "etc" / "passwd").st_ino


def test_hardlink_to_symlink_links_the_symlink(breakout):
    dest = run(breakout, [S("symlink", "../victim/hello"), H("hl", "symlink")], refused=False)
    assert (dest / "hl").is_symlink()
    assert os.lstat(dest / "hl").st_ino == os.lstat(dest / "symlink").st_ino


def test_hardlink_to_planted_file_is_refused(breakout):
    # not an entry of this layer, even though it is inside dest
    os.symlink(str(breakout.victim / "hello"), breakout.dest / "planted")
    run(breakout, [H("hl", "planted")], refused=True)


# -- whiteouts -----------------------------------------------------------------------
@pytest.mark.parametrize("name", [".wh.", ".wh..", ".wh...", "dir/.wh..", "dir/.wh..."])
def test_invalid_whiteout_names_are_refused(breakout, name):
    run(breakout, [D("dir"), F(name)], refused=True)


def test_whiteout_under_symlinked_parent(breakout):
    probe = breakout.tmp / "probe"
    dest = run(breakout, [S("etc", str(probe)), F("etc/.wh.victim")], refused=False)
    assert not probe.exists()
    made = dest / str(probe).lstrip("/") / "victim"
    assert stat.S_ISCHR(made.lstat().st_mode)


def test_whiteout_through_symlink_to_victim(breakout):
    dest = run(breakout, [S("etc", "../victim"), F("etc/.wh.hello")], refused=False)
    assert stat.S_ISCHR((dest / "victim" / "hello").lstat().st_mode)


def test_non_empty_whiteout_is_refused(breakout):
    run(breakout, [F(".wh.something", b"data")], refused=True)


def test_whiteout_cannot_remove_host_file_via_planted_symlink(breakout):
    os.symlink(str(breakout.victim), breakout.dest / "v")
    run(breakout, [F("v/.wh.hello")], refused=False)


# -- bombs and corrupt streams -------------------------------------------------------
def _zeros_bomb(zeros: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(make_tar([]))]
    block = bytes(1 << 20)
    for _ in range(zeros >> 20):
        parts.append(comp.compress(block))
    parts.append(comp.flush())
    return b"".join(parts)


def test_gzip_bomb_is_refused_by_ratio(breakout):
    bomb = _zeros_bomb(64 << 20)  # an empty tar followed by 64 MiB of zeros: ~1030:1
    limits = Limits(max_ratio=100, ratio_check_after=1 << 20)
    before = snapshot(breakout.tmp, breakout.dest)
    with pytest.raises(UnsafeArchive, match="decompression bomb"):
        apply_layer(io.BytesIO(bomb), breakout.dest, limits)
    breakout.assert_contained(before)


def test_gzip_bomb_is_refused_by_total_size(breakout):
    bomb = _zeros_bomb(16 << 20)
    with pytest.raises(UnsafeArchive, match="exceeds 4194304 bytes uncompressed"):
        apply_layer(io.BytesIO(bomb), breakout.dest, Limits(max_uncompressed_bytes=4 << 20))


def test_huge_file_entry_is_refused_by_total_size(breakout):
    layer = gzip.compress(make_tar([F("big", bytes(8 << 20))]))
    with pytest.raises(UnsafeArchive, match="decompression bomb"):
        apply_layer(io.BytesIO(layer), breakout.dest, Limits(max_uncompressed_bytes=1 << 20))


def test_truncated_gzip(breakout):
    layer = gzip.compress(make_tar([F("f", os.urandom(100_000))]))
    with pytest.raises(UnsafeArchive, match="truncated"):
        apply_layer(io.BytesIO(layer[:len(layer) // 2]), breakout.dest)


def test_corrupt_gzip(breakout):
    layer = bytearray(gzip.compress(make_tar([F("f", os.urandom(100_000))])))
    layer[200:260] = b"\xff" * 60
    with pytest.raises(UnsafeArchive, match="not valid gzip"):
        apply_layer(io.BytesIO(bytes(layer)), breakout.dest)


def test_truncated_plain_tar(breakout):
    layer = make_tar([F("f", os.urandom(100_000))])
    with pytest.raises(UnsafeArchive, match="truncated"):
        apply_layer(io.BytesIO(layer[:50_000]), breakout.dest)


def test_xz_payload_is_never_executed(breakout, monkeypatch):
    # moby TestCopyToContainerXZBinaryNotExecutedOnDaemon: xz magic + junk
    import subprocess

    def no_exec(*a, **k):
        raise AssertionError("a helper process was started")
    monkeypatch.setattr(subprocess, "Popen", no_exec)
    with pytest.raises(UnsafeArchive, match="not valid xz"):
        apply_layer(io.BytesIO(b"\xfd7zXZ\x00" + b"junk" * 100), breakout.dest)


def test_bad_checksum(breakout):
    layer = bytearray(make_tar([F("f", b"data")]))
    layer[0] = ord("g")
    with pytest.raises(UnsafeArchive, match="checksum"):
        apply_layer(io.BytesIO(bytes(layer)), breakout.dest)


def test_pax_header_cap(breakout):
    layer = make_tar([F("f", b"x", pax={"comment": "y" * 5000})])
    with pytest.raises(UnsafeArchive, match="PAX header"):
        apply_layer(io.BytesIO(layer), breakout.dest, Limits(max_pax_header_bytes=4096))


def test_entry_count_cap(breakout):
    layer = make_tar([F(f"f{i}") for i in range(20)])
    with pytest.raises(UnsafeArchive, match="more than 10 entries"):
        apply_layer(io.BytesIO(layer), breakout.dest, Limits(max_entries=10))


def test_path_length_cap(breakout):
    layer = make_tar([F("d/" * 30 + "f")])
    with pytest.raises(UnsafeArchive, match="longer than 50 bytes"):
        apply_layer(io.BytesIO(layer), breakout.dest, Limits(max_path_length=50))


def test_unknown_entry_type_is_refused(breakout):
    run(breakout, [E("weird", b"Z")], refused=True)


def test_file_over_non_directory_parent(breakout):
    # "f/x" where f is a regular file: an error, not a crash, nothing outside touched
    before = snapshot(breakout.tmp, breakout.dest)
    with pytest.raises((UnsafeArchive, StorageError)):
        apply_layer(io.BytesIO(make_tar([F("f", b"1"), F("f/x", HELLO)])), breakout.dest)
    breakout.assert_contained(before)
