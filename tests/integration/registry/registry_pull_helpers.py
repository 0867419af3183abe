"""Helpers for registry integration tests: a Store in a temp root and a layer applier.

Until engine/archive/extract.py lands, `apply_layer` falls back to a minimal
tarfile-based twin (trusted test input only) so pull/push can be tested end to end.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from engine.config import EngineConfig


@dataclass(frozen=True)
class FakeApplyResult:
    diff_id: str
    size: int


class _Hashing(io.RawIOBase):
    def __init__(self, raw):
        self.raw, self.hash, self.size = raw, hashlib.sha256(), 0

    def readable(self):
        return True

    def readinto(self, buf):
        data = self.raw.read(len(buf))
        self.hash.update(data)
        self.size += len(data)
        buf[: len(data)] = data
        return len(data)


def fake_apply_layer(stream, dest: Path) -> FakeApplyResult:
    head = stream.read(2)
    stream.seek(0)
    raw = gzip.GzipFile(fileobj=stream) if head == b"\x1f\x8b" else stream
    hashing = _Hashing(raw)
    with tarfile.open(fileobj=io.BufferedReader(hashing), mode="r|") as tar:
        tar.extractall(dest)  # trusted, generated test input
    while hashing.read(1 << 16):
        pass
    return FakeApplyResult("sha256:" + hashing.hash.hexdigest(), hashing.size)


try:
    from engine.archive.extract import apply_layer  # noqa: F401
except ImportError:
    apply_layer = fake_apply_layer


def make_cfg(root: Path, registries_conf: Path | None = None) -> EngineConfig:
    return EngineConfig(root=root / "root", runroot=root / "run", rootless=False,
                        registries_conf=registries_conf or (root / "no-registries.conf"),
                        authfile=root / "auth.json")


def open_store(cfg: EngineConfig):
    from engine.store import Store

    return Store.open(cfg)
