"""Fixtures for archive tests; the crafted-layer helpers are in archive_layers.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from archive_layers import HELLO, Breakout

from engine.runtime.syscalls import SYSCALLS


@pytest.fixture(params=["openat2", "walk"])
def resolver(request, monkeypatch) -> str:
    """Run a test with the kernel's RESOLVE_IN_ROOT and with the hand-made walk."""
    if request.param == "walk":
        monkeypatch.setattr(SYSCALLS, "has_openat2", False)
    elif not SYSCALLS.has_openat2:
        pytest.skip("openat2 is not available here")
    return request.param


@pytest.fixture
def breakout(tmp_path: Path) -> Breakout:
    dest = tmp_path / "dest"
    victim = tmp_path / "victim"
    dest.mkdir()
    victim.mkdir()
    (victim / "hello").write_bytes(HELLO)
    return Breakout(tmp_path, dest, victim)
