"""Writing an image archive's outer tar: deterministic headers, streamed content.

Works on a pipe (stdout) as well as a file: members are written in stream mode
with their sizes known up front (blob sizes, or a spool file's size for a layer
that has to be decompressed first).  Headers are fixed (root-owned, mtime 0)
so the same images always give the same archive bytes.
"""

from __future__ import annotations

import io
import os
import tarfile
from typing import BinaryIO

from engine.errors import StorageError
from engine.transports.source import CHUNK


class _Count:
    """Copies exactly `size` bytes or complains (a blob changed under us)."""

    def __init__(self, src: BinaryIO, size: int, name: str) -> None:
        self._src = src
        self._left = size
        self._name = name

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._src.read(min(n if n >= 0 else CHUNK, self._left, CHUNK))
        if not data:
            raise StorageError(f"{self._name} is shorter than expected")
        self._left -= len(data)
        return data


class TarOut:
    def __init__(self, out: BinaryIO) -> None:
        self._tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)
        self._dirs: set[str] = set()
        self._names: set[str] = set()

    def _info(self, name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def _parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self._dirs:
                self._dirs.add(d)
                self._tar.addfile(self._info(d + "/", tarfile.DIRTYPE, 0o755))

    def has(self, name: str) -> bool:
        return name in self._names

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self.add_stream(name, io.BytesIO(data), len(data), mode)

    def add_stream(self, name: str, src: BinaryIO, size: int, mode: int = 0o644) -> None:
        if name in self._names:
            return  # the same content (named by digest) is written once
        self._parents(name)
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = size
        self._tar.addfile(info, _Count(src, size, name))  # type: ignore[arg-type]
        self._names.add(name)

    def add_file(self, name: str, path: str, mode: int = 0o644) -> None:
        with open(path, "rb") as f:
            self.add_stream(name, f, os.fstat(f.fileno()).st_size, mode)

    def add_symlink(self, name: str, target: str) -> None:
        if name in self._names:
            return
        self._parents(name)
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self._tar.addfile(info)
        self._names.add(name)

    def close(self) -> None:
        self._tar.close()
