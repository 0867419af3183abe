"""Streaming decompression of layer blobs, sniffed by magic bytes, with bomb caps.

Everything runs in-process (zlib, zstandard, lzma, bz2): never an external
`unpigz`/`xz` (CVE-2026-41567).  Every decoder is fed small input slices, or
asked for bounded output, so one call can never balloon memory, and the running
totals are checked against `Limits` after each step.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from typing import BinaryIO

from engine.archive.limits import DEFAULT_LIMITS, Limits
from engine.errors import UnsafeArchive

try:  # ISA-L inflates ~2x and deflates ~7x faster than zlib when installed; same API
    from isal import isal_zlib as _inflate_mod  # type: ignore[import-not-found]
    _ISAL_MAX_LEVEL = 3
except ImportError:  # pragma: no cover - depends on the environment
    _inflate_mod = zlib
    _ISAL_MAX_LEVEL = None

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
XZ_MAGIC = b"\xfd7zXZ\x00"
BZIP2_MAGIC = b"BZh"

READ_SIZE = 256 * 1024        # compressed bytes read from the source at once
OUT_SIZE = 1024 * 1024        # most uncompressed bytes handed out per read()
# A zstd RLE block turns 4 input bytes into 128 KiB: feeding 2 KiB at a time
# bounds one call's output to 64 MiB whatever the input.
ZSTD_FEED = 2048


def sniff(prefix: bytes) -> str:
    """Name the compression of a stream from its first bytes."""
    if prefix.startswith(GZIP_MAGIC):
        return "gzip"
    if prefix.startswith(ZSTD_MAGIC) or (len(prefix) >= 4 and prefix[0] & 0xF0 == 0x50
                                         and prefix[1:4] == b"\x2a\x4d\x18"):
        return "zstd"  # a frame, or a skippable frame (0x184D2A5?)
    if prefix.startswith(XZ_MAGIC):
        return "xz"
    if prefix.startswith(BZIP2_MAGIC) and len(prefix) >= 4 and prefix[3:4] in b"123456789":
        return "bzip2"
    return "none"


class DecompressedReader:
    """`read(n)` returns 1..n uncompressed bytes, b"" at the end; raises on caps."""

    kind = "none"

    def __init__(self, source: BinaryIO, limits: Limits, first: bytes, compressed: int) -> None:
        self._src = source
        self._limits = limits
        self._pending = first        # compressed bytes read but not yet fed
        self._src_eof = not first
        self.compressed_bytes = compressed
        self.uncompressed_bytes = 0

    # -- source side -----------------------------------------------------------------
    def _read_src(self, size: int) -> bytes:
        if self._src_eof:
            return b""
        data = self._src.read(size)
        if not data:
            self._src_eof = True
            return b""
        self.compressed_bytes += len(data)
        return data

    def _take_input(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        return self._read_src(READ_SIZE)

    # -- caps --------------------------------------------------------------------------
    def _account(self, n: int) -> None:
        total = self.uncompressed_bytes + n
        self.uncompressed_bytes = total
        lim = self._limits
        if total > lim.max_uncompressed_bytes:
            raise UnsafeArchive(f"layer exceeds {lim.max_uncompressed_bytes} bytes uncompressed"
                                " (decompression bomb?)")
        if (self.kind != "none" and total > lim.ratio_check_after
                and total > lim.max_ratio * max(self.compressed_bytes, 1)):
            raise UnsafeArchive(f"layer exceeds a {lim.max_ratio}:1 compression ratio"
                                " (decompression bomb?)")

    # -- reading -----------------------------------------------------------------------
    def read(self, size: int = OUT_SIZE, /) -> bytes:
        if size is None or size < 0:
            size = OUT_SIZE  # never unbounded: that is what a bomb wants
        data = self._read_some(max(1, min(size, OUT_SIZE)))
        if data:
            self._account(len(data))
        return data

    def _read_some(self, size: int) -> bytes:
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        return self._read_src(size)

    def _next_member(self, rest: bytes) -> bytes:
        """Bytes after a finished frame: b"" at a clean end, else the next frame's start."""
        rest = rest.lstrip(b"\0")  # zero padding after the last frame is tolerated
        while not rest:
            more = self._take_input()
            if not more:
                return b""
            rest = more.lstrip(b"\0")
        return rest

    def close(self) -> None:
        pass


class _GzipReader(DecompressedReader):
    """gzip, possibly several members back to back (pigz, concatenated streams)."""

    kind = "gzip"

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self._d = _inflate_mod.decompressobj(31)

    def _read_some(self, size: int) -> bytes:
        while True:
            d = self._d
            if d.eof:
                rest = self._next_member(d.unused_data)
                if not rest:
                    return b""
                if len(rest) < 2:
                    rest += self._take_input()
                if not rest.startswith(GZIP_MAGIC):
                    raise UnsafeArchive("layer is not valid gzip: garbage after the compressed stream")
                self._d = d = _inflate_mod.decompressobj(31)
                self._pending = rest
            chunk = d.unconsumed_tail or self._take_input()
            if not chunk:
                raise UnsafeArchive("layer is not valid gzip: unexpected end of stream (truncated?)")
            try:
                out = d.decompress(chunk, size)
            except Exception as exc:  # zlib.error (or isal's): corrupt data
                raise UnsafeArchive(f"layer is not valid gzip: {exc}") from None
            if out:
                return out


