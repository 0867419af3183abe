"""open_decompressed: sniffing, every format, concatenated frames, caps, corrupt input; GzipWriter."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os

import pytest
import zstandard

from engine.archive.compression import GzipWriter, compress_gzip_stream, open_decompressed, sniff
from engine.archive.limits import Limits
from engine.errors import UnsafeArchive

DATA = os.urandom(50_000) * 20 + b"tail"


class Trickle(io.RawIOBase):
    """A source that hands out at most 7 bytes per read, like a slow pipe."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._buf.read(min(7, n if n >= 0 else 7))


def read_all(blob: bytes, limits: Limits = Limits(), trickle: bool = False) -> tuple[str, bytes]:
    reader = open_decompressed(Trickle(blob) if trickle else io.BytesIO(blob), limits)
    parts = []
    while chunk := reader.read(1 << 20):
        parts.append(chunk)
    return reader.kind, b"".join(parts)


FORMATS = {
    "none": lambda d: d,
    "gzip": gzip.compress,
    "zstd": lambda d: zstandard.ZstdCompressor().compress(d),
    "xz": lzma.compress,
    "bzip2": bz2.compress,
}


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_each_format_round_trips(kind):
    assert read_all(FORMATS[kind](DATA)) == (kind, DATA)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_slow_source(kind):
    assert read_all(FORMATS[kind](DATA[:20_000]), trickle=True) == (kind, DATA[:20_000])


def test_concatenated_members_and_zero_padding():
    blob = gzip.compress(DATA[:10]) + gzip.compress(DATA[10:]) + bytes(100)
    assert read_all(blob) == ("gzip", DATA)
    zc = zstandard.ZstdCompressor()
    assert read_all(zc.compress(DATA[:10]) + zc.compress(DATA[10:])) == ("zstd", DATA)
    assert read_all(lzma.compress(DATA[:10]) + lzma.compress(DATA[10:])) == ("xz", DATA)


def test_sniff():
    assert sniff(b"\x1f\x8b\x08") == "gzip"
    assert sniff(b"\x28\xb5\x2f\xfd") == "zstd"
    assert sniff(b"\x50\x2a\x4d\x18") == "zstd"  # skippable frame
    assert sniff(b"\xfd7zXZ\x00") == "xz"
    assert sniff(b"BZh9") == "bzip2"
    assert sniff(b"BZhX") == "none"
    assert sniff(b"etc/passwd\0") == "none"


@pytest.mark.parametrize("kind", ["gzip", "zstd", "xz", "bzip2"])
def test_truncated_streams_are_refused(kind):
    blob = FORMATS[kind](DATA)
    with pytest.raises(UnsafeArchive, match="truncated|not valid"):
        read_all(blob[:-8])


def test_trailing_garbage_after_gzip():
    with pytest.raises(UnsafeArchive, match="garbage"):
        read_all(gzip.compress(DATA) + b"junk")


def test_zstd_window_cap():
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=27)
    cobj = zstandard.ZstdCompressor(compression_params=params).compressobj()  # size unknown
    blob = cobj.compress(DATA) + cobj.flush()
    assert read_all(blob)[1] == DATA  # fine under the default 2^27 cap
    with pytest.raises(UnsafeArchive, match="not valid zstd"):
        read_all(blob, Limits(max_zstd_window=1 << 20))


@pytest.mark.parametrize("kind", ["gzip", "zstd", "xz", "bzip2"])
def test_ratio_cap(kind):
    blob = FORMATS[kind](bytes(8 << 20))
    with pytest.raises(UnsafeArchive, match=r"100:1 compression ratio \(decompression bomb\?\)"):
        read_all(blob, Limits(max_ratio=100, ratio_check_after=1 << 20))


def test_ratio_is_not_checked_for_plain_streams():
    assert read_all(bytes(4 << 20), Limits(max_ratio=2, ratio_check_after=1))[1] == bytes(4 << 20)


def test_total_cap_applies_to_plain_streams_too():
    with pytest.raises(UnsafeArchive, match="exceeds 1000 bytes uncompressed"):
        read_all(bytes(5000), Limits(max_uncompressed_bytes=1000))


def test_reads_are_bounded():
    reader = open_decompressed(io.BytesIO(gzip.compress(bytes(64 << 20))))
    assert 0 < len(reader.read(4096)) <= 4096
    assert len(reader.read(-1)) <= 1 << 20  # never an unbounded read


def test_gzip_writer_is_deterministic_and_counts():
    out1, out2 = io.BytesIO(), io.BytesIO()
    n = compress_gzip_stream(io.BytesIO(DATA), out1)
    with GzipWriter(out2) as writer:
        writer.write(DATA[:1000])
        writer.write(DATA[1000:])
    assert n == len(out1.getvalue()) == writer.compressed_bytes
    assert out1.getvalue() == out2.getvalue()
    assert gzip.decompress(out1.getvalue()) == DATA
