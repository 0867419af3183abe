"""Fixtures for archive transport tests: fresh stores.

Until engine/archive/extract.py exists, `apply_layer` is stood in for by a
twin that only hashes the (decompressed) stream: enough to test the readers'
diff_id checks; the integration tests use the real one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.store import Store
from tests.unit.transports.helpers import make_store


def _install_hashing_apply_layer() -> None:
    if "engine.archive.extract" in sys.modules or importlib.util.find_spec("engine.archive.extract") is not None:
        return
    from engine.archive.compression import open_decompressed

    class ApplyResult:
        def __init__(self, diff_id: str, size: int) -> None:
            self.diff_id, self.size = diff_id, size

    def apply_layer(stream, dest, limits=None):
        h, n, r = hashlib.sha256(), 0, open_decompressed(stream)
        while chunk := r.read(1 << 20):
            h.update(chunk)
            n += len(chunk)
        return ApplyResult("sha256:" + h.hexdigest(), n)

    mod = types.ModuleType("engine.archive.extract")
    mod.apply_layer = apply_layer  # type: ignore[attr-defined]
    sys.modules["engine.archive.extract"] = mod


_install_hashing_apply_layer()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = make_store(tmp_path / "a")
    yield s
    s.close()


@pytest.fixture
def other_store(tmp_path: Path) -> Iterator[Store]:
    s = make_store(tmp_path / "b")
    yield s
    s.close()