class _ZstdReader(DecompressedReader):
    kind = "zstd"

    def __init__(self, *args) -> None:
        super().__init__(*args)
        import zstandard  # imported lazily: most commands never decompress

        self._error = zstandard.ZstdError
        self._dctx = zstandard.ZstdDecompressor(max_window_size=self._limits.max_zstd_window)
        self._d = self._dctx.decompressobj(write_size=OUT_SIZE)
        self._buf = memoryview(b"")  # compressed input not yet fed
        self._out = b""              # decoded bytes not yet handed out

    def _read_some(self, size: int) -> bytes:
        if self._out:
            data, self._out = self._out[:size], self._out[size:]
            return data
        while True:
            if self._d.eof:
                rest = self._next_member(bytes(self._d.unused_data) + bytes(self._buf))
                if not rest:
                    return b""
                self._buf = memoryview(rest)
                self._d = self._dctx.decompressobj(write_size=OUT_SIZE)
            if not self._buf:
                more = self._take_input()
                if not more:
                    raise UnsafeArchive("layer is not valid zstd: unexpected end of stream (truncated?)")
                self._buf = memoryview(more)
            feed, self._buf = self._buf[:ZSTD_FEED], self._buf[ZSTD_FEED:]
            try:
                out = self._d.decompress(feed)
            except self._error as exc:
                raise UnsafeArchive(f"layer is not valid zstd: {exc}") from None
            if out:
                data, self._out = out[:size], out[size:]
                return data


class _StdlibReader(DecompressedReader):
    """xz and bzip2 through lzma/bz2, whose decoders take max_length."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self._d = self._new()

    def _new(self):
        if self.kind == "xz":
            return lzma.LZMADecompressor(memlimit=self._limits.max_xz_memory)
        return bz2.BZ2Decompressor()

    def _read_some(self, size: int) -> bytes:
        while True:
            d = self._d
            if d.eof:
                rest = self._next_member(d.unused_data)
                if not rest:
                    return b""
                self._d = d = self._new()
                self._pending = rest
            chunk = b""
            if d.needs_input:
                chunk = self._take_input()
                if not chunk:
                    raise UnsafeArchive(f"layer is not valid {self.kind}: unexpected end of stream (truncated?)")
            try:
                out = d.decompress(chunk, size)
            except (lzma.LZMAError, OSError, EOFError, ValueError) as exc:
                raise UnsafeArchive(f"layer is not valid {self.kind}: {exc}") from None
            if out:
                return out


class _XzReader(_StdlibReader):
    kind = "xz"


class _Bzip2Reader(_StdlibReader):
    kind = "bzip2"


_READERS: dict[str, type[DecompressedReader]] = {
    "none": DecompressedReader, "gzip": _GzipReader, "zstd": _ZstdReader,
    "xz": _XzReader, "bzip2": _Bzip2Reader,
}


def open_decompressed(stream: BinaryIO, limits: Limits = DEFAULT_LIMITS) -> DecompressedReader:
    """Wrap a (possibly compressed) blob stream; `.kind` says what was found."""
    first = stream.read(READ_SIZE)
    while 0 < len(first) < 8:  # a slow pipe may hand out fewer bytes than the magic
        more = stream.read(READ_SIZE)
        if not more:
            break
        first += more
    return _READERS[sniff(first)](stream, limits, first, len(first))


class GzipWriter:
    """A write-only gzip stream over `out` (for push and save): `write()`, then `close()`.

    Counts the compressed bytes it produced in `.compressed_bytes`; `close()` does not
    close `out`.  mtime 0 and no file name in the header keep the output deterministic
    for one deflate implementation (ISA-L's levels stop at 3, so `level` is capped there
    when it is used; zlib otherwise).
    """

    def __init__(self, out: BinaryIO, level: int = 6) -> None:
        self._out = out
        if _ISAL_MAX_LEVEL is not None:
            self._c = _inflate_mod.compressobj(min(level, _ISAL_MAX_LEVEL), zlib.DEFLATED, 31)
        else:
            self._c = zlib.compressobj(level, zlib.DEFLATED, 31)
        self.compressed_bytes = 0
        self._closed = False
        # Fed in fixed-size blocks: ISA-L's output depends on how input is split,
        # and the bytes must not depend on the caller's write sizes.
        self._pending = bytearray()

    def _emit(self, data: bytes) -> None:
        if data:
            self._out.write(data)
            self.compressed_bytes += len(data)

    def write(self, data: bytes) -> int:
        self._pending += data
        if len(self._pending) >= READ_SIZE:
            whole = len(self._pending) - len(self._pending) % READ_SIZE
            view = memoryview(self._pending)
            for start in range(0, whole, READ_SIZE):
                self._emit(self._c.compress(view[start:start + READ_SIZE]))
            view.release()
            del self._pending[:whole]
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._emit(self._c.compress(bytes(self._pending)))
            self._pending.clear()
            self._emit(self._c.flush())

    def __enter__(self) -> "GzipWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def compress_gzip_stream(src: BinaryIO, out: BinaryIO, level: int = 6, bufsize: int = READ_SIZE) -> int:
    """Copy `src` to `out` gzip-compressed; returns the number of compressed bytes."""
    with GzipWriter(out, level) as writer:
        while chunk := src.read(bufsize):
            writer.write(chunk)
    return writer.compressed_bytes
