"""TarReader: header formats, PAX records, caps and corrupt headers."""

from __future__ import annotations

import io
import tarfile

import pytest
from archive_layers import D, F, S, make_tar

from engine.archive.limits import Limits
from engine.archive.tarstream import DIR, REG, SYM, TarReader, _pax_records
from engine.errors import UnsafeArchive


def entries(data: bytes, limits: Limits = Limits()) -> list:
    reader = TarReader(io.BytesIO(data), limits)
    out = []
    while (e := reader.next()) is not None:
        out.append(e)
    reader.drain()
    return out


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_formats_agree(fmt):
    long_dir = "p" * 120 if fmt != tarfile.USTAR_FORMAT else "p" * 60 + "/" + "q" * 60
    got = entries(make_tar([D(long_dir), F(long_dir + "/file", b"data", uid=33, gid=34, mode=0o4755),
                            S("link", "t" * (99 if fmt == tarfile.USTAR_FORMAT else 300))], fmt=fmt))
    assert [e.type for e in got] == [DIR, REG, SYM]
    assert got[0].name.rstrip(b"/") == long_dir.encode()
    assert got[1].name == (long_dir + "/file").encode()
    assert (got[1].uid, got[1].gid, got[1].mode, got[1].size) == (33, 34, 0o4755, 4)
    assert got[2].linkname.startswith(b"ttt") and got[2].size == 0


def test_global_pax_header_applies_to_later_entries():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      pax_headers={"SCHILY.xattr.user.g": "1"}) as tar:
        info = tarfile.TarInfo("f")
        tar.addfile(info)
    got = entries(buf.getvalue())
    assert got[0].xattrs == {b"user.g": b"1"}


def test_pax_records_parse_binary_values():
    record = b"user.x=\x00\n\xff"
    line = b" SCHILY.xattr." + record + b"\n"
    n = len(line) + 2
    data = str(n).encode() + line
    assert len(data) == n
    assert _pax_records(data) == {b"SCHILY.xattr.user.x": b"\x00\n\xff"}


@pytest.mark.parametrize("bad", [b"99 path=x\n", b"5 p\n", b"abc path=x\n", b"11 path=x\nX"])
def test_bad_pax_records(bad):
    with pytest.raises(UnsafeArchive, match="PAX"):
        _pax_records(bad)


def test_header_only_types_ignore_their_size_field():
    # a symlink header claiming 1000 bytes of data must not swallow the next header
    info = tarfile.TarInfo("l")
    info.type, info.linkname, info.size = tarfile.SYMTYPE, "t", 1000
    header = info.tobuf(tarfile.USTAR_FORMAT)
    got = entries(header + make_tar([F("after", b"x")]))
    assert [e.name for e in got] == [b"l", b"after"]


def test_long_gnu_name_is_capped():
    data = make_tar([F("d/" * 3000 + "f", b"x")], fmt=tarfile.GNU_FORMAT)
    with pytest.raises(UnsafeArchive, match="GNU long name"):
        entries(data, Limits(max_pax_header_bytes=1024))


def test_extended_header_without_entry():
    data = make_tar([F("x" * 200, b"x")])
    pax_only = data[:1024]  # the PAX header block and its data, then end of stream
    with pytest.raises(UnsafeArchive):
        entries(pax_only + bytes(1024))


def test_trailing_bytes_are_read():
    data = make_tar([F("a", b"1")]) + b"\x00" * 4096 + b"junk after the end"
    reader = TarReader(io.BytesIO(data), Limits())
    assert reader.next().name == b"a"
    assert reader.next() is None
    reader.drain()
    assert reader._reader.read(10) == b""  # the whole stream was consumed
