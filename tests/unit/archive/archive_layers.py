"""Helpers for archive tests: crafted layers built with tarfile, and the breakout oracle.

The oracle is containers/storage's `testBreakout`: a `dest` and a `victim/hello` side by
side; after applying a hostile layer to `dest`, nothing outside `dest` changed and no
file under `dest` holds hello's bytes.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

HELLO = b"hello from the victim directory, do not touch\n"


@dataclass
class E:
    """One crafted tar entry."""

    name: str
    type: bytes = tarfile.REGTYPE
    data: bytes = b""
    link: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: float = 1_600_000_000
    pax: dict[str, str] = field(default_factory=dict)
    devmajor: int = 0
    devminor: int = 0
    size: int | None = None  # override the header size (e.g. non-empty whiteouts)


def D(name: str, mode: int = 0o755, **kw) -> E:
    return E(name, tarfile.DIRTYPE, mode=mode, **kw)


def S(name: str, target: str, **kw) -> E:
    return E(name, tarfile.SYMTYPE, link=target, mode=0o777, **kw)


def H(name: str, target: str, **kw) -> E:
    return E(name, tarfile.LNKTYPE, link=target, **kw)


def F(name: str, data: bytes = b"", **kw) -> E:
    return E(name, tarfile.REGTYPE, data=data, **kw)


def make_tar(entries: list[E], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8",
                      errors="surrogateescape") as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type = e.type
            info.linkname = e.link
            info.mode = e.mode
            info.uid, info.gid = e.uid, e.gid
            info.mtime = e.mtime
            info.devmajor, info.devminor = e.devmajor, e.devminor
            info.pax_headers = dict(e.pax)
            info.size = len(e.data) if e.size is None else e.size
            data = e.data if e.size is None else e.data.ljust(e.size, b"x")
            tar.addfile(info, io.BytesIO(data) if info.size else None)
    return buf.getvalue()


def snapshot(root: Path, skip: Path) -> dict[str, tuple]:
    """Everything under root (not following symlinks), except the subtree `skip`."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == skip or skip in Path(dirpath).parents:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p == skip:
                continue
            st = p.lstat()
            content = p.read_bytes() if stat.S_ISREG(st.st_mode) else None
            out[str(p)] = (stat.S_IFMT(st.st_mode), st.st_mode, st.st_size, content)
    return out


@dataclass
class Breakout:
    tmp: Path
    dest: Path
    victim: Path

    def assert_contained(self, before: dict) -> None:
        assert snapshot(self.tmp, self.dest) == before, "something outside dest changed"
        assert sorted(os.listdir(self.victim)) == ["hello"]
        assert (self.victim / "hello").read_bytes() == HELLO
        for dirpath, _, filenames in os.walk(self.dest):
            for name in filenames:
                p = Path(dirpath) / name
                if p.is_file() and not p.is_symlink():
                    assert p.read_bytes() != HELLO, f"{p} holds the victim's bytes"


