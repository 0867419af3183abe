"""Fixtures for store concurrency tests: a store root shared by several processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest


@pytest.fixture
def mp():
    """Fork: children start at once and inherit the test's imports."""
    return multiprocessing.get_context("fork")


@pytest.fixture
def shared_root(tmp_path: Path) -> str:
    return str(tmp_path)
