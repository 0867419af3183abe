"""Reading an image archive (a tar, or a directory) member by member, safely.

Nothing here extracts to disk.  A tar is indexed once (headers only) and its
members are streamed on demand; names are normalised and refused when they are
absolute or climb with `..`; symlinks between members (`<id>/layer.tar ->
../<diffid>.tar` in `docker save` archives) are followed inside the archive only;
small documents are read with a size cap; a truncated tar is refused up front.
A non-seekable input (stdin) or a compressed one is first spooled into the
store's tmp directory.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO

from engine.errors import InvalidArgument, NotFound, UnsafeArchive

CHUNK = 1 << 20
_MAX_LINK_HOPS = 16
# The whole archive once decompressed (same bound as one layer's stream).
MAX_SPOOL = 64 << 30


def _clean_name(name: str) -> str:
    """Archive-root-relative normal form; refuses escapes."""
    if "\x00" in name:
        raise UnsafeArchive(f"archive member name {name!r} contains a NUL byte")
    if name.startswith("/"):
        raise UnsafeArchive(f"archive member {name!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"archive member {name!r} climbs out of the archive")
    return "/".join(parts)


class MemberMissing(UnsafeArchive):
    """The archive has no such member (as opposed to one that is unsafe)."""


class ArchiveSource:
    """What the format readers need: exists, read (capped), open (stream), size."""

    label = "archive"

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def size(self, name: str) -> int:
        raise NotImplementedError

    def open(self, name: str) -> BinaryIO:
        raise NotImplementedError

    def read(self, name: str, cap: int) -> bytes:
        if self.size(name) > cap:
            raise UnsafeArchive(f"{name} in the {self.label} is larger than the {cap} byte limit")
        with self.open(name) as f:
            data = f.read(cap + 1)
        if len(data) > cap:
            raise UnsafeArchive(f"{name} in the {self.label} is larger than the {cap} byte limit")
        return data

    def close(self) -> None:
        pass

    def __enter__(self) -> "ArchiveSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Checked:
    """A member stream that turns tarfile's truncation errors into UnsafeArchive."""

    def __init__(self, raw: BinaryIO, name: str, expected: int) -> None:
        self._raw = raw
        self._name = name
        self._left = expected

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._raw.read(n)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise UnsafeArchive(f"archive is truncated or corrupt while reading {self._name}: {exc}") from None
        self._left -= len(data)
        if not data and self._left > 0:
            raise UnsafeArchive(f"archive is truncated: {self._name} ends early")
        return data

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> "_Checked":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TarSource(ArchiveSource):
    """A seekable, uncompressed tar file, indexed by normalised member name."""

    label = "archive"

    def __init__(self, fileobj: BinaryIO, owned_path: str | None = None) -> None:
        self._file = fileobj
        self._owned = owned_path  # a spool file to delete on close
        try:
            self._tar = tarfile.open(fileobj=fileobj, mode="r:")
            members = self._tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as exc:
            self.close()
            if "unexpected end" in str(exc):
                raise UnsafeArchive(f"archive is truncated: {exc}") from None
            raise UnsafeArchive(f"not a readable tar archive: {exc}") from None
        total = os.fstat(fileobj.fileno()).st_size if hasattr(fileobj, "fileno") else None
        self._check_complete(members, total)
        self.members: dict[str, tarfile.TarInfo] = {}
        for m in members:
            name = _clean_name(m.name)
            if not name:
                continue
            if name in self.members and not (m.isdir() and self.members[name].isdir()):
                self.close()
                raise UnsafeArchive(f"archive has two entries named {name}")
            self.members[name] = m

    def _check_complete(self, members: list[tarfile.TarInfo], total: int | None) -> None:
        """Refuse a tar cut short: data past the end, or no end-of-archive block."""
        if total is None:
            return
        end = self._tar.offset
        for m in members:
            if m.isreg() and m.offset_data + m.size > total:
                self.close()
                raise UnsafeArchive(f"archive is truncated: {m.name} ends past the end of the file")
        self._file.seek(end)
        block = self._file.read(512)
        if len(block) < 512 or block.strip(b"\0"):
            self.close()
            raise UnsafeArchive("archive is truncated: no end-of-archive marker")

    def _resolve(self, name: str) -> tarfile.TarInfo:
        name = _clean_name(name)
        for _ in range(_MAX_LINK_HOPS):
            m = self.members.get(name)
            if m is None:
                raise MemberMissing(f"archive has no {name}")
            if m.issym():
                target = posixpath.join(posixpath.dirname(name), m.linkname)
                if m.linkname.startswith("/"):
                    raise UnsafeArchive(f"archive member {name} links outside the archive")
                name = _clean_name(posixpath.normpath(target))
                continue
            if m.islnk():
                name = _clean_name(m.linkname)
                continue
            if not m.isreg():
                raise UnsafeArchive(f"archive member {name} is not a regular file")
            return m
        raise UnsafeArchive(f"archive member {name} is a link loop")

    def exists(self, name: str) -> bool:
        try:
            self._resolve(name)
            return True
        except MemberMissing:
            return False

    def size(self, name: str) -> int:
        return self._resolve(name).size

    def open(self, name: str) -> BinaryIO:
        m = self._resolve(name)
        raw = self._tar.extractfile(m)
        if raw is None:
            raise UnsafeArchive(f"archive member {name} is not a regular file")
        return _Checked(raw, name, m.size)  # type: ignore[return-value]

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            if self._owned:
                try:
                    os.unlink(self._owned)
                except FileNotFoundError:
                    pass
                self._owned = None


