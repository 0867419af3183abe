"""A small streaming tar reader: ustar, PAX (x/g), GNU long names and sparse files.

Hand-written rather than `tarfile` because layers are hostile and big: it keeps
names as bytes (no encoding guesses), caps every header it buffers, and hands
file data to the caller as memoryview slices of its read buffer, so each byte is
copied once.  `drain()` reads to the end of the stream: a layer's diff ID covers
all of it, trailing zeros included (the reader passed in does the hashing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from engine.archive.limits import Limits
from engine.errors import UnsafeArchive

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
READ_CHUNK = 1024 * 1024

# Type flags (bytes of length 1)
REG, AREG, CONTIG = b"0", b"\0", b"7"
LNK, SYM, CHR, BLK, DIR, FIFO = b"1", b"2", b"3", b"4", b"5", b"6"
PAX, GPAX, GNU_LONGNAME, GNU_LONGLINK, GNU_SPARSE = b"x", b"g", b"L", b"K", b"S"
GNU_DUMPDIR, GNU_VOLHDR = b"D", b"V"
FILE_TYPES = frozenset((REG, AREG, CONTIG, GNU_SPARSE))
HEADER_ONLY = frozenset((LNK, SYM, CHR, BLK, DIR, FIFO))


@dataclass(slots=True)
class Entry:
    name: bytes
    type: bytes
    mode: int
    uid: int
    gid: int
    size: int                         # data bytes stored in the archive
    mtime_ns: int
    atime_ns: int
    linkname: bytes = b""
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[bytes, bytes] = field(default_factory=dict)
    # Sparse files: [(offset, length)] regions and the file's logical size.
    sparse: list[tuple[int, int]] | None = None
    real_size: int = 0


def _bad(msg: str) -> UnsafeArchive:
    return UnsafeArchive(f"layer is not a valid tar archive: {msg}")


def _num(raw: bytes, what: str) -> int:
    """An octal (ustar) or base-256 (GNU, for big values) numeric field."""
    if raw and raw[0] & 0x80:
        value = int.from_bytes(raw, "big") & ~(0x80 << (8 * (len(raw) - 1)))
        if raw[0] == 0xFF:  # negative in two's complement
            value = int.from_bytes(raw, "big") - (1 << (8 * len(raw)))
        return value
    text = raw.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise _bad(f"bad number in {what} field") from None


def _pax_time_ns(text: bytes) -> int:
    try:
        neg = text.startswith(b"-")
        whole, _, frac = text.lstrip(b"-").partition(b".")
        ns = int(whole or b"0") * 1_000_000_000 + int((frac[:9] or b"0").ljust(9, b"0"))
    except ValueError:
        raise _bad("bad PAX time") from None
    return -ns if neg else ns


def _pax_records(data: bytes) -> dict[bytes, bytes]:
    """`<len> <key>=<value>\\n` records; values may hold any byte (xattrs)."""
    out: dict[bytes, bytes] = {}
    pos, end = 0, len(data)
    while pos < end:
        if data[pos] == 0:  # NUL padding at the end
            break
        sp = data.find(b" ", pos, pos + 21)
        if sp < 0:
            raise _bad("bad PAX record")
        try:
            length = int(data[pos:sp])
        except ValueError:
            raise _bad("bad PAX record length") from None
        if length <= sp - pos + 1 or pos + length > end or data[pos + length - 1] != 0x0A:
            raise _bad("bad PAX record length")
        key, eq, value = data[sp + 1:pos + length - 1].partition(b"=")
        if not eq or not key:
            raise _bad("bad PAX record")
        out[key] = value
        pos += length
    return out


class TarReader:
    """Iterate entries of an uncompressed tar stream (`reader.read(n)`)."""

    # Usage: `while (e := tar.next()) is not None: ...` (optionally `tar.write_data(e, fd)`),
    # then `tar.drain()`.

    def __init__(self, reader, limits: Limits) -> None:
        self._reader = reader
        self._limits = limits
        self._buf = b""
        self._mv = memoryview(b"")
        self._pos = 0
        self._eof = False
        self._skip = 0                 # unread data + padding of the current entry
        self._global: dict[bytes, bytes] = {}
        self.entries = 0

    # -- buffer ----------------------------------------------------------------------
    def _refill(self) -> bool:
        """Append one more chunk to the unread buffer; False at the end of the stream."""
        if self._eof:
            return False
        chunk = self._reader.read(READ_CHUNK)
        if not chunk:
            self._eof = True
            return False
        rest = self._buf[self._pos:]
        self._buf = rest + chunk if rest else chunk
        self._mv = memoryview(self._buf)
        self._pos = 0
        return True

    def _take(self, n: int) -> bytes | None:
        """Exactly n bytes, or None at a clean end; raises if the stream stops midway."""
        while len(self._buf) - self._pos < n:
            if not self._refill():
                if len(self._buf) == self._pos:
                    return None
                raise _bad("unexpected end of archive (truncated?)")
        start = self._pos
        self._pos = start + n
        return self._buf[start:start + n]

    def _discard(self, n: int) -> None:
        while n:
            avail = len(self._buf) - self._pos
            if not avail:
                if not self._refill():
                    raise _bad("unexpected end of archive (truncated?)")
                continue
            step = min(avail, n)
            self._pos += step
            n -= step

    def _data(self, n: int):
        """Yield memoryview slices covering the next n bytes of the stream."""
        while n:
            avail = len(self._buf) - self._pos
            if not avail:
                if not self._refill():
                    raise _bad("unexpected end of archive (truncated?)")
                continue
            step = min(avail, n)
            start = self._pos
            self._pos = start + step
            n -= step
            yield self._mv[start:start + step]

    def drain(self) -> None:
        """Read (and hash) the rest of the stream: the diff ID covers all of it."""
        self._pos = len(self._buf)
        while self._refill():
            self._pos = len(self._buf)

    # -- entry data ------------------------------------------------------------------
    def write_data(self, entry: Entry, fd: int) -> None:
        """Write the current entry's data to `fd` (holes left for sparse files)."""
        if entry.size > self._skip:
            raise _bad("data already consumed")
        if entry.sparse is None:
            for piece in self._data(entry.size):
                _write_all(fd, piece)
        else:
            used = 0
            for offset, length in entry.sparse:
                os.lseek(fd, offset, os.SEEK_SET)
                for piece in self._data(length):
                    _write_all(fd, piece)
                used += length
            self._discard(entry.size - used)
            os.ftruncate(fd, entry.real_size)
        self._skip -= entry.size

    def iter_data(self, entry: Entry):
        """The current entry's file content as it would be on disk, in pieces
        (memoryviews valid until the next piece; holes of sparse files as zeros),
        for readers that stream a file out of a layer without extracting it."""
        if entry.size > self._skip:
            raise _bad("data already consumed")
        if entry.sparse is None:
            yield from self._data(entry.size)
        else:
            at = used = 0
            for offset, length in entry.sparse:
                while at < offset:
                    step = min(offset - at, READ_CHUNK)
                    yield memoryview(bytes(step))
                    at += step
                yield from self._data(length)
                at += length
                used += length
            self._discard(entry.size - used)
            while at < entry.real_size:
                step = min(entry.real_size - at, READ_CHUNK)
                yield memoryview(bytes(step))
                at += step
        self._skip -= entry.size

    def read_data(self, size: int, what: str) -> bytes:
        if size > self._limits.max_pax_header_bytes:
            raise UnsafeArchive(f"{what} of {size} bytes exceeds the cap of "
                                f"{self._limits.max_pax_header_bytes}")
        data = self._take(size)
        if data is None:
            raise _bad("unexpected end of archive (truncated?)")
        self._discard((-size) % BLOCK)
        return data

    # -- headers ---------------------------------------------------------------------
    def next(self) -> Entry | None:
        """The next file entry (PAX/GNU meta entries folded in), None at the end."""
        if self._skip:
            self._discard(self._skip)
            self._skip = 0
        pax: dict[bytes, bytes] = {}
        longname = longlink = None
        while True:
            block = self._take(BLOCK)
            if block is None or block == ZERO_BLOCK:
                if pax or longname is not None or longlink is not None:
                    raise _bad("extended header without an entry")
                return None
            self.entries += 1
            if self.entries > self._limits.max_entries:
                raise UnsafeArchive(f"layer has more than {self._limits.max_entries} entries")
            _check_sum(block)
            type_ = block[156:157]
            size = _num(block[124:136], "size")
            if size < 0:
                raise _bad("negative size")
            if type_ == PAX:
                pax.update(_pax_records(self.read_data(size, "PAX header")))
                continue
            if type_ == GPAX:
                self._global.update(_pax_records(self.read_data(size, "PAX global header")))
                continue
            if type_ == GNU_LONGNAME:
                longname = self.read_data(size, "GNU long name").rstrip(b"\0")
                continue
            if type_ == GNU_LONGLINK:
                longlink = self.read_data(size, "GNU long link name").rstrip(b"\0")
                continue
            return self._entry(block, type_, size, {**self._global, **pax} if self._global else pax,
                               longname, longlink)

    def _entry(self, block: bytes, type_: bytes, size: int, pax: dict[bytes, bytes],
               longname: bytes | None, longlink: bytes | None) -> Entry:
        magic = block[257:263]
        name = block[0:100].split(b"\0", 1)[0]
        if magic == b"ustar\x00":  # POSIX: a prefix field extends the name
            prefix = block[345:500].split(b"\0", 1)[0]
            if prefix:
                name = prefix + b"/" + name
        if longname is not None:
            name = longname
        linkname = longlink if longlink is not None else block[157:257].split(b"\0", 1)[0]
        mtime_ns = _num(block[136:148], "mtime") * 1_000_000_000
        entry = Entry(name=name, type=type_, mode=_num(block[100:108], "mode"),
                      uid=_num(block[108:116], "uid"), gid=_num(block[116:124], "gid"),
                      size=size, mtime_ns=mtime_ns, atime_ns=mtime_ns, linkname=linkname)
        if type_ in (CHR, BLK):
            entry.devmajor = _num(block[329:337], "devmajor")
            entry.devminor = _num(block[337:345], "devminor")
        if pax:
            self._apply_pax(entry, pax)
        if type_ == AREG and entry.name.endswith(b"/"):
            entry.type = DIR  # old tars mark directories by a trailing slash only
        if entry.type in HEADER_ONLY:
            entry.size = 0    # as Go and tarfile do: these never carry data
        self._skip = entry.size + (-entry.size) % BLOCK
        if type_ == GNU_SPARSE:
            self._gnu_sparse(entry, block)
        elif pax and (b"GNU.sparse.major" in pax or b"GNU.sparse.map" in pax):
            self._pax_sparse(entry, pax)
        limit = self._limits.max_path_length
        if len(entry.name) > limit or len(entry.linkname) > limit:
            raise UnsafeArchive(f"layer entry name longer than {limit} bytes")
        return entry

    def _apply_pax(self, entry: Entry, pax: dict[bytes, bytes]) -> None:
        for key, value in pax.items():
            try:
                if key == b"path":
                    entry.name = value
                elif key == b"linkpath":
                    entry.linkname = value
                elif key == b"size":
                    entry.size = int(value)
                elif key == b"uid":
                    entry.uid = int(value)
                elif key == b"gid":
                    entry.gid = int(value)
                elif key == b"mtime":
                    entry.mtime_ns = _pax_time_ns(value)
                elif key == b"atime":
                    entry.atime_ns = _pax_time_ns(value)
                elif key.startswith(b"SCHILY.xattr."):
                    entry.xattrs[key[13:]] = value
            except ValueError:
                raise _bad(f"bad PAX value for {key.decode(errors='replace')}") from None
        if entry.size < 0 or entry.uid < 0 or entry.gid < 0:
            raise _bad("negative PAX value")
        if b"atime" not in pax:
            entry.atime_ns = entry.mtime_ns

    # -- sparse files ----------------------------------------------------------------
    def _check_regions(self, regions: list[tuple[int, int]], real_size: int) -> None:
        if len(regions) > self._limits.max_sparse_regions:
            raise UnsafeArchive("sparse file has too many regions")
        end = 0
        for offset, length in regions:
            if offset < end or length < 0 or offset + length > real_size:
                raise _bad("bad sparse map")
            end = offset + length

    def _gnu_sparse(self, entry: Entry, block: bytes) -> None:
        """Old GNU 'S' entries: 4 regions in the header, more in extension blocks."""
        regions = []
        area, extended = block[386:482], block[482]
        entry.real_size = _num(block[483:495], "realsize")
        while True:
            for i in range(0, len(area), 24):
                if area[i] == 0:
                    break
                regions.append((_num(area[i:i + 12], "sparse"), _num(area[i + 12:i + 24], "sparse")))
            if not extended:
                break
            if len(regions) > self._limits.max_sparse_regions:
                raise UnsafeArchive("sparse file has too many regions")
            ext = self._take(BLOCK)
            if ext is None:
                raise _bad("unexpected end of archive (truncated?)")
            area, extended = ext[:504], ext[504]
        self._check_regions(regions, entry.real_size)
        entry.sparse = regions
        entry.type = REG

    def _pax_sparse(self, entry: Entry, pax: dict[bytes, bytes]) -> None:
        """PAX sparse formats 0.1 (map in a record) and 1.0 (map ahead of the data)."""
        try:
            entry.real_size = int(pax.get(b"GNU.sparse.realsize") or pax.get(b"GNU.sparse.size") or 0)
            if b"GNU.sparse.name" in pax:
                entry.name = pax[b"GNU.sparse.name"]
            if pax.get(b"GNU.sparse.major") == b"1":
                regions, used = self._sparse_map_in_data(entry.size)
                entry.size -= used
                self._skip -= used
            else:
                nums = [int(x) for x in pax.get(b"GNU.sparse.map", b"").split(b",") if x]
                if len(nums) % 2:
                    raise _bad("bad sparse map")
                regions = list(zip(nums[0::2], nums[1::2]))
        except ValueError:
            raise _bad("bad sparse map") from None
        self._check_regions(regions, entry.real_size)
        entry.sparse = regions

    def _sparse_map_in_data(self, size: int) -> tuple[list[tuple[int, int]], int]:
        """Parse the 1.0 map (decimal lines, block padded) at the start of the data."""
        text = b""
        used = 0
        values: list[int] = []
        count = None
        while count is None or len(values) < 2 * count:
            if used + BLOCK > size:
                raise _bad("bad sparse map")
            block = self._take(BLOCK)
            if block is None:
                raise _bad("unexpected end of archive (truncated?)")
            used += BLOCK
            text += block
            lines = text.split(b"\n")
            text = lines.pop()
            for line in lines:
                if count is None:
                    count = int(line)
                    if count > self._limits.max_sparse_regions or count < 0:
                        raise UnsafeArchive("sparse file has too many regions")
                else:
                    values.append(int(line))
                if count is not None and len(values) >= 2 * count:
                    break
        return list(zip(values[0::2], values[1::2])), used


def _check_sum(block: bytes) -> None:
    stored = _num(block[148:156], "checksum")
    unsigned = sum(block) - sum(block[148:156]) + 8 * 32
    if stored == unsigned:
        return
    signed = unsigned - 256 * sum(1 for b in block if b > 127) + 256 * sum(1 for b in block[148:156] if b > 127)
    if stored != signed:
        raise _bad("header checksum mismatch")


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]