class DirSource(ArchiveSource):
    """An OCI layout directory."""

    label = "directory"

    def __init__(self, path: Path) -> None:
        self.root = Path(path)

    def _path(self, name: str) -> Path:
        return self.root / _clean_name(name)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def size(self, name: str) -> int:
        try:
            st = os.stat(self._path(name))
        except FileNotFoundError:
            raise MemberMissing(f"{self.root} has no {name}") from None
        return st.st_size

    def open(self, name: str) -> BinaryIO:
        try:
            return open(self._path(name), "rb")
        except FileNotFoundError:
            raise MemberMissing(f"{self.root} has no {name}") from None
        except OSError as exc:
            raise InvalidArgument(f"cannot read {self._path(name)}: {exc.strerror}") from None


def _spool(stream, tmp_dir: Path) -> tuple[BinaryIO, str]:
    """Copy a (decompressed) stream into a private temp file, rewound."""
    fd, path = tempfile.mkstemp(prefix="archive-", dir=tmp_dir)
    out = os.fdopen(fd, "w+b")
    copied = 0
    try:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            copied += len(chunk)
            if copied > MAX_SPOOL:
                raise UnsafeArchive(f"archive is larger than the {MAX_SPOOL} byte limit")
            out.write(chunk)
        out.seek(0)
    except BaseException as exc:
        out.close()
        os.unlink(path)
        if isinstance(exc, (OSError, EOFError)):
            raise UnsafeArchive(f"archive is truncated or corrupt: {exc}") from None
        raise
    return out, path


def open_source(path_or_stream, tmp_dir: Path) -> ArchiveSource:
    """A directory (OCI layout) or a tar file/stream, compressed or not.

    A plain seekable tar is read in place; stdin or a gzip/zstd tar is first
    decompressed (with the bomb caps of engine.archive) into a spool file.
    """
    from engine.archive.compression import open_decompressed, sniff

    opened = False
    if isinstance(path_or_stream, (str, os.PathLike)):
        path = Path(path_or_stream)
        if path.is_dir():
            return DirSource(path)
        try:
            stream: BinaryIO = open(path, "rb")
        except FileNotFoundError:
            raise NotFound(f"{path}: no such file or directory") from None
        except OSError as exc:
            raise InvalidArgument(f"cannot open {path}: {exc.strerror}") from None
        opened = True
    else:
        stream = path_or_stream
    try:
        seekable = bool(stream.seekable())
    except (AttributeError, OSError):
        seekable = False
    if seekable:
        pos = stream.tell()
        head = stream.read(8)
        stream.seek(pos)
        if sniff(head) == "none":
            return TarSource(stream)
    try:
        spooled, owned = _spool(open_decompressed(stream), tmp_dir)
    finally:
        if opened:
            stream.close()
    return TarSource(spooled, owned)


def copy_stream(src: BinaryIO, dst: BinaryIO) -> None:
    shutil.copyfileobj(src, dst, CHUNK)
